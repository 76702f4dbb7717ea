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
