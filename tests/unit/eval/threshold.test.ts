import { describe, expect, it } from 'vitest';
import { atThreshold, chooseThreshold, metricsFromCounts } from '../../../src/eval/threshold.js';
import { scoredSample } from './helpers.js';

function bruteForceBest(scores: ArrayLike<number>, labels: number[], metric: 'f1' | 'mcc' | 'youden') {
  const candidates = [...new Set(Array.from(scores))].sort((a, b) => b - a);
  let best = -Infinity;
  let bestT = NaN;
  for (const t of candidates) {
    const m = atThreshold(scores, labels, t)[metric];
    if (m > best) {
      best = m;
      bestT = t;
    }
  }
  return { best, bestT };
}

describe('thresholds chosen on validation', () => {
  it.each(['f1', 'mcc', 'youden'] as const)('chooseThreshold(%s) finds the best distinct score (checked by brute force)', (metric) => {
    for (const seed of [1, 2, 3, 4]) {
      const { scores, labels } = scoredSample(233, seed, { prevalence: 0.2, decimals: 2 });
      const choice = chooseThreshold(scores, labels, { metric });
      const ref = bruteForceBest(scores, labels, metric);
      expect(choice.threshold).toBe(ref.bestT);
      expect(choice.value).toBeCloseTo(ref.best, 13);
    }
  });

  it('applies the validation threshold unchanged to test', () => {
    const val = scoredSample(300, 10, { prevalence: 0.3 });
    const test = scoredSample(500, 11, { prevalence: 0.3 });
    const { threshold } = chooseThreshold(val.scores, val.labels, { metric: 'f1' });
    const r = atThreshold(test.scores, test.labels, threshold);
    let tp = 0;
    let fp = 0;
    test.scores.forEach((s, i) => {
      if (s >= threshold && test.labels[i] === 1) tp++;
      else if (s >= threshold) fp++;
    });
    expect(r.tp).toBe(tp);
    expect(r.fp).toBe(fp);
    expect(r.tp + r.fp + r.tn + r.fn).toBe(500);
  });

  it('computes F1, MCC and balanced accuracy from counts (hand-worked)', () => {
    // tp 6, fp 2, tn 9, fn 3.
    const m = metricsFromCounts({ tp: 6, fp: 2, tn: 9, fn: 3 });
    expect(m.f1).toBeCloseTo(12 / 17, 15);
    expect(m.mcc).toBeCloseTo((6 * 9 - 2 * 3) / Math.sqrt(8 * 9 * 11 * 12), 14);
    expect(m.balancedAccuracy).toBeCloseTo((6 / 9 + 9 / 11) / 2, 15);
    expect(m.accuracy).toBeCloseTo(15 / 20, 15);
    // Constant predictions: MCC 0 by convention, precision undefined.
    const allNeg = metricsFromCounts({ tp: 0, fp: 0, tn: 9, fn: 3 });
    expect(allNeg.mcc).toBe(0);
    expect(allNeg.precision).toBeNaN();
    expect(allNeg.f1).toBe(0);
  });

  it('degenerate validation gives a NaN threshold with a reason, and test metrics follow', () => {
    const choice = chooseThreshold([0.1, 0.5, 0.3], [0, 0, 0]);
    expect(choice.threshold).toBeNaN();
    expect(choice.reason).toMatch(/validation: only negatives/);
    const r = atThreshold([0.2, 0.6], [1, 0], choice.threshold);
    expect(r.f1).toBeNaN();
    expect(r.reason).toMatch(/threshold is NaN/);
    expect(() => chooseThreshold([0.1], [1], { metric: 'auc' as never })).toThrow(/not one of/);
  });
});
