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
export {
  contrastiveLoss,
  contrastiveLossSync,
  type ContrastiveOptions,
  type ContrastiveResult,
} from './contrastive.js';
