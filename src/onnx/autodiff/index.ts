export { differentiate, type DifferentiateOptions, type TrainingGraph } from './differentiate.js';
export { UnsupportedOperatorError, AutodiffError } from './errors.js';
export { gradientRules, nonDifferentiableOps } from './rules/index.js';
export { TrainingSession, type TrainingStepResult } from './session.js';
export { splitTrainingGraph, type SplitTrainingGraph } from './split.js';
