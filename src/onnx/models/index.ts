export { buildResNetEncoder, defaultResNetConfig, type ResNetEncoderConfig, type BuiltEncoder } from './resnet.js';
export { buildViTEncoder, defaultViTConfig, type ViTEncoderConfig } from './vit.js';
export { buildTextTransformer, defaultTextTransformerConfig, type TextTransformerConfig } from './text-transformer.js';
export { ENCODER_METADATA_KEY } from './config.js';
export * as onnxLayers from './layers.js';
