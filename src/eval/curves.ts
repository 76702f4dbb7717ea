/**
 * ROC and precision–recall curves, and average precision (AUPRC). One point per
 * distinct score: tied cases enter together, so the curves do not depend on the
 * order of ties. Predicted positive means score >= threshold.
 */
import { selectLabelledCases, degenerateReason, type RawLabel, type UncertainPolicy, type LabelledCases } from './labels.js';
import { argsortDescending } from './ranks.js';

export interface RocCurve {
  /** Starts at (0, 0) with threshold +Infinity and ends at (1, 1). */
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
  reason?: string;
}

export interface PrCurve {
  /** Increasing recall; the first point is the highest threshold. */
  recall: Float64Array;
  precision: Float64Array;
  thresholds: Float64Array;
  reason?: string;
}

/** Cumulative true/false positives at each distinct score, highest score first. */
export interface OperatingPoints {
  thresholds: Float64Array;
  tp: Float64Array;
  fp: Float64Array;
  nPositive: number;
  nNegative: number;
}

export function operatingPoints(cases: LabelledCases): OperatingPoints {
  const order = argsortDescending(cases.scores);
  const n = order.length;
  const thresholds: number[] = [];
  const tp: number[] = [];
  const fp: number[] = [];
  let t = 0;
  let f = 0;
  for (let i = 0; i < n; i++) {
    const k = order[i];
    if (cases.labels[k] === 1) t++;
    else f++;
    const last = i === n - 1 || cases.scores[order[i + 1]] !== cases.scores[k];
    if (last) {
      thresholds.push(cases.scores[k]);
      tp.push(t);
      fp.push(f);
    }
  }
  return {
    thresholds: Float64Array.from(thresholds),
    tp: Float64Array.from(tp),
    fp: Float64Array.from(fp),
    nPositive: cases.nPositive,
    nNegative: cases.nNegative,
  };
}

export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<RawLabel>, options: { uncertain?: UncertainPolicy } = {}): RocCurve {
  const cases = selectLabelledCases(scores, labels, options);
  const reason = degenerateReason(cases);
  if (reason !== undefined) return { fpr: new Float64Array(0), tpr: new Float64Array(0), thresholds: new Float64Array(0), reason };
  const ops = operatingPoints(cases);
  const k = ops.thresholds.length;
  const fpr = new Float64Array(k + 1);
  const tpr = new Float64Array(k + 1);
  const thresholds = new Float64Array(k + 1);
  thresholds[0] = Infinity;
  for (let i = 0; i < k; i++) {
    fpr[i + 1] = ops.fp[i] / ops.nNegative;
    tpr[i + 1] = ops.tp[i] / ops.nPositive;
    thresholds[i + 1] = ops.thresholds[i];
  }
  return { fpr, tpr, thresholds };
}

export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<RawLabel>, options: { uncertain?: UncertainPolicy } = {}): PrCurve {
  const cases = selectLabelledCases(scores, labels, options);
  const reason = degenerateReason(cases);
  if (reason !== undefined) return { recall: new Float64Array(0), precision: new Float64Array(0), thresholds: new Float64Array(0), reason };
  const ops = operatingPoints(cases);
  const k = ops.thresholds.length;
  const recall = new Float64Array(k);
  const precision = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    recall[i] = ops.tp[i] / ops.nPositive;
    precision[i] = ops.tp[i] / (ops.tp[i] + ops.fp[i]);
  }
  return { recall, precision, thresholds: ops.thresholds.slice() };
}

/**
 * Average precision: sum over distinct thresholds of (R_k - R_{k-1}) · P_k, the
 * step-wise area under the PR curve (no interpolation), as scikit-learn defines it.
 */
export function averagePrecision(
  scores: ArrayLike<number>,
  labels: ArrayLike<RawLabel>,
  options: { uncertain?: UncertainPolicy } = {},
): number {
  const cases = selectLabelledCases(scores, labels, options);
  return averagePrecisionFromCases(cases);
}

export function averagePrecisionFromCases(cases: LabelledCases): number {
  if (degenerateReason(cases) !== undefined) return NaN;
  const ops = operatingPoints(cases);
  let ap = 0;
  let prevTp = 0;
  for (let i = 0; i < ops.thresholds.length; i++) {
    const tp = ops.tp[i];
    if (tp > prevTp) ap += ((tp - prevTp) / ops.nPositive) * (tp / (tp + ops.fp[i]));
    prevTp = tp;
  }
  return ap;
}

/** Trapezoidal area under a ROC curve (equals the Mann–Whitney AUROC for curves from rocCurve). */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}
