export * from './tokenizer/index.js';
export { TokenizerError, EncoderInputError, EncoderSessionError } from './errors.js';
export { ImageEncoder, type ImageEncoderOptions, type ImageBatch as EncoderImageBatch } from './image-encoder.js';
export { TextEncoder, type TextEncoderOptions, type TokenizerSource } from './text-encoder.js';
export { poolOutput, type Pooling as EmbeddingPooling } from './pooling.js';
export { resolveExecutionProviders, onnxruntimeBinaryDir, type ExecutionProvider, type ProviderResolution, type ResolveProvidersOptions } from './execution-providers.js';
export { createSessionRunner, type SessionRunner, type SessionInfo, type SessionOptions, type IoMetadata } from './session-runner.js';
export { resolveModel, type ModelSource, type ResolvedModel } from './model-source.js';
export { bindParameters, type EncoderParameters, type ParameterBinding } from './parameter-binding.js';
