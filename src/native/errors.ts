import { InvalidArgumentError, RadlearnError, ShapeError } from '../errors.js';

/** One failed attempt to load the addon, with what to do about it. */
export interface LoadAttempt {
  path: string;
  error: string;
  fix: string;
  /** The error's code where it has one (ERR_PREBUILT_VERSION: a prebuilt of another radlearn version). */
  code?: string;
}

/** No build of the native addon could be loaded; lists each attempt and its fix. */
export class NativeLoadError extends RadlearnError {
  readonly attempts: LoadAttempt[];

  constructor(attempts: LoadAttempt[], code = 'ERR_NATIVE_LOAD', why = '') {
    const lines = attempts.map((a, i) => `  ${i + 1}. ${a.path}\n     error: ${a.error}\n     fix:   ${a.fix}`);
    super(code, `radlearn's native addon could not be loaded${why ? `: ${why}` : ''}. Tried:\n${lines.join('\n')}`, { attempts });
    this.attempts = attempts;
  }
}

/**
 * Nothing loaded, and the prebuilt addon that is installed belongs to another radlearn version:
 * it is compiled from that version's sources, so it is never used in this one's place.
 */
export class PrebuiltVersionError extends NativeLoadError {
  readonly packageName: string;
  readonly prebuiltVersion: string;
  readonly radlearnVersion: string;

  constructor(attempts: LoadAttempt[], refusal: { packageName: string; prebuiltVersion: string; radlearnVersion: string }) {
    const { packageName, prebuiltVersion, radlearnVersion } = refusal;
    super(
      attempts,
      'ERR_PREBUILT_VERSION',
      `the installed prebuilt ${packageName} is for radlearn ${prebuiltVersion}, and this is radlearn ${radlearnVersion}`,
    );
    this.packageName = packageName;
    this.prebuiltVersion = prebuiltVersion;
    this.radlearnVersion = radlearnVersion;
  }
}

/** The requested backend (usually CUDA) is not available here; the message says why. */
export class BackendUnavailableError extends RadlearnError {
  constructor(message: string) {
    super('ERR_BACKEND_UNAVAILABLE', message);
  }
}

/** A CUDA call or kernel launch failed; the message carries CUDA's own error text. */
export class CudaError extends RadlearnError {
  constructor(message: string) {
    super('ERR_CUDA', message);
  }
}

/** A DeviceTensor was used after dispose(). */
export class TensorDisposedError extends RadlearnError {
  constructor(message: string) {
    super('ERR_TENSOR_DISPOSED', message);
  }
}

/** dispose() was called on a DeviceTensor that a pending async op still reads or writes. */
export class TensorInUseError extends RadlearnError {
  constructor(message: string) {
    super('ERR_TENSOR_IN_USE', message);
  }
}

/**
 * A host array's ArrayBuffer was detached (transferred to a worker or another context) before
 * or while an op used it. Memory is never touched after it was freed: the op either refused the
 * array up front or finished on memory it had pinned and discarded its result.
 */
export class BufferDetachedError extends RadlearnError {
  constructor(message: string) {
    super('ERR_BUFFER_DETACHED', message);
  }
}

/** Maps an error thrown by the addon (a plain Error with a `code`) onto radlearn's classes. */
export function fromNativeError(error: unknown, op: string): unknown {
  if (!(error instanceof Error) || error instanceof RadlearnError) return error;
  const code = (error as Error & { code?: string }).code;
  const message = `${op}: ${error.message}`;
  switch (code) {
    case 'ERR_SHAPE':
      return new ShapeError(message);
    case 'ERR_INVALID_ARGUMENT':
      return new InvalidArgumentError(message);
    case 'ERR_BACKEND_UNAVAILABLE':
      return new BackendUnavailableError(message);
    case 'ERR_CUDA':
      return new CudaError(message);
    case 'ERR_TENSOR_DISPOSED':
      return new TensorDisposedError(message);
    case 'ERR_TENSOR_IN_USE':
      return new TensorInUseError(message);
    case 'ERR_BUFFER_DETACHED':
      return new BufferDetachedError(message);
    default:
      // Every code the addon sets is part of the contract, even one without a class of its own.
      return typeof code === 'string' && code.startsWith('ERR_') ? new RadlearnError(code, message) : error;
  }
}
