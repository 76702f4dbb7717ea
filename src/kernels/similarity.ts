import { addon } from '../native/addon.js';
import type { NativeFloat, NativeL2NormalizeOptions, NativeSimilarityOptions } from '../native/types.js';
import {
  checkFiniteValues,
  optionsObject,
  checkFloat,
  chooseBackend,
  float32Number,
  floatResult,
  floatResultAsync,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';

/**
 * The similarity op family: S = scale * A . B^T and row-wise L2 normalisation (forward and
 * backward). Host Float32Arrays in give Float32Arrays out; DeviceTensors in give DeviceTensors
 * out. The Promise forms run off the event loop; the *Sync forms block (use them for small
 * inputs). Pass `out` to write into an existing buffer.
 */
export interface SimilarityOptions<T extends FloatTensor> extends KernelCallOptions {
  /** Rows of a. */
  n: number;
  /** Rows of b. */
  m: number;
  /** Columns of a and b. */
  d: number;
  /** Multiplier applied to every dot product (default 1). */
  scale?: number;
  /** [n, m] destination. */
  out?: T;
}

export interface L2NormalizeOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  dim: number;
  out?: T;
}

function prepareSimilarity<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>, async: boolean): NativeSimilarityOptions {
  optionsObject(options, 'similarity');
  const n = positiveSize(options.n, 'n');
  const m = positiveSize(options.m, 'm');
  const d = positiveSize(options.d, 'd');
  const scale = float32Number(options.scale ?? 1, 'scale');
  checkFloat(a, 'a', [n, d], '[n, d]');
  checkFloat(b, 'b', [m, d], '[m, d]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [n, m], '[n, m]');
  if (options.checkFinite !== false) {
    checkFiniteValues(a, 'a');
    checkFiniteValues(b, 'b');
  }
  const backend = chooseBackend(options.out ? [a, b, options.out] : [a, b], options);
  return { n, m, d, scale, out: toNative(options.out), backend, async };
}

function prepareNormalize<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>, async: boolean, grad?: T): NativeL2NormalizeOptions {
  optionsObject(options, grad === undefined ? 'l2Normalize' : 'l2NormalizeBackward');
  const rows = positiveSize(options.rows, 'rows');
  const dim = positiveSize(options.dim, 'dim');
  checkFloat(x, 'x', [rows, dim], '[rows, dim]');
  if (grad !== undefined) checkFloat(grad, 'grad', [rows, dim], '[rows, dim]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [rows, dim], '[rows, dim]');
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    if (grad !== undefined) checkFiniteValues(grad, 'grad');
  }
  const operands = [x, ...(grad ? [grad] : []), ...(options.out ? [options.out] : [])];
  return { rows, dim, out: toNative(options.out), backend: chooseBackend(operands, options), async };
}

/** S = scale * A . B^T, A: [n, d], B: [m, d] -> S: [n, m] (row-major). */
export function similaritySync<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): T {
  const native = prepareSimilarity(a, b, options, false);
  return floatResult('similarity', options, () => addon().similarity(toNative(a)!, toNative(b)!, native) as NativeFloat);
}

/** S = scale * A . B^T, off the event loop. */
export async function similarity<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): Promise<T> {
  const native = prepareSimilarity(a, b, options, true);
  return floatResultAsync('similarity', options, () => addon().similarity(toNative(a)!, toNative(b)!, native) as Promise<NativeFloat>);
}

/** y_i = x_i / max(||x_i||, 1e-12): zero rows stay zero (as torch.nn.functional.normalize). */
export function l2NormalizeSync<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): T {
  const native = prepareNormalize(x, options, false);
  return floatResult('l2Normalize', options, () => addon().l2Normalize(toNative(x)!, native) as NativeFloat);
}

export async function l2Normalize<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): Promise<T> {
  const native = prepareNormalize(x, options, true);
  return floatResultAsync('l2Normalize', options, () => addon().l2Normalize(toNative(x)!, native) as Promise<NativeFloat>);
}

/**
 * Gradient of l2Normalize: dx_i = (g_i - y_i (y_i . g_i)) / ||x_i||, or g_i / 1e-12 for rows
 * whose norm is below 1e-12 (where the forward map is linear).
 */
export function l2NormalizeBackwardSync<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): T {
  const native = prepareNormalize(x, options, false, grad);
  return floatResult(
    'l2NormalizeBackward',
    options,
    () => addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, native) as NativeFloat,
  );
}

export async function l2NormalizeBackward<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): Promise<T> {
  const native = prepareNormalize(x, options, true, grad);
  return floatResultAsync(
    'l2NormalizeBackward',
    options,
    () => addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, native) as Promise<NativeFloat>,
  );
}
