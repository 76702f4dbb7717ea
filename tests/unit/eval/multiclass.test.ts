import { describe, expect, it } from 'vitest';
import { argmaxRows, cohenKappa, confusionMatrix, multiClassMetrics, quadraticWeightedKappa } from '../../../src/eval/multiclass.js';
import { createEvalRng } from './helpers.js';

describe('quadratic-weighted kappa and multi-class metrics', () => {
  it('matches a hand-worked 3-class example', () => {
    // truth [0,0,0,1,1,1,2,2], pred [0,0,1,1,1,2,2,1]; weights (i-j)²/4.
    // Observed weighted disagreement: 3 cells of weight 1/4 over 8 cases = 0.09375.
    // Marginals truth [3,3,2], pred [2,4,2]; expected = 18/64 = 0.28125. kappa = 1 - 1/3.
    const k = quadraticWeightedKappa([0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 2, 2, 1]);
    expect(k.observedDisagreement).toBeCloseTo(0.09375, 15);
    expect(k.expectedDisagreement).toBeCloseTo(0.28125, 15);
    expect(k.kappa).toBeCloseTo(2 / 3, 14);
  });

  it('unweighted kappa is (po - pe) / (1 - pe); perfect agreement is 1', () => {
    const rng = createEvalRng(42);
    const truth = Array.from({ length: 257 }, () => rng.int(5));
    const pred = truth.map((t) => (rng.next() < 0.6 ? t : rng.int(5)));
    const cm = confusionMatrix(truth, pred, { numClasses: 5 });
    let po = 0;
    let pe = 0;
    for (let a = 0; a < 5; a++) {
      po += cm.counts[a * 5 + a] / 257;
      let r = 0;
      let c = 0;
      for (let b = 0; b < 5; b++) {
        r += cm.counts[a * 5 + b];
        c += cm.counts[b * 5 + a];
      }
      pe += (r * c) / 257 ** 2;
    }
    expect(cohenKappa(truth, pred, { weights: 'none' }).kappa).toBeCloseTo((po - pe) / (1 - pe), 13);
    expect(quadraticWeightedKappa(truth, truth, { numClasses: 5 }).kappa).toBe(1);
    // Off-by-one grading errors cost less under quadratic weights than distant ones.
    const nearMiss = truth.map((t) => Math.min(4, t + 1));
    const farMiss = truth.map((t) => (t + 3) % 5);
    expect(quadraticWeightedKappa(truth, nearMiss).kappa).toBeGreaterThan(quadraticWeightedKappa(truth, farMiss).kappa);
  });

  it('drops missing truth, reports accuracy / balanced accuracy / macro-F1', () => {
    const truth = [0, 1, 2, 2, null, 1, NaN, -1, 0];
    const pred = [0, 1, 2, 1, 2, 1, 0, 0, 1];
    const m = multiClassMetrics(truth, pred, { numClasses: 3 });
    expect(m.n).toBe(6);
    expect(m.nMissing).toBe(3);
    expect(m.accuracy).toBeCloseTo(4 / 6, 15);
    // recalls: class0 1/2, class1 2/2, class2 1/2; F1 = 2tp/(support + predicted): c0 2/3, c1 4/6, c2 2/3.
    expect(m.balancedAccuracy).toBeCloseTo((0.5 + 1 + 0.5) / 3, 15);
    expect(m.macroF1).toBeCloseTo(2 / 3, 15);
    expect(m.perClass[1].precision).toBeCloseTo(2 / 4, 15);
  });

  it('NaN with a reason when both raters use one class; throws on non-class values', () => {
    const k = quadraticWeightedKappa([2, 2, 2], [2, 2, 2], { numClasses: 5 });
    expect(k.kappa).toBeNaN();
    expect(k.reason).toMatch(/single class/);
    expect(() => quadraticWeightedKappa([0, 1.5], [0, 1])).toThrow(/not a class index/);
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.1, 0.4], 2, 3))).toEqual([1, 0]);
  });
});
