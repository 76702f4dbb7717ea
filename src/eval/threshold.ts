/**
 * Binary metrics at a threshold, and threshold selection on a validation split.
 * The protocol: choose t on validation (max F1, MCC or Youden's J), then report
 * test metrics at that fixed t. Predicted positive means score >= t.
 */
import { selectLabelledCases, degenerateReason, type RawLabel, type UncertainPolicy } from './labels.js';
import { operatingPoints } from './curves.js';
import { InvalidArgumentError } from '../errors.js';

export type ThresholdMetric = 'f1' | 'mcc' | 'youden';

export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryThresholdMetrics extends BinaryCounts {
  threshold: number;
  n: number;
  accuracy: number;
  /** Mean of sensitivity and specificity. */
  balancedAccuracy: number;
  /** Recall, true positive rate. */
  sensitivity: number;
  specificity: number;
  /** Positive predictive value; NaN when nothing is predicted positive. */
  precision: number;
  npv: number;
  f1: number;
  /** Matthews correlation; 0 when predictions are constant, NaN when the truth is one class. */
  mcc: number;
  youden: number;
  reason?: string;
}

export interface ThresholdChoice {
  threshold: number;
  metric: ThresholdMetric;
  /** Value of the metric on the validation cases at the chosen threshold. */
  value: number;
  nPositive: number;
  nNegative: number;
  reason?: string;
}

const div = (a: number, b: number): number => (b === 0 ? NaN : a / b);

/** Every metric that follows from a 2×2 confusion matrix. */
export function metricsFromCounts(counts: BinaryCounts, threshold = NaN): BinaryThresholdMetrics {
  const { tp, fp, tn, fn } = counts;
  const n = tp + fp + tn + fn;
  const positives = tp + fn;
  const negatives = tn + fp;
  const sensitivity = div(tp, positives);
  const specificity = div(tn, negatives);
  const f1 = div(2 * tp, 2 * tp + fp + fn);
  let mcc: number;
  if (positives === 0 || negatives === 0) mcc = NaN;
  else if (tp + fp === 0 || tn + fn === 0) mcc = 0;
  else mcc = (tp * tn - fp * fn) / (Math.sqrt(tp + fp) * Math.sqrt(positives) * Math.sqrt(negatives) * Math.sqrt(tn + fn));
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    n,
    accuracy: div(tp + tn, n),
    balancedAccuracy: (sensitivity + specificity) / 2,
    sensitivity,
    specificity,
    precision: div(tp, tp + fp),
    npv: div(tn, tn + fn),
    f1,
    mcc,
    youden: sensitivity + specificity - 1,
  };
}

export function assertThresholdMetric(metric: string): asserts metric is ThresholdMetric {
  if (metric !== 'f1' && metric !== 'mcc' && metric !== 'youden') {
    throw new InvalidArgumentError(`threshold metric '${metric}' is not one of 'f1', 'mcc', 'youden'`, { metric });
  }
}

/**
 * The threshold that maximises `metric` on validation scores. Candidates are the
 * distinct validation scores; on ties the highest threshold wins. Returns NaN with
 * a reason when validation has only one class.
 */
export function chooseThreshold(
  valScores: ArrayLike<number>,
  valLabels: ArrayLike<RawLabel>,
  options: { metric?: ThresholdMetric; uncertain?: UncertainPolicy; name?: string } = {},
): ThresholdChoice {
  const metric = options.metric ?? 'f1';
  assertThresholdMetric(metric);
  const cases = selectLabelledCases(valScores, valLabels, { uncertain: options.uncertain, name: options.name });
  const reason = degenerateReason(cases);
  if (reason !== undefined) {
    return { threshold: NaN, metric, value: NaN, nPositive: cases.nPositive, nNegative: cases.nNegative, reason: `validation: ${reason}` };
  }
  const ops = operatingPoints(cases);
  let best = -Infinity;
  let bestThreshold = NaN;
  for (let i = 0; i < ops.thresholds.length; i++) {
    const tp = ops.tp[i];
    const fp = ops.fp[i];
    const m = metricsFromCounts({ tp, fp, fn: ops.nPositive - tp, tn: ops.nNegative - fp });
    const value = m[metric];
    if (value > best) {
      best = value;
      bestThreshold = ops.thresholds[i];
    }
  }
  return { threshold: bestThreshold, metric, value: best, nPositive: cases.nPositive, nNegative: cases.nNegative };
}

/** Counts and metrics of `score >= threshold` on test cases. */
export function atThreshold(
  testScores: ArrayLike<number>,
  testLabels: ArrayLike<RawLabel>,
  threshold: number,
  options: { uncertain?: UncertainPolicy; name?: string } = {},
): BinaryThresholdMetrics {
  const cases = selectLabelledCases(testScores, testLabels, options);
  const counts: BinaryCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  if (Number.isNaN(threshold)) {
    return { ...metricsFromCounts(counts, threshold), ...nanMetrics(), reason: 'threshold is NaN (none could be chosen on validation)' };
  }
  for (let i = 0; i < cases.scores.length; i++) {
    const predicted = cases.scores[i] >= threshold;
    if (cases.labels[i] === 1) {
      if (predicted) counts.tp++;
      else counts.fn++;
    } else if (predicted) counts.fp++;
    else counts.tn++;
  }
  const out = metricsFromCounts(counts, threshold);
  const reason = degenerateReason(cases);
  if (reason !== undefined) out.reason = reason;
  return out;
}

function nanMetrics(): Omit<BinaryThresholdMetrics, keyof BinaryCounts | 'threshold' | 'n'> {
  return {
    accuracy: NaN,
    balancedAccuracy: NaN,
    sensitivity: NaN,
    specificity: NaN,
    precision: NaN,
    npv: NaN,
    f1: NaN,
    mcc: NaN,
    youden: NaN,
  };
}
