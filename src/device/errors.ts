import { RadlearnError } from '../errors.js';

/**
 * `device: 'cuda'` was asked for and a part of the run cannot run there (no GPU, onnxruntime's CUDA
 * provider library missing, an addon built without CUDA, a session CUDA could not be created for);
 * the message says which part and why.
 */
export class DeviceUnavailableError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ERR_DEVICE_UNAVAILABLE', message, details, options);
  }
}
