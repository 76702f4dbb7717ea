import { InvalidArgumentError, describeValue } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { DType, NativeDeviceTensor } from '../native/types.js';

/**
 * A tensor in GPU memory, so GPU work can chain without host copies. Create with
 * DeviceTensor.upload() or DeviceTensor.empty(); read back with download(); free with
 * dispose() (or `using`). A finalizer frees forgotten tensors, but GPU memory is scarcer
 * than the garbage collector knows: dispose explicitly.
 */
export class DeviceTensor {
  /** The addon's handle; kernels pass it to native code. */
  readonly handle: NativeDeviceTensor;

  private constructor(handle: NativeDeviceTensor) {
    this.handle = handle;
  }

  /** Copies host data to the device. float16/bfloat16 take a Float32Array (converted, round to nearest even). */
  static upload(
    data: Float32Array | Int32Array | Uint8Array | Uint16Array,
    dims: readonly number[],
    dtype: DType = 'float32',
  ): DeviceTensor {
    checkDims(dims, 'DeviceTensor.upload');
    try {
      return new DeviceTensor(addon().DeviceTensor.upload(data, [...dims], dtype));
    } catch (error) {
      throw fromNativeError(error, 'DeviceTensor.upload');
    }
  }

  /** An uninitialised device tensor. */
  static empty(dims: readonly number[], dtype: DType = 'float32'): DeviceTensor {
    checkDims(dims, 'DeviceTensor.empty');
    try {
      return new DeviceTensor(addon().DeviceTensor.empty([...dims], dtype));
    } catch (error) {
      throw fromNativeError(error, 'DeviceTensor.empty');
    }
  }

  /** Wraps a handle returned by a kernel. */
  static fromHandle(handle: NativeDeviceTensor): DeviceTensor {
    return new DeviceTensor(handle);
  }

  get dims(): readonly number[] {
    return this.handle.dims;
  }

  get dtype(): DType {
    return this.handle.dtype;
  }

  get disposed(): boolean {
    return this.handle.disposed;
  }

  get size(): number {
    return this.handle.dims.reduce((a, b) => a * b, 1);
  }

  /** Copies to the host; half-precision tensors come back as Float32Array. */
  download(): Float32Array | Int32Array | Uint8Array | Uint16Array {
    try {
      return this.handle.download();
    } catch (error) {
      throw fromNativeError(error, 'DeviceTensor.download');
    }
  }

  /** Frees the memory. Throws TensorInUseError (ERR_TENSOR_IN_USE) while an async op that uses it is pending. */
  dispose(): void {
    try {
      this.handle.dispose();
    } catch (error) {
      throw fromNativeError(error, 'DeviceTensor.dispose');
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function checkDims(dims: unknown, op: string): void {
  if (!Array.isArray(dims) || dims.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new InvalidArgumentError(`${op}: dims must be an array of non-negative integers, got ${describeValue(dims)}`);
  }
}

export function isDeviceTensor(value: unknown): value is DeviceTensor {
  return value instanceof DeviceTensor;
}

export function assertDtype(tensor: DeviceTensor, allowed: readonly DType[], name: string): void {
  if (!allowed.includes(tensor.dtype)) {
    throw new InvalidArgumentError(`${name} must be a DeviceTensor of ${allowed.join(' or ')}, got ${tensor.dtype}`);
  }
}
