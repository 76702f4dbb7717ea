import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { NativeFloat } from '../native/types.js';
import {
  checkFiniteValues,
  checkFloat,
  chooseBackend,
  finiteNumber,
  fromNative,
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

function result<T extends FloatTensor>(value: NativeFloat, out: T | undefined): T {
  return (out ?? fromNative(value)) as T;
}

function call<T extends FloatTensor>(op: string, out: T | undefined, run: () => NativeFloat): T {
  try {
    return result(run(), out);
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

async function callAsync<T extends FloatTensor>(op: string, out: T | undefined, run: () => Promise<NativeFloat>): Promise<T> {
  try {
    return result(await run(), out);
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

/** S = scale * A . B^T, A: [n, d], B: [m, d] -> S: [n, m] (row-major). */
export function similaritySync<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): T {
  const args = prepareSimilarity(a, b, options);
  return call('similarity', options.out, () => addon().similarity(...args, false) as NativeFloat);
}

/** S = scale * A . B^T, off the event loop. */
export function similarity<T extends FloatTensor>(a: T, b: T, options: SimilarityOptions<T>): Promise<T> {
  const args = prepareSimilarity(a, b, options);
  return callAsync('similarity', options.out, () => addon().similarity(...args, true) as Promise<NativeFloat>);
}

/** y_i = x_i / max(||x_i||, 1e-12): zero rows stay zero (as torch.nn.functional.normalize). */
export function l2NormalizeSync<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): T {
  const { rows, dim, backend } = prepareNormalize(x, options);
  return call('l2Normalize', options.out, () => addon().l2Normalize(toNative(x)!, rows, dim, toNative(options.out), backend, false) as NativeFloat);
}

export function l2Normalize<T extends FloatTensor>(x: T, options: L2NormalizeOptions<T>): Promise<T> {
  const { rows, dim, backend } = prepareNormalize(x, options);
  return callAsync('l2Normalize', options.out, () => addon().l2Normalize(toNative(x)!, rows, dim, toNative(options.out), backend, true) as Promise<NativeFloat>);
}

/**
 * Gradient of l2Normalize: dx_i = (g_i - y_i (y_i . g_i)) / ||x_i||, or g_i / 1e-12 for rows
 * whose norm is below 1e-12 (where the forward map is linear).
 */
export function l2NormalizeBackwardSync<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): T {
  const { rows, dim, backend } = prepareNormalize(x, options, grad);
  return call('l2NormalizeBackward', options.out, () =>
    addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, rows, dim, toNative(options.out), backend, false) as NativeFloat);
}

export function l2NormalizeBackward<T extends FloatTensor>(x: T, grad: T, options: L2NormalizeOptions<T>): Promise<T> {
  const { rows, dim, backend } = prepareNormalize(x, options, grad);
  return callAsync('l2NormalizeBackward', options.out, () =>
    addon().l2NormalizeBackward(toNative(x)!, toNative(grad)!, rows, dim, toNative(options.out), backend, true) as Promise<NativeFloat>);
}
