import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, CudaError, TensorDisposedError, TensorInUseError } from '../../../src/index.js';
import { InvalidArgumentError, ShapeError } from '../../../src/errors.js';
import { fromNativeError } from '../../../src/native/errors.js';

function nativeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('errors thrown by the addon become typed radlearn errors', () => {
  it('maps every stable code to its class, keeps the code and names the op', () => {
    const cases: Array<[string, new (message: string) => Error]> = [
      ['ERR_SHAPE', ShapeError], ['ERR_INVALID_ARGUMENT', InvalidArgumentError], ['ERR_BACKEND_UNAVAILABLE', BackendUnavailableError],
      ['ERR_CUDA', CudaError], ['ERR_TENSOR_DISPOSED', TensorDisposedError], ['ERR_TENSOR_IN_USE', TensorInUseError],
    ];
    for (const [code, kind] of cases) {
      const mapped = fromNativeError(nativeError(code, 'what went wrong'), 'DeviceTensor.dispose') as Error & { code: string };
      expect(mapped).toBeInstanceOf(kind);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe('DeviceTensor.dispose: what went wrong');
    }
  });

  it('passes through errors it does not know', () => {
    const other = nativeError('ERR_SOMETHING_ELSE', 'x');
    expect(fromNativeError(other, 'op')).toBe(other);
    const plain = new TypeError('y');
    expect(fromNativeError(plain, 'op')).toBe(plain);
  });
});
