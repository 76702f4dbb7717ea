import { RadlearnError } from '../errors.js';

/** A tokenizer.json that cannot be used (malformed, or lacking a pad token where padding needs one). */
export class TokenizerError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ERR_TOKENIZER', message, details, options);
  }
}

/** Input handed to an encoder that does not fit its model (shape, type, names). */
export class EncoderInputError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_ENCODER_INPUT', message, details);
  }
}

/** onnxruntime could not create or run the session, or the encoder was used after dispose(). */
export class EncoderSessionError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ERR_ENCODER_SESSION', message, details, options);
  }
}
