/**
 * One call that evaluates multi-label scores the way the report shows them: per
 * label AUROC with DeLong CI, AUPRC, ROC points, and F1/MCC/accuracy at a
 * threshold chosen on validation (or given), plus macro means over the labels
 * whose metric is defined. Degenerate labels get NaN and a reason, never a throw.
 */
import { aurocFromCases, checkLevel } from './auroc.js';
import { averagePrecisionFromCases, rocCurve } from './curves.js';
import { delongTest, type DelongTestResult } from './delongTest.js';
import {
  assertMatrixShape,
  assertUncertainPolicy,
  labelColumn,
  matrixColumn,
  selectLabelledCases,
  type RawLabel,
  type UncertainPolicy,
} from './labels.js';
import {
  atThreshold,
  assertThresholdMetric,
  chooseThreshold,
  type BinaryThresholdMetrics,
  type ThresholdChoice,
  type ThresholdMetric,
} from './threshold.js';
import { InvalidArgumentError, ShapeError } from '../errors.js';

export interface LabelEvaluation {
  label: string;
  nPositive: number;
  nNegative: number;
  nMissing: number;
  prevalence: number;
  auroc: number;
  aurocCI: [number, number];
  aurocStandardError: number;
  auprc: number;
  /** How the threshold was set: chosen on validation, given by the caller, or absent. */
  threshold?: ThresholdChoice | { threshold: number; metric: 'given' };
  /** Test metrics at that threshold (absent when no threshold was available). */
  atThreshold?: BinaryThresholdMetrics;
  /** ROC curve, thinned to at most `rocPoints` points for plotting. */
  roc: { fpr: number[]; tpr: number[] };
  reason?: string;
}

export interface MacroMetrics {
  auroc: number;
  auprc: number;
  f1: number;
  mcc: number;
  accuracy: number;
  balancedAccuracy: number;
  /** Labels with a finite AUROC (the ones the macro AUROC averages). */
  nLabels: number;
}

export interface MultiLabelEvaluation {
  name: string;
  labelNames: string[];
  nCases: number;
  level: number;
  thresholdMetric: ThresholdMetric | 'given' | 'none';
  perLabel: LabelEvaluation[];
  macro: MacroMetrics;
}

export interface MultiLabelEvaluationInput {
  /** Name shown in the report, e.g. 'zero-shot' or 'linear probe (100%)'. */
  name?: string;
  labelNames: string[];
  /** Row-major [N, L] test scores (probabilities or logits; only order matters for AUROC). */
  scores: ArrayLike<number>;
  /** Row-major [N, L] test labels: 1, 0, -1 uncertain, null/NaN missing. */
  labels: ArrayLike<RawLabel>;
  /** Validation scores and labels ([Nv, L]) to choose per-label thresholds on. */
  validation?: { scores: ArrayLike<number>; labels: ArrayLike<RawLabel> };
  /** Fixed per-label thresholds, used instead of validation. */
  thresholds?: ArrayLike<number>;
  thresholdMetric?: ThresholdMetric;
  uncertain?: UncertainPolicy;
  level?: number;
  /** Max ROC points kept per label (default 200). */
  rocPoints?: number;
}

export function evaluateMultiLabel(input: MultiLabelEvaluationInput): MultiLabelEvaluation {
  const numLabels = input.labelNames.length;
  if (numLabels === 0) throw new InvalidArgumentError('evaluateMultiLabel: labelNames is empty', {});
  const nCases = rowsOf(input.scores, numLabels, 'scores');
  assertMatrixShape(input.labels, nCases, numLabels, 'labels');
  const level = checkLevel(input.level ?? 0.95);
  const uncertain = input.uncertain ?? 'ignore';
  assertUncertainPolicy(uncertain);
  const metric = input.thresholdMetric ?? 'f1';
  assertThresholdMetric(metric);
  let nVal = 0;
  if (input.validation) {
    nVal = rowsOf(input.validation.scores, numLabels, 'validation.scores');
    assertMatrixShape(input.validation.labels, nVal, numLabels, 'validation.labels');
  }
  if (input.thresholds && input.thresholds.length !== numLabels) {
    throw new ShapeError(`thresholds has ${input.thresholds.length} entries for ${numLabels} labels`, {
      thresholds: input.thresholds.length,
      numLabels,
    });
  }
  const rocPoints = input.rocPoints ?? 200;

  const perLabel: LabelEvaluation[] = [];
  for (let j = 0; j < numLabels; j++) {
    const label = input.labelNames[j];
    const scores = matrixColumn(input.scores, nCases, numLabels, j, 'scores');
    const labels = labelColumn(input.labels, nCases, numLabels, j, 'labels');
    const cases = selectLabelledCases(scores, labels, { uncertain, name: `labels[:, ${j}] (${label})` });
    const a = aurocFromCases(cases, level);
    const roc = rocCurve(cases.scores, cases.labels);
    const total = cases.nPositive + cases.nNegative;
    const evaluation: LabelEvaluation = {
      label,
      nPositive: cases.nPositive,
      nNegative: cases.nNegative,
      nMissing: cases.nMissing,
      prevalence: total > 0 ? cases.nPositive / total : NaN,
      auroc: a.auroc,
      aurocCI: a.ci,
      aurocStandardError: a.standardError,
      auprc: averagePrecisionFromCases(cases),
      roc: thinCurve(roc.fpr, roc.tpr, rocPoints),
    };
    if (a.reason !== undefined) evaluation.reason = a.reason;
    if (input.thresholds) {
      const t = input.thresholds[j];
      evaluation.threshold = { threshold: t, metric: 'given' };
      evaluation.atThreshold = atThreshold(scores, labels, t, { uncertain });
    } else if (input.validation) {
      const choice = chooseThreshold(
        matrixColumn(input.validation.scores, nVal, numLabels, j),
        labelColumn(input.validation.labels, nVal, numLabels, j),
        { metric, uncertain, name: `validation.labels[:, ${j}] (${label})` },
      );
      evaluation.threshold = choice;
      evaluation.atThreshold = atThreshold(scores, labels, choice.threshold, { uncertain });
    }
    perLabel.push(evaluation);
  }
  return {
    name: input.name ?? 'evaluation',
    labelNames: [...input.labelNames],
    nCases,
    level,
    thresholdMetric: input.thresholds ? 'given' : input.validation ? metric : 'none',
    perLabel,
    macro: macroMeans(perLabel),
  };
}

function macroMeans(perLabel: LabelEvaluation[]): MacroMetrics {
  const mean = (pick: (e: LabelEvaluation) => number | undefined): [number, number] => {
    let s = 0;
    let c = 0;
    for (const e of perLabel) {
      const v = pick(e);
      if (v !== undefined && Number.isFinite(v)) {
        s += v;
        c++;
      }
    }
    return [c > 0 ? s / c : NaN, c];
  };
  const [auroc, nLabels] = mean((e) => e.auroc);
  return {
    auroc,
    auprc: mean((e) => e.auprc)[0],
    f1: mean((e) => e.atThreshold?.f1)[0],
    mcc: mean((e) => e.atThreshold?.mcc)[0],
    accuracy: mean((e) => e.atThreshold?.accuracy)[0],
    balancedAccuracy: mean((e) => e.atThreshold?.balancedAccuracy)[0],
    nLabels,
  };
}

function rowsOf(matrix: { length: number }, cols: number, name: string): number {
  if (matrix.length % cols !== 0) {
    throw new ShapeError(`${name}: length ${matrix.length} is not a multiple of the ${cols} labels (expected row-major [N, ${cols}])`, {
      length: matrix.length,
      cols,
    });
  }
  return matrix.length / cols;
}

/** At most `maxPoints` points, evenly spaced along the curve, first and last kept. */
export function thinCurve(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number): { fpr: number[]; tpr: number[] } {
  const n = x.length;
  if (n <= maxPoints || maxPoints < 2) return { fpr: Array.from(x), tpr: Array.from(y) };
  const fpr: number[] = [];
  const tpr: number[] = [];
  for (let k = 0; k < maxPoints; k++) {
    const i = Math.round((k * (n - 1)) / (maxPoints - 1));
    fpr.push(x[i]);
    tpr.push(y[i]);
  }
  return { fpr, tpr };
}

export interface ArmComparison {
  nameA: string;
  nameB: string;
  perLabel: (DelongTestResult & { label: string })[];
}

/** DeLong tests of arm A against arm B on the same test cases, one per label. */
export function compareArms(input: {
  nameA: string;
  nameB: string;
  labelNames: string[];
  scoresA: ArrayLike<number>;
  scoresB: ArrayLike<number>;
  labels: ArrayLike<RawLabel>;
  uncertain?: UncertainPolicy;
  level?: number;
}): ArmComparison {
  const numLabels = input.labelNames.length;
  const n = rowsOf(input.scoresA, numLabels, 'scoresA');
  assertMatrixShape(input.scoresB, n, numLabels, 'scoresB');
  assertMatrixShape(input.labels, n, numLabels, 'labels');
  const perLabel = input.labelNames.map((label, j) => ({
    label,
    ...delongTest(
      matrixColumn(input.scoresA, n, numLabels, j),
      matrixColumn(input.scoresB, n, numLabels, j),
      labelColumn(input.labels, n, numLabels, j),
      { uncertain: input.uncertain, level: input.level, name: `labels[:, ${j}] (${label})` },
    ),
  }));
  return { nameA: input.nameA, nameB: input.nameB, perLabel };
}
