import { InvalidArgumentError, NonFiniteResultError, ShapeError, describeValue } from '../errors.js';
import { BackendUnavailableError, BufferDetachedError, fromNativeError } from '../native/errors.js';
import { defaultKernelBackend } from '../native/backend.js';
import type { NativeBackend, NativeFloat } from '../native/types.js';
import { DeviceTensor, assertDtype } from './tensor.js';

/** A float32 operand: a row-major host array or a float32 DeviceTensor. */
export type FloatTensor = Float32Array | DeviceTensor;

/** Options every kernel call accepts. */
export interface KernelCallOptions {
  /** Run on this backend instead of the default (DeviceTensors always run on CUDA). */
  backend?: NativeBackend;
  /** Scan host inputs for NaN/Infinity first (default true; costs one pass over the data). */
  checkFinite?: boolean;
}

/** The options object of a call; anything else (null, a number, an array) is named in a typed error. */
export function optionsObject<T extends object>(value: T | undefined | null, op: string, required = true): T {
  if (value === undefined && !required) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new InvalidArgumentError(`${op}: options must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * True when a typed array's ArrayBuffer has been detached (transferred). Node 20 has no
 * ArrayBuffer.prototype.detached; a view can no longer be built on a detached buffer.
 */
export function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0 || !(view.buffer instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(view.buffer);
    return false;
  } catch {
    return true;
  }
}

export function assertAttached(view: ArrayBufferView, name: string): void {
  if (isDetached(view)) {
    throw new BufferDetachedError(
      `${name}'s ArrayBuffer is detached (it was transferred to a worker or another context); pass an array that owns its memory`,
    );
  }
}

export function positiveSize(value: unknown, name: string, allowZero = true): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InvalidArgumentError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer below 2^53, got ${describeValue(value)}`,
    );
  }
  return value;
}

export function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** A finite number in [min, max]. */
export function finiteInRange(value: unknown, name: string, min: number, max = Infinity): number {
  const x = finiteNumber(value, name);
  if (x < min || x > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}], got ${x}`);
  return x;
}

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A finite number that kernels use in float32: 1e39 is a finite double but an infinite float. */
export function float32Number(value: unknown, name: string): number {
  const x = finiteNumber(value, name);
  if (!(Math.abs(x) <= FLOAT32_MAX)) throw new InvalidArgumentError(`${name} must fit in float32 (|x| <= 3.4e38), got ${x}`);
  return x;
}

/** Checks a float operand's kind and element count against the shape it should have. */
export function checkFloat(value: unknown, name: string, dims: readonly number[], dimNames: string): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  let length: number;
  if (value instanceof Float32Array) {
    assertAttached(value, name);
    length = value.length;
  } else if (value instanceof DeviceTensor) {
    assertDtype(value, ['float32'], name);
    length = value.size;
  } else throw new InvalidArgumentError(`${name} must be a Float32Array or a float32 DeviceTensor`);
  if (length !== expected) {
    throw new ShapeError(`${name} has ${length} elements, but ${dimNames} = [${dims.join(', ')}] needs ${expected}`, {
      name,
      length,
      expected: dims,
    });
  }
}

/** Throws on the first NaN or infinity of a host array (device data is not scanned). */
/** After a kernel: throws NonFiniteResultError on the first NaN or infinity of a host result. */
export function checkFiniteResult(value: FloatTensor | number | undefined, name: string, op: string): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NonFiniteResultError(op, name, -1, value);
    return;
  }
  if (!(value instanceof Float32Array)) return;
  for (let i = 0; i < value.length; i++) {
    const v = value[i]!;
    if (v - v !== 0) throw new NonFiniteResultError(op, name, i, v);
  }
}

export function checkFiniteValues(value: FloatTensor, name: string): void {
  if (!(value instanceof Float32Array)) return;
  for (let i = 0; i < value.length; i++) {
    const v = value[i]!;
    if (v - v !== 0) {
      throw new InvalidArgumentError(`${name}[${i}] is ${v}; inputs must be finite`, { name, index: i });
    }
  }
}

/** Where a call runs: CUDA for device tensors, else the caller's choice or the default backend. */
export function chooseBackend(operands: readonly FloatTensor[], options: KernelCallOptions): NativeBackend {
  const onDevice = operands.filter((o) => o instanceof DeviceTensor).length;
  if (onDevice > 0 && onDevice < operands.length) {
    throw new InvalidArgumentError('operands must all be host Float32Arrays or all DeviceTensors');
  }
  if (onDevice > 0) {
    if (options.backend === 'cpu') throw new BackendUnavailableError('DeviceTensor operands cannot run on the CPU backend');
    return 'cuda';
  }
  return backendOption(options.backend);
}

/** An explicit backend option, checked; the process default when absent. */
export function backendOption(value: unknown): NativeBackend {
  if (value === undefined) return defaultKernelBackend();
  if (value !== 'cpu' && value !== 'cuda') throw new InvalidArgumentError(`backend must be 'cpu' or 'cuda', got ${describeValue(value)}`);
  return value;
}

export function toNative(value: FloatTensor | undefined): NativeFloat | undefined {
  if (value === undefined) return undefined;
  return value instanceof DeviceTensor ? value.handle : value;
}

type WithOut<T> = KernelCallOptions & { out?: T };

function finishFloat<T extends FloatTensor>(op: string, value: NativeFloat, options: WithOut<T>): T {
  const out = (options.out ?? fromNative(value)) as T;
  if (options.checkFinite !== false) checkFiniteResult(out, 'the result', op);
  return out;
}

/**
 * Runs a kernel that returns one float tensor: maps a native error onto radlearn's classes and
 * returns the caller's `out` (or the new tensor), checked for float32 overflow unless the caller
 * turned checkFinite off.
 */
export function floatResult<T extends FloatTensor>(op: string, options: WithOut<T>, run: () => NativeFloat): T {
  let value: NativeFloat;
  try {
    value = run();
  } catch (error) {
    throw fromNativeError(error, op);
  }
  return finishFloat(op, value, options);
}

export async function floatResultAsync<T extends FloatTensor>(
  op: string,
  options: WithOut<T>,
  run: () => Promise<NativeFloat>,
): Promise<T> {
  let value: NativeFloat;
  try {
    value = await run();
  } catch (error) {
    throw fromNativeError(error, op);
  }
  return finishFloat(op, value, options);
}

/** The kernel's result, re-wrapped as the caller's kind of tensor. */
export function fromNative(value: NativeFloat): FloatTensor {
  return value instanceof Float32Array ? value : DeviceTensor.fromHandle(value);
}
