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
  linearForward,
  linearForwardSync,
  linearBackward,
  linearBackwardSync,
  gelu,
  geluSync,
  geluBackward,
  geluBackwardSync,
  type LinearShape,
  type LinearForwardOptions,
  type LinearBackwardOptions,
  type LinearGradients,
  type ElementwiseOptions,
} from './heads.js';
export {
  bceWithLogits,
  bceWithLogitsSync,
  softmaxCrossEntropy,
  softmaxCrossEntropySync,
  ordinalLoss,
  ordinalLossSync,
  ordinalPredict,
  type LossOutput,
  type UncertainLabelPolicy,
  type BceWithLogitsOptions,
  type SoftmaxCrossEntropyOptions,
  type OrdinalLossOptions,
} from './losses.js';
export {
  AdamW,
  adamwStep,
  adamwStepSync,
  gradNorm,
  gradNormSync,
  emaUpdate,
  emaUpdateSync,
  cosineSchedule,
  NonFiniteGradientError,
  type AdamWOptions,
  type AdamWHyperparameters,
  type AdamWStepOptions,
  type AdamWStepResult,
  type AdamWMoments,
  type AdamWState,
  type CosineScheduleOptions,
} from './optim.js';
export { augment, augmentSync, augmentParams, halfBitsToFloat32 } from './augment.js';
export type { SourceImage, ImageBatch, AugmentOptions, AugmentViewParams, AugmentGroupResult, AugmentResult } from './augment.js';
export type { AugmentSpec, CropSpec, MaskSpec, Range as AugmentRange } from './augment-spec.js';
export {
  contrastiveLoss,
  contrastiveLossSync,
  type ContrastiveOptions,
  type ContrastiveResult,
} from './contrastive.js';
export {
  dinoLoss,
  dinoLossSync,
  ibotLoss,
  ibotLossSync,
  koleoLoss,
  koleoLossSync,
  sinkhornKnopp,
  sinkhornKnoppSync,
  updateCenter,
  updateCenterSync,
  emaTeacherUpdate,
  emaTeacherUpdateSync,
  type TeacherNormalization,
  type MaskTensor,
  type TeacherTargetOptions,
  type DinoLossOptions,
  type IbotLossOptions,
  type DistillLossResult,
  type KoleoLossOptions,
  type SinkhornKnoppOptions,
  type UpdateCenterOptions,
  type EmaTeacherUpdateOptions,
} from './distill.js';
export { teacherTemperature, teacherMomentum, type TeacherTemperatureOptions } from './distill-schedules.js';
