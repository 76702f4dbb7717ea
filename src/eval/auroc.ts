/**
 * AUROC as the Mann–Whitney statistic (ties count 1/2) and DeLong's variance from
 * the structural components, computed in O(N log N) with midranks (Sun & Xu 2014).
 *
 * For positives x_i (i < m) and negatives y_j (j < n), psi(x, y) = 1 if x > y,
 * 1/2 if x = y, 0 otherwise; AUROC = mean psi. The structural components are
 * V10_i = mean_j psi(x_i, y_j) and V01_j = mean_i psi(x_i, y_j), and
 * Var(AUROC) = S10/m + S01/n with S10, S01 their sample variances (denominator
 * m - 1, n - 1). Midrank differences are half-integers, exact in float64.
 */
import { selectLabelledCases, degenerateReason, type RawLabel, type UncertainPolicy, type LabelledCases } from './labels.js';
import { midranks } from './ranks.js';
import { normalQuantile } from './normal.js';
import { InvalidArgumentError } from '../errors.js';

export interface StructuralComponents {
  auroc: number;
  /** V10, one per positive case, in input order of the positives. */
  v10: Float64Array;
  /** V01, one per negative case. */
  v01: Float64Array;
}

export interface AurocEstimate {
  auroc: number;
  /** DeLong variance of the AUROC estimate (NaN with fewer than 2 of either class). */
  variance: number;
  standardError: number;
  /** Normal-approximation interval AUROC ± z·SE, clipped to [0, 1]. */
  ci: [number, number];
  level: number;
  nPositive: number;
  nNegative: number;
  nMissing: number;
  /** Set when auroc or the CI is NaN or degenerate, saying why. */
  reason?: string;
}

export interface AurocOptions {
  uncertain?: UncertainPolicy;
  /** Confidence level of the interval, default 0.95. */
  level?: number;
  name?: string;
}

/**
 * Structural components from 0/1 labels (both classes present, scores finite).
 * Callers that start from raw labels use aurocWithCI / delongTest instead.
 */
export function structuralComponents(scores: ArrayLike<number>, labels: ArrayLike<number>): StructuralComponents {
  const total = scores.length;
  let m = 0;
  for (let i = 0; i < total; i++) m += labels[i] === 1 ? 1 : 0;
  const n = total - m;
  const pos = new Float64Array(m);
  const neg = new Float64Array(n);
  for (let i = 0, p = 0, q = 0; i < total; i++) {
    if (labels[i] === 1) pos[p++] = scores[i];
    else neg[q++] = scores[i];
  }
  const combinedRanks = midranks(scores);
  const posRanks = midranks(pos);
  const negRanks = midranks(neg);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let rankSum = 0;
  for (let i = 0, p = 0, q = 0; i < total; i++) {
    if (labels[i] === 1) {
      rankSum += combinedRanks[i];
      // combined rank - rank among positives = negatives below (+1/2 per tie).
      v10[p] = (combinedRanks[i] - posRanks[p]) / n;
      p++;
    } else {
      // positives above = m - (positives below + ties/2).
      v01[q] = 1 - (combinedRanks[i] - negRanks[q]) / m;
      q++;
    }
  }
  const auroc = (rankSum - (m * (m + 1)) / 2) / (m * n);
  return { auroc, v10, v01 };
}

/** Mann–Whitney AUROC from 0/1 labels via the rank sum; NaN when a class is absent. */
export function mannWhitneyAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const ranks = midranks(scores);
  let m = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] === 1) {
      m++;
      rankSum += ranks[i];
    }
  }
  const n = scores.length - m;
  if (m === 0 || n === 0) return NaN;
  return (rankSum - (m * (m + 1)) / 2) / (m * n);
}

/** AUROC alone (Mann–Whitney, ties 1/2); NaN when a class is absent. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<RawLabel>, options: AurocOptions = {}): number {
  return aurocWithCI(scores, labels, options).auroc;
}

/** AUROC with its DeLong variance and confidence interval. Never throws on degenerate data. */
export function aurocWithCI(scores: ArrayLike<number>, labels: ArrayLike<RawLabel>, options: AurocOptions = {}): AurocEstimate {
  const level = checkLevel(options.level ?? 0.95);
  const cases = selectLabelledCases(scores, labels, { uncertain: options.uncertain, name: options.name });
  return aurocFromCases(cases, level);
}

export function aurocFromCases(cases: LabelledCases, level: number): AurocEstimate {
  const base = { level, nPositive: cases.nPositive, nNegative: cases.nNegative, nMissing: cases.nMissing };
  const reason = degenerateReason(cases);
  if (reason !== undefined) {
    return { ...base, auroc: NaN, variance: NaN, standardError: NaN, ci: [NaN, NaN], reason };
  }
  const sc = structuralComponents(cases.scores, cases.labels);
  const m = sc.v10.length;
  const n = sc.v01.length;
  if (m < 2 || n < 2) {
    return {
      ...base,
      auroc: sc.auroc,
      variance: NaN,
      standardError: NaN,
      ci: [NaN, NaN],
      reason: `DeLong variance needs at least 2 positives and 2 negatives (have ${m} and ${n})`,
    };
  }
  const variance = sampleVariance(sc.v10, sc.auroc) / m + sampleVariance(sc.v01, sc.auroc) / n;
  const se = Math.sqrt(variance);
  const z = normalQuantile(0.5 + level / 2);
  const ci: [number, number] = [Math.max(0, sc.auroc - z * se), Math.min(1, sc.auroc + z * se)];
  const out: AurocEstimate = { ...base, auroc: sc.auroc, variance, standardError: se, ci };
  if (variance === 0) {
    out.reason = 'DeLong variance is 0 (classes perfectly separated or all pairs tied); the interval is degenerate, prefer a bootstrap CI';
  }
  return out;
}

/** Sample variance around a given mean (denominator length - 1). */
export function sampleVariance(values: Float64Array, mean: number): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    s += d * d;
  }
  return s / (values.length - 1);
}

export function sampleCovariance(a: Float64Array, meanA: number, b: Float64Array, meanB: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - meanA) * (b[i] - meanB);
  return s / (a.length - 1);
}

export function checkLevel(level: number): number {
  if (!(level > 0 && level < 1)) {
    throw new InvalidArgumentError(`confidence level ${level} must lie strictly between 0 and 1 (e.g. 0.95)`, { level });
  }
  return level;
}
