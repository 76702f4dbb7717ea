export * from './tokenizer/index.js';
export { TokenizerError, EncoderInputError, EncoderSessionError } from './errors.js';
