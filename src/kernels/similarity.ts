import { addon } from '../native/addon.js';
import type { NativeFloat } from '../native/types.js';
import {
  checkFiniteValues,
  optionsObject,
  checkFloat,
  chooseBackend,
  finiteNumber,
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

function prepareSimilarity<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>) {
  optionsObject(options, 'similarity');
  const n = positiveSize(options.n, 'n');
  const m = positiveSize(options.m, 'm');
  const d = positiveSize(options.d, 'd');
  const scale = finiteNumber(options.scale ?? 1, 'scale');
  checkFloat(a, 'a', [n, d], '[n, d]');
  checkFloat(b, 'b', [m, d], '[m, d]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [n, m], '[n, m]');
  if (options.checkFinite !== false) {
    checkFiniteValues(a, 'a');
    checkFiniteValues(b, 'b');
  }
  const backend = chooseBackend(options.out ? [a, b, options.out] : [a, b], options);
  return [toNative(a)!, toNative(b)!, n, m, d, scale, toNative(options.out), backend] as const;
}

function prepareNormalize<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>, grad?: T) {
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
  return { rows, dim, backend: chooseBackend(operands, options) };
}

/** S = scale * A . B^T, A: [n, d], B: [m, d] -> S: [n, m] (row-major). */
export function similaritySync<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): T {
  const args = prepareSimilarity(a, b, options);
  return floatResult('similarity', options, () => addon().similarity(...args, false) as NativeFloat);
}

/** S = scale * A . B^T, off the event loop. */
export async function similarity<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): Promise<T> {
  const args = prepareSimilarity(a, b, options);
  return floatResultAsync('similarity', options, () => addon().similarity(...args, true) as Promise<NativeFloat>);
}

/** y_i = x_i / max(||x_i||, 1e-12): zero rows stay zero (as torch.nn.functional.normalize). */
export function l2NormalizeSync<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): T {
  const { rows, dim, backend } = prepareNormalize(x, options);
  return floatResult('l2Normalize', options, () => addon().l2Normalize(toNative(x)!, rows, dim, toNative(options.out), backend, false) as NativeFloat);
}

export async function l2Normalize<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): Promise<T> {
  const { rows, dim, backend } = prepareNormalize(x, options);
  return floatResultAsync('l2Normalize', options, () => addon().l2Normalize(toNative(x)!, rows, dim, toNative(options.out), backend, true) as Promise<NativeFloat>);
}

/**
 * Gradient of l2Normalize: dx_i = (g_i - y_i (y_i . g_i)) / ||x_i||, or g_i / 1e-12 for rows
 * whose norm is below 1e-12 (where the forward map is linear).
 */
export function l2NormalizeBackwardSync<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): T {
  const { rows, dim, backend } = prepareNormalize(x, options, grad);
  return floatResult('l2NormalizeBackward', options, () =>
    addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, rows, dim, toNative(options.out), backend, false) as NativeFloat);
}

export async function l2NormalizeBackward<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): Promise<T> {
  const { rows, dim, backend } = prepareNormalize(x, options, grad);
  return floatResultAsync('l2NormalizeBackward', options, () =>
    addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, rows, dim, toNative(options.out), backend, true) as Promise<NativeFloat>);
}
