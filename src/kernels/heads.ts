import { InvalidArgumentError } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { NativeElementwiseOptions, NativeFloat, NativeLinearBackwardOptions, NativeLinearForwardOptions } from '../native/types.js';
import {
  checkFiniteResult,
  checkFiniteValues,
  checkFloat,
  chooseBackend,
  floatResult,
  floatResultAsync,
  optionsObject,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor } from './tensor.js';

/**
 * Dense layers for trainable heads: a linear layer Y = X . W^T + b (W: [out, in], PyTorch's
 * nn.Linear layout) with its backward pass, and the exact (erf) GELU. The head objects built
 * from them (one flat parameter buffer) are in flat-heads.ts.
 */
export interface LinearShape {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

export interface LinearForwardOptions<T extends FloatTensor> extends LinearShape, KernelCallOptions {
  /** [rows, outFeatures] destination. */
  out?: T;
}

export interface LinearBackwardOptions<T extends FloatTensor> extends LinearShape, KernelCallOptions {
  /** [rows, inFeatures]: buffer for dX, or true to allocate one; omitted = not computed. */
  dx?: T | true;
  /** [outFeatures, inFeatures]: buffer for dW, or true to allocate. */
  dw?: T | true;
  /** [outFeatures]: buffer for db, or true to allocate. */
  db?: T | true;
  /** Add dW and db to the buffers' contents instead of overwriting (gradient accumulation). */
  accumulate?: boolean;
}

export interface LinearGradients<T extends FloatTensor> {
  dx?: T;
  dw?: T;
  db?: T;
}

export interface ElementwiseOptions<T extends FloatTensor> extends KernelCallOptions {
  out?: T;
}

function shapeOf(options: LinearShape) {
  return {
    rows: positiveSize(options.rows, 'rows'),
    inF: positiveSize(options.inFeatures, 'inFeatures'),
    outF: positiveSize(options.outFeatures, 'outFeatures'),
  };
}

function prepareForward<T extends FloatTensor>(
  x: T,
  w: T,
  b: T | undefined,
  options: LinearForwardOptions<T>,
  async: boolean,
): NativeLinearForwardOptions {
  optionsObject(options, 'linearForward');
  const { rows, inF, outF } = shapeOf(options);
  checkFloat(x, 'x', [rows, inF], '[rows, inFeatures]');
  checkFloat(w, 'w', [outF, inF], '[outFeatures, inFeatures]');
  if (b !== undefined) checkFloat(b, 'b', [outF], '[outFeatures]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [rows, outF], '[rows, outFeatures]');
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    checkFiniteValues(w, 'w');
    if (b !== undefined) checkFiniteValues(b, 'b');
  }
  const backend = chooseBackend([x, w, ...(b ? [b] : []), ...(options.out ? [options.out] : [])], options);
  return { rows, inFeatures: inF, outFeatures: outF, b: toNative(b), out: toNative(options.out), backend, async };
}

/** Y = X . W^T + b; x: [rows, in], w: [out, in], b: [out] or undefined -> [rows, out]. */
export function linearForwardSync<T extends FloatTensor>(x: T, w: T, b: T | undefined, options: LinearForwardOptions<T>): T {
  const native = prepareForward(x, w, b, options, false);
  return floatResult('linearForward', options, () => addon().linearForward(toNative(x)!, toNative(w)!, native) as NativeFloat);
}

export async function linearForward<T extends FloatTensor>(x: T, w: T, b: T | undefined, options: LinearForwardOptions<T>): Promise<T> {
  const native = prepareForward(x, w, b, options, true);
  return floatResultAsync(
    'linearForward',
    options,
    () => addon().linearForward(toNative(x)!, toNative(w)!, native) as Promise<NativeFloat>,
  );
}

function allocateLike(like: FloatTensor, length: number): FloatTensor {
  return like instanceof DeviceTensor ? DeviceTensor.empty([length]) : new Float32Array(length);
}

function prepareBackward<T extends FloatTensor>(x: T, w: T, dy: T, options: LinearBackwardOptions<T>, async: boolean) {
  optionsObject(options, 'linearBackward');
  const { rows, inF, outF } = shapeOf(options);
  checkFloat(x, 'x', [rows, inF], '[rows, inFeatures]');
  checkFloat(w, 'w', [outF, inF], '[outFeatures, inFeatures]');
  checkFloat(dy, 'dy', [rows, outF], '[rows, outFeatures]');
  if (options.accumulate && (options.dw === true || options.db === true)) {
    throw new InvalidArgumentError('accumulate needs existing dw/db buffers to add to, not freshly allocated ones');
  }
  const pick = (value: T | true | undefined, length: number, name: string, dims: number[], dimNames: string): T | undefined => {
    if (value === undefined) return undefined;
    const buffer = (value === true ? allocateLike(x, length) : value) as T;
    checkFloat(buffer, name, dims, dimNames);
    return buffer;
  };
  const grads: LinearGradients<T> = {};
  const dx = pick(options.dx, rows * inF, 'dx', [rows, inF], '[rows, inFeatures]');
  const dw = pick(options.dw, outF * inF, 'dw', [outF, inF], '[outFeatures, inFeatures]');
  const db = pick(options.db, outF, 'db', [outF], '[outFeatures]');
  if (dx) grads.dx = dx;
  if (dw) grads.dw = dw;
  if (db) grads.db = db;
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    checkFiniteValues(w, 'w');
    checkFiniteValues(dy, 'dy');
    // accumulated gradients are read as well as written
    if (options.accumulate && dw) checkFiniteValues(dw, 'dw');
    if (options.accumulate && db) checkFiniteValues(db, 'db');
  }
  const backend = chooseBackend([x, w, dy, ...[dx, dw, db].filter((t): t is T => t !== undefined)], options);
  const native: NativeLinearBackwardOptions = {
    rows,
    inFeatures: inF,
    outFeatures: outF,
    dx: toNative(dx),
    dw: toNative(dw),
    db: toNative(db),
    accumulate: options.accumulate === true,
    backend,
    async,
  };
  return { native, grads };
}

function checkedGradients<T extends FloatTensor>(grads: LinearGradients<T>, options: KernelCallOptions): LinearGradients<T> {
  if (options.checkFinite !== false) {
    for (const [name, value] of Object.entries(grads)) checkFiniteResult(value as FloatTensor, name, 'linearBackward');
  }
  return grads;
}

/** dX = dY . W, dW (+)= dY^T . X, db (+)= sum over rows of dY; only the requested ones are computed. */
export function linearBackwardSync<T extends FloatTensor>(x: T, w: T, dy: T, options: LinearBackwardOptions<T>): LinearGradients<T> {
  const { native, grads } = prepareBackward(x, w, dy, options, false);
  try {
    addon().linearBackward(toNative(x)!, toNative(w)!, toNative(dy)!, native);
  } catch (error) {
    throw fromNativeError(error, 'linearBackward');
  }
  return checkedGradients(grads, options);
}

export async function linearBackward<T extends FloatTensor>(
  x: T,
  w: T,
  dy: T,
  options: LinearBackwardOptions<T>,
): Promise<LinearGradients<T>> {
  const { native, grads } = prepareBackward(x, w, dy, options, true);
  try {
    await addon().linearBackward(toNative(x)!, toNative(w)!, toNative(dy)!, native);
  } catch (error) {
    throw fromNativeError(error, 'linearBackward');
  }
  return checkedGradients(grads, options);
}

function lengthOf(x: FloatTensor, name: string): number {
  if (x instanceof Float32Array) return x.length;
  if (x instanceof DeviceTensor) return x.size;
  throw new InvalidArgumentError(`${name} must be a Float32Array or a float32 DeviceTensor`);
}

function prepareGelu<T extends FloatTensor>(x: T, options: ElementwiseOptions<T>, async: boolean, dy?: T): NativeElementwiseOptions {
  optionsObject(options, dy === undefined ? 'gelu' : 'geluBackward');
  const length = lengthOf(x, 'x');
  checkFloat(x, 'x', [length], '[length]');
  if (dy !== undefined) checkFloat(dy, 'dy', [length], '[length]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [length], '[length]');
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    if (dy !== undefined) checkFiniteValues(dy, 'dy');
  }
  const backend = chooseBackend([x, ...(dy ? [dy] : []), ...(options.out ? [options.out] : [])], options);
  return { length, out: toNative(options.out), backend, async };
}

/** GELU, exact erf form: y = 0.5 x (1 + erf(x / sqrt 2)) (torch.nn.GELU()). */
export function geluSync<T extends FloatTensor>(x: T, options: ElementwiseOptions<T> = {}): T {
  const native = prepareGelu(x, options, false);
  return floatResult('gelu', options, () => addon().geluForward(toNative(x)!, native) as NativeFloat);
}

export async function gelu<T extends FloatTensor>(x: T, options: ElementwiseOptions<T> = {}): Promise<T> {
  const native = prepareGelu(x, options, true);
  return floatResultAsync('gelu', options, () => addon().geluForward(toNative(x)!, native) as Promise<NativeFloat>);
}

/** dX = dY * (Phi(x) + x phi(x)), with x the forward input. */
export function geluBackwardSync<T extends FloatTensor>(x: T, dy: T, options: ElementwiseOptions<T> = {}): T {
  const native = prepareGelu(x, options, false, dy);
  return floatResult('geluBackward', options, () => addon().geluBackward(toNative(x)!, toNative(dy)!, native) as NativeFloat);
}

export async function geluBackward<T extends FloatTensor>(x: T, dy: T, options: ElementwiseOptions<T> = {}): Promise<T> {
  const native = prepareGelu(x, options, true, dy);
  return floatResultAsync('geluBackward', options, () => addon().geluBackward(toNative(x)!, toNative(dy)!, native) as Promise<NativeFloat>);
}
