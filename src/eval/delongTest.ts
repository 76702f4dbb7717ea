/**
 * DeLong's test for the difference of two correlated AUROCs: two sets of scores
 * (e.g. zero-shot and linear probe) on the same labelled cases. The covariance of
 * (AUROC_A, AUROC_B) is S10/m + S01/n, where S10 and S01 are the 2×2 sample
 * covariance matrices of the structural components; the difference has variance
 * var_A + var_B - 2 cov_AB, and z = (A - B) / SE is compared to N(0, 1).
 */
import { structuralComponents, sampleVariance, sampleCovariance, checkLevel } from './auroc.js';
import { selectLabelledCases, degenerateReason, type RawLabel, type UncertainPolicy } from './labels.js';
import { normalQuantile, twoSidedPValue } from './normal.js';
import { ShapeError } from '../errors.js';

export interface DelongTestResult {
  aurocA: number;
  aurocB: number;
  /** aurocA - aurocB */
  difference: number;
  varianceA: number;
  varianceB: number;
  covariance: number;
  /** Correlation of the two AUROC estimates. */
  correlation: number;
  standardError: number;
  z: number;
  /** Two-sided p-value for H0: AUROC_A = AUROC_B. */
  pValue: number;
  /** Interval for the difference, clipped to [-1, 1]. */
  ci: [number, number];
  level: number;
  nPositive: number;
  nNegative: number;
  reason?: string;
}

export function delongTest(
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  labels: ArrayLike<RawLabel>,
  options: { uncertain?: UncertainPolicy; level?: number; name?: string } = {},
): DelongTestResult {
  const level = checkLevel(options.level ?? 0.95);
  const name = options.name ?? 'labels';
  if (scoresA.length !== scoresB.length) {
    throw new ShapeError(
      `${name}: the two score arrays differ in length (${scoresA.length} vs ${scoresB.length}); DeLong's test needs both on the same cases`,
      {
        a: scoresA.length,
        b: scoresB.length,
      },
    );
  }
  const casesA = selectLabelledCases(scoresA, labels, { uncertain: options.uncertain, name });
  const casesB = selectLabelledCases(scoresB, labels, { uncertain: options.uncertain, name });
  const nan = (reason: string): DelongTestResult => ({
    aurocA: NaN,
    aurocB: NaN,
    difference: NaN,
    varianceA: NaN,
    varianceB: NaN,
    covariance: NaN,
    correlation: NaN,
    standardError: NaN,
    z: NaN,
    pValue: NaN,
    ci: [NaN, NaN],
    level,
    nPositive: casesA.nPositive,
    nNegative: casesA.nNegative,
    reason,
  });
  const reason = degenerateReason(casesA) ?? degenerateReason(casesB);
  if (reason !== undefined) return nan(reason);

  const a = structuralComponents(casesA.scores, casesA.labels);
  const b = structuralComponents(casesB.scores, casesB.labels);
  const m = a.v10.length;
  const n = a.v01.length;
  if (m < 2 || n < 2) return nan(`DeLong's test needs at least 2 positives and 2 negatives (have ${m} and ${n})`);

  const varianceA = sampleVariance(a.v10, a.auroc) / m + sampleVariance(a.v01, a.auroc) / n;
  const varianceB = sampleVariance(b.v10, b.auroc) / m + sampleVariance(b.v01, b.auroc) / n;
  const covariance = sampleCovariance(a.v10, a.auroc, b.v10, b.auroc) / m + sampleCovariance(a.v01, a.auroc, b.v01, b.auroc) / n;
  // Clamp tiny negative values from rounding when A and B are (nearly) the same scores.
  const varianceDiff = Math.max(0, varianceA + varianceB - 2 * covariance);
  const difference = a.auroc - b.auroc;
  const standardError = Math.sqrt(varianceDiff);
  const zCrit = normalQuantile(0.5 + level / 2);
  const result: DelongTestResult = {
    aurocA: a.auroc,
    aurocB: b.auroc,
    difference,
    varianceA,
    varianceB,
    covariance,
    correlation: covariance / Math.sqrt(varianceA * varianceB),
    standardError,
    z: difference / standardError,
    pValue: NaN,
    ci: [Math.max(-1, difference - zCrit * standardError), Math.min(1, difference + zCrit * standardError)],
    level,
    nPositive: m,
    nNegative: n,
  };
  if (standardError === 0) {
    // Identical component vectors: the two AUROCs cannot differ on resampling.
    result.z = difference === 0 ? 0 : Math.sign(difference) * Infinity;
    result.pValue = difference === 0 ? 1 : 0;
    result.reason = 'the variance of the difference is 0 (the two score sets rank the cases identically)';
  } else {
    result.pValue = twoSidedPValue(result.z);
  }
  return result;
}
