import { describe, expect, it } from 'vitest';
import { bootstrapCI } from '../../../src/eval/bootstrap.js';
import { compareArms } from '../../../src/eval/evaluate.js';
import { delongTest } from '../../../src/eval/delongTest.js';
import { mannWhitneyAuroc } from '../../../src/eval/auroc.js';
import { bruteForceDelong, createEvalRng, gaussian } from './helpers.js';

/** Two correlated score sets on the same cases: a shared latent plus arm-specific noise. */
function pairedSample(n: number, seed: number, noiseA: number, noiseB: number) {
  const rng = createEvalRng(seed);
  const labels: number[] = [];
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.next() < 0.4 ? 1 : 0;
    const shared = y + 0.8 * gaussian(rng);
    labels.push(y);
    a[i] = Math.round((shared + noiseA * gaussian(rng)) * 20) / 20;
    b[i] = Math.round((shared + noiseB * gaussian(rng)) * 20) / 20;
  }
  return { labels, a, b };
}

describe("DeLong's test for two correlated AUROCs", () => {
  it('matches the brute-force covariance of the structural components', () => {
    const { labels, a, b } = pairedSample(157, 11, 0.3, 0.9);
    const ra = bruteForceDelong(a, labels);
    const rb = bruteForceDelong(b, labels);
    const m = ra.v10.length;
    const n = ra.v01.length;
    const cov = (x: number[], mx: number, y: number[], my: number) => x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0) / (x.length - 1);
    const expectedCov = cov(ra.v10, ra.auroc, rb.v10, rb.auroc) / m + cov(ra.v01, ra.auroc, rb.v01, rb.auroc) / n;
    const t = delongTest(a, b, labels);
    expect(t.aurocA).toBeCloseTo(ra.auroc, 13);
    expect(t.aurocB).toBeCloseTo(rb.auroc, 13);
    expect(t.varianceA).toBeCloseTo(ra.variance, 14);
    expect(t.covariance).toBeCloseTo(expectedCov, 14);
    const se = Math.sqrt(ra.variance + rb.variance - 2 * expectedCov);
    expect(t.z).toBeCloseTo((ra.auroc - rb.auroc) / se, 10);
  });

  it('variance of the difference agrees with a paired bootstrap (loose tolerance)', () => {
    const { labels, a, b } = pairedSample(400, 12, 0.1, 1.5);
    const t = delongTest(a, b, labels);
    const sa = new Float64Array(400);
    const sb = new Float64Array(400);
    const y = new Float64Array(400);
    const boot = bootstrapCI(
      400,
      (idx) => {
        idx.forEach((k, i) => {
          sa[i] = a[k];
          sb[i] = b[k];
          y[i] = labels[k];
        });
        return mannWhitneyAuroc(sa, y) - mannWhitneyAuroc(sb, y);
      },
      { reps: 1500, seed: 3, strata: labels },
    );
    const ratio = boot.standardError ** 2 / t.standardError ** 2;
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.33);
    expect(t.pValue).toBeLessThan(0.05); // arm A has much less noise
    expect(t.ci[0]).toBeGreaterThan(0);
  });

  it('gives p = 1 for identical scores and a large p for exchangeable arms', () => {
    const { labels, a, b } = pairedSample(300, 13, 0.5, 0.5);
    const same = delongTest(a, a, labels);
    expect(same.pValue).toBe(1);
    expect(same.difference).toBe(0);
    const exch = delongTest(a, b, labels);
    expect(exch.pValue).toBeGreaterThan(0.01);
    expect(exch.correlation).toBeGreaterThan(0.3);
  });

  it('is NaN with a reason on degenerate labels, and compareArms runs it per label', () => {
    const d = delongTest([0.1, 0.4, 0.3], [0.2, 0.5, 0.9], [0, 0, null]);
    expect(d.pValue).toBeNaN();
    expect(d.reason).toMatch(/only negatives/);
    const { labels, a, b } = pairedSample(120, 14, 0.3, 0.6);
    const scoresA = new Float64Array(240);
    const scoresB = new Float64Array(240);
    const lab: (number | null)[] = [];
    for (let i = 0; i < 120; i++) {
      scoresA[2 * i] = a[i];
      scoresB[2 * i] = b[i];
      scoresA[2 * i + 1] = -a[i];
      scoresB[2 * i + 1] = -b[i];
      lab.push(labels[i], i % 7 === 0 ? null : 1 - labels[i]);
    }
    const cmp = compareArms({ nameA: 'A', nameB: 'B', labelNames: ['x', 'not x'], scoresA, scoresB, labels: lab });
    expect(cmp.perLabel[0].pValue).toBeCloseTo(delongTest(a, b, labels).pValue, 12);
    expect(cmp.perLabel[1].nPositive + cmp.perLabel[1].nNegative).toBe(120 - 18);
  });
});
