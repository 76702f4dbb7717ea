/**
 * Multi-class and ordinal metrics over integer class labels 0..K-1: confusion
 * matrix, accuracy, balanced accuracy, macro-F1, and Cohen's kappa with
 * quadratic (default), linear or no weights — quadratic-weighted kappa is the
 * usual agreement measure for ordinal grades such as Kellgren–Lawrence 0–4.
 * Truth labels that are null, NaN or -1 are missing and dropped.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import type { RawLabel } from './labels.js';
import { assertMatrixShape } from './labels.js';

export type KappaWeights = 'quadratic' | 'linear' | 'none';

export interface ConfusionMatrix {
  numClasses: number;
  /** Row-major [truth, predicted] counts. */
  counts: Float64Array;
  n: number;
  nMissing: number;
}

export interface MultiClassMetrics {
  numClasses: number;
  n: number;
  nMissing: number;
  accuracy: number;
  /** Mean per-class recall over classes present in the truth. */
  balancedAccuracy: number;
  /** Mean per-class F1 over classes present in the truth or the predictions. */
  macroF1: number;
  perClass: { support: number; predicted: number; precision: number; recall: number; f1: number }[];
  confusion: ConfusionMatrix;
  reason?: string;
}

export interface KappaResult {
  kappa: number;
  weights: KappaWeights;
  observedDisagreement: number;
  expectedDisagreement: number;
  n: number;
  nMissing: number;
  reason?: string;
}

function isMissing(value: RawLabel): boolean {
  return value === null || value === undefined || Number.isNaN(value) || value === -1;
}

function checkClass(value: number, numClasses: number, where: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
    throw new InvalidArgumentError(`${where}: ${String(value)} is not a class index in 0..${numClasses - 1}`, { value, numClasses });
  }
  return value;
}

/** Classes 0..max found in truth and predictions when numClasses is not given. */
function inferNumClasses(truth: ArrayLike<RawLabel>, predicted: ArrayLike<number>): number {
  let max = -1;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (!isMissing(t)) max = Math.max(max, t as number);
    max = Math.max(max, predicted[i]);
  }
  return Math.max(1, Math.floor(max) + 1);
}

export function confusionMatrix(
  truth: ArrayLike<RawLabel>,
  predicted: ArrayLike<number>,
  options: { numClasses?: number } = {},
): ConfusionMatrix {
  if (truth.length !== predicted.length) {
    throw new ShapeError(`confusion matrix: ${truth.length} truth labels but ${predicted.length} predictions`, {
      truth: truth.length,
      predicted: predicted.length,
    });
  }
  const k = options.numClasses ?? inferNumClasses(truth, predicted);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`numClasses ${k} must be a positive integer`, { numClasses: k });
  const counts = new Float64Array(k * k);
  let n = 0;
  let nMissing = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (isMissing(t)) {
      nMissing++;
      continue;
    }
    const a = checkClass(t as number, k, `truth[${i}]`);
    const b = checkClass(predicted[i], k, `predicted[${i}]`);
    counts[a * k + b]++;
    n++;
  }
  return { numClasses: k, counts, n, nMissing };
}

export function multiClassMetrics(
  truth: ArrayLike<RawLabel>,
  predicted: ArrayLike<number>,
  options: { numClasses?: number } = {},
): MultiClassMetrics {
  const confusion = confusionMatrix(truth, predicted, options);
  const k = confusion.numClasses;
  const c = confusion.counts;
  let correct = 0;
  const perClass: MultiClassMetrics['perClass'] = [];
  let recallSum = 0;
  let recallCount = 0;
  let f1Sum = 0;
  let f1Count = 0;
  for (let a = 0; a < k; a++) {
    let support = 0;
    let predictedCount = 0;
    for (let b = 0; b < k; b++) {
      support += c[a * k + b];
      predictedCount += c[b * k + a];
    }
    const tp = c[a * k + a];
    correct += tp;
    const precision = predictedCount > 0 ? tp / predictedCount : NaN;
    const recall = support > 0 ? tp / support : NaN;
    const f1 = support + predictedCount > 0 ? (2 * tp) / (support + predictedCount) : NaN;
    perClass.push({ support, predicted: predictedCount, precision, recall, f1 });
    if (support > 0) {
      recallSum += recall;
      recallCount++;
    }
    if (support + predictedCount > 0) {
      f1Sum += f1;
      f1Count++;
    }
  }
  const n = confusion.n;
  const out: MultiClassMetrics = {
    numClasses: k,
    n,
    nMissing: confusion.nMissing,
    accuracy: n > 0 ? correct / n : NaN,
    balancedAccuracy: recallCount > 0 ? recallSum / recallCount : NaN,
    macroF1: f1Count > 0 ? f1Sum / f1Count : NaN,
    perClass,
    confusion,
  };
  if (n === 0) out.reason = 'no labelled cases';
  return out;
}

/**
 * Weighted Cohen's kappa: 1 - sum(w·O) / sum(w·E), O the observed confusion
 * proportions, E the outer product of the marginals, w_ab = ((a-b)/(K-1))^2
 * (quadratic), |a-b|/(K-1) (linear) or [a != b] (none).
 */
export function cohenKappa(
  truth: ArrayLike<RawLabel>,
  predicted: ArrayLike<number>,
  options: { numClasses?: number; weights?: KappaWeights } = {},
): KappaResult {
  const weights = options.weights ?? 'quadratic';
  if (weights !== 'quadratic' && weights !== 'linear' && weights !== 'none') {
    throw new InvalidArgumentError(`kappa weights '${String(weights)}' is not one of 'quadratic', 'linear', 'none'`, { weights });
  }
  const confusion = confusionMatrix(truth, predicted, options);
  const k = confusion.numClasses;
  const n = confusion.n;
  const base = { weights, n, nMissing: confusion.nMissing };
  if (n === 0) return { ...base, kappa: NaN, observedDisagreement: NaN, expectedDisagreement: NaN, reason: 'no labelled cases' };
  const rowSums = new Float64Array(k);
  const colSums = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      rowSums[a] += confusion.counts[a * k + b];
      colSums[b] += confusion.counts[a * k + b];
    }
  }
  let observed = 0;
  let expected = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const w = kappaWeight(a, b, k, weights);
      observed += (w * confusion.counts[a * k + b]) / n;
      expected += (w * rowSums[a] * colSums[b]) / (n * n);
    }
  }
  if (expected === 0) {
    return {
      ...base,
      kappa: NaN,
      observedDisagreement: observed,
      expectedDisagreement: expected,
      reason: 'expected disagreement is 0 (truth and predictions each use a single class)',
    };
  }
  return { ...base, kappa: 1 - observed / expected, observedDisagreement: observed, expectedDisagreement: expected };
}

export function quadraticWeightedKappa(
  truth: ArrayLike<RawLabel>,
  predicted: ArrayLike<number>,
  options: { numClasses?: number } = {},
): KappaResult {
  return cohenKappa(truth, predicted, { ...options, weights: 'quadratic' });
}

function kappaWeight(a: number, b: number, k: number, weights: KappaWeights): number {
  if (weights === 'none') return a === b ? 0 : 1;
  if (k === 1) return 0;
  const d = Math.abs(a - b) / (k - 1);
  return weights === 'linear' ? d : d * d;
}

/** Row-wise argmax of a row-major [rows, cols] score matrix (first index on ties). */
export function argmaxRows(scores: ArrayLike<number>, rows: number, cols: number): Int32Array {
  assertMatrixShape(scores, rows, cols, 'scores');
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestValue = scores[i * cols];
    for (let j = 1; j < cols; j++) {
      const v = scores[i * cols + j];
      if (v > bestValue || Number.isNaN(bestValue)) {
        best = j;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}
