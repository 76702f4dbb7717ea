/**
 * Evaluation: metrics with confidence intervals, zero-shot scoring, kNN,
 * label-fraction sweeps and the report writer.
 */
export type { RawLabel, UncertainPolicy, LabelledCases } from './labels.js';
export { selectLabelledCases } from './labels.js';
export { erfc, normalCdf, normalQuantile, twoSidedPValue } from './normal.js';
export { auroc, aurocWithCI, mannWhitneyAuroc, structuralComponents, type AurocEstimate, type AurocOptions, type StructuralComponents } from './auroc.js';
export { delongTest, type DelongTestResult } from './delongTest.js';
export { rocCurve, prCurve, averagePrecision, trapezoidArea, type RocCurve, type PrCurve } from './curves.js';
export {
  chooseThreshold,
  atThreshold,
  metricsFromCounts,
  type ThresholdMetric,
  type ThresholdChoice,
  type BinaryCounts,
  type BinaryThresholdMetrics,
} from './threshold.js';
export {
  confusionMatrix,
  multiClassMetrics,
  cohenKappa,
  quadraticWeightedKappa,
  argmaxRows,
  type ConfusionMatrix,
  type MultiClassMetrics,
  type KappaResult,
  type KappaWeights,
} from './multiclass.js';
export { bootstrapCI, bootstrapAurocCI, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
export {
  evaluateMultiLabel,
  compareArms,
  type LabelEvaluation,
  type MacroMetrics,
  type MultiLabelEvaluation,
  type MultiLabelEvaluationInput,
  type ArmComparison,
} from './evaluate.js';
export {
  CHEXZERO_TEMPLATES,
  DEFAULT_PROMPT_TEMPLATES,
  CHEXPERT_OBSERVATIONS,
  chexpertPrompts,
  makeLabelPrompts,
  fillTemplates,
  type PromptTemplates,
  type LabelPrompts,
} from './prompts.js';
export { buildZeroShotClassifier, zeroShotScores, ensembleEmbedding, type EmbedTexts, type ZeroShotClassifier } from './zeroShot.js';
export { fitKnnMultiLabel, fitKnnMultiClass, type KnnOptions, type KnnPredictor, type KnnWeighting } from './knn.js';
export {
  sweepLabelFractions,
  labelFractionSubset,
  summarizeRuns,
  flattenEvaluation,
  meanSd,
  type SweepPredictor,
  type SweepRunInfo,
  type SweepRun,
  type SweepSummaryRow,
  type MeanSd,
  type LabelFractionSweepOptions,
  type LabelFractionSweepResult,
} from './sweep.js';
export { writeEvalReport, renderReportMarkdown, type EvalReportInput, type EvalReportFiles } from './report/writeReport.js';
export type { LossCurve } from './report/plots.js';
export { lossPointsFromJsonl, readLossCurve, type LossCurveOptions } from './report/lossCurve.js';
