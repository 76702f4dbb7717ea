import { describe, expect, it } from 'vitest';
import { auroc } from '../../../src/eval/auroc.js';
import { averagePrecision, prCurve, rocCurve, trapezoidArea } from '../../../src/eval/curves.js';
import { scoredSample } from './helpers.js';

describe('ROC and PR curves', () => {
  it('the trapezoid area under rocCurve equals the Mann–Whitney AUROC (ties give diagonal steps)', () => {
    for (const n of [5, 77, 640]) {
      const { scores, labels } = scoredSample(n, n, { decimals: 1 });
      const roc = rocCurve(scores, labels);
      expect(roc.fpr[0]).toBe(0);
      expect(roc.tpr[0]).toBe(0);
      expect(roc.fpr[roc.fpr.length - 1]).toBe(1);
      expect(roc.tpr[roc.tpr.length - 1]).toBe(1);
      expect(trapezoidArea(roc.fpr, roc.tpr)).toBeCloseTo(auroc(scores, labels), 12);
      for (let i = 1; i < roc.fpr.length; i++) {
        expect(roc.fpr[i]).toBeGreaterThanOrEqual(roc.fpr[i - 1]);
        expect(roc.thresholds[i]).toBeLessThan(roc.thresholds[i - 1]);
      }
    }
  });

  it('average precision matches a hand-worked example', () => {
    // Sorted by score: 0.9 (+), 0.8 (-), 0.7 (+), 0.6 (-), 0.5 (+).
    // AP = 1/3·(1/1) + 1/3·(2/3) + 1/3·(3/5) = 0.7555...
    const scores = [0.7, 0.5, 0.9, 0.6, 0.8];
    const labels = [1, 1, 1, 0, 0];
    expect(averagePrecision(scores, labels)).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 14);
    const pr = prCurve(scores, labels);
    expect(Array.from(pr.recall)).toEqual([1 / 3, 1 / 3, 2 / 3, 2 / 3, 1]);
    expect(pr.precision[2]).toBeCloseTo(2 / 3, 15);
  });

  it('groups tied scores into one operating point', () => {
    // Tie at 0.5 between one positive and one negative: precision 2/3 at recall 1.
    const ap = averagePrecision([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(ap).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 14);
    expect(rocCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]).fpr.length).toBe(4);
  });

  it('returns empty curves with a reason for one class', () => {
    expect(rocCurve([0.2, 0.4], [1, 1]).reason).toMatch(/only positives/);
    expect(averagePrecision([0.2, 0.4], [0, 0])).toBeNaN();
  });
});
