import { InvalidArgumentError, ShapeError } from '../errors.js';
import { BackendUnavailableError } from '../native/errors.js';
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

export function positiveSize(value: unknown, name: string, allowZero = true): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return value;
}

export function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** Checks a float operand's kind and element count against the shape it should have. */
export function checkFloat(value: unknown, name: string, dims: readonly number[], dimNames: string): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  let length: number;
  if (value instanceof Float32Array) length = value.length;
  else if (value instanceof DeviceTensor) {
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
  return options.backend ?? defaultKernelBackend();
}

export function toNative(value: FloatTensor | undefined): NativeFloat | undefined {
  if (value === undefined) return undefined;
  return value instanceof DeviceTensor ? value.handle : value;
}

/** The kernel's result, re-wrapped as the caller's kind of tensor. */
export function fromNative(value: NativeFloat): FloatTensor {
  return value instanceof Float32Array ? value : DeviceTensor.fromHandle(value);
}
