import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, BufferDetachedError, CudaError, TensorDisposedError, TensorInUseError } from '../../../src/index.js';
import { InvalidArgumentError, RadlearnError, ShapeError } from '../../../src/errors.js';
import { fromNativeError } from '../../../src/native/errors.js';

function nativeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('errors thrown by the addon become typed radlearn errors', () => {
  it('maps every stable code to its class, keeps the code and names the op', () => {
    const cases: Array<[string, new (message: string) => Error]> = [
      ['ERR_SHAPE', ShapeError], ['ERR_INVALID_ARGUMENT', InvalidArgumentError], ['ERR_BACKEND_UNAVAILABLE', BackendUnavailableError],
      ['ERR_CUDA', CudaError], ['ERR_TENSOR_DISPOSED', TensorDisposedError], ['ERR_TENSOR_IN_USE', TensorInUseError],
      ['ERR_BUFFER_DETACHED', BufferDetachedError],
    ];
    for (const [code, kind] of cases) {
      const mapped = fromNativeError(nativeError(code, 'what went wrong'), 'DeviceTensor.dispose') as Error & { code: string };
      expect(mapped).toBeInstanceOf(kind);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe('DeviceTensor.dispose: what went wrong');
    }
  });

  it('keeps an unknown ERR_ code as a RadlearnError and passes through errors without one', () => {
    const other = fromNativeError(nativeError('ERR_SOMETHING_ELSE', 'x'), 'op') as RadlearnError;
    expect(other).toBeInstanceOf(RadlearnError);
    expect(other.code).toBe('ERR_SOMETHING_ELSE');
    expect(other.message).toBe('op: x');
    const plain = new TypeError('y');
    expect(fromNativeError(plain, 'op')).toBe(plain);
  });
});
