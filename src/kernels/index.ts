export { DeviceTensor, isDeviceTensor } from './tensor.js';
export type { FloatTensor, KernelCallOptions } from './operands.js';
export {
  similarity,
  similaritySync,
  l2Normalize,
  l2NormalizeSync,
  l2NormalizeBackward,
  l2NormalizeBackwardSync,
  type SimilarityOptions,
  type L2NormalizeOptions,
} from './similarity.js';
export { augment, augmentSync, augmentParams, halfBitsToFloat32 } from './augment.js';
export type { SourceImage, ImageBatch, AugmentOptions, AugmentViewParams, AugmentGroupResult, AugmentResult } from './augment.js';
export type { AugmentSpec, CropSpec, MaskSpec, Range as AugmentRange } from './augment-spec.js';
