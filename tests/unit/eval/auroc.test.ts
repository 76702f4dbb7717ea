import { describe, expect, it } from 'vitest';
import { auroc, aurocWithCI, mannWhitneyAuroc, structuralComponents } from '../../../src/eval/auroc.js';
import { bootstrapAurocCI } from '../../../src/eval/bootstrap.js';
import { bruteForceDelong, createEvalRng, scoredSample } from './helpers.js';

describe('AUROC (Mann–Whitney, ties 1/2)', () => {
  it.each([2, 3, 7, 129, 1000])('matches the O(n²) pairwise reference with ties, n = %i', (n) => {
    for (const seed of [1, 2, 3]) {
      const { scores, labels } = scoredSample(n, seed * 31 + n, { decimals: 1 });
      const ref = bruteForceDelong(scores, labels);
      expect(auroc(scores, labels)).toBeCloseTo(ref.auroc, 12);
      expect(mannWhitneyAuroc(scores, labels)).toBeCloseTo(ref.auroc, 12);
    }
  });

  it('is exact on heavy ties (scores in {0, 1, 2})', () => {
    const rng = createEvalRng(5);
    const scores = Array.from({ length: 301 }, () => rng.int(3));
    const labels = scores.map((s) => (rng.next() < 0.2 + 0.25 * s ? 1 : 0));
    expect(auroc(scores, labels)).toBeCloseTo(bruteForceDelong(scores, labels).auroc, 13);
  });

  it('excludes missing (null/NaN) and uncertain labels per policy', () => {
    const { scores, labels } = scoredSample(200, 9);
    const raw: (number | null)[] = labels.slice();
    raw[3] = null;
    raw[10] = NaN;
    raw[20] = -1;
    raw[21] = -1;
    const keep = raw.map((v, i) => (v === 0 || v === 1 ? i : -1)).filter((i) => i >= 0);
    const ref = bruteForceDelong(
      keep.map((i) => scores[i]),
      keep.map((i) => raw[i] as number),
    );
    const est = aurocWithCI(scores, raw);
    expect(est.auroc).toBeCloseTo(ref.auroc, 12);
    expect(est.nMissing).toBe(4);
    // 'ones' maps the two uncertain cases to positives.
    const ones = keep.concat([20, 21]);
    const refOnes = bruteForceDelong(
      ones.map((i) => scores[i]),
      ones.map((i) => (raw[i] === -1 ? 1 : (raw[i] as number))),
    );
    expect(auroc(scores, raw, { uncertain: 'ones' })).toBeCloseTo(refOnes.auroc, 12);
  });

  it('returns NaN with a reason for one class, and never throws', () => {
    const r = aurocWithCI([0.3, 0.9, 0.1], [1, 1, null]);
    expect(r.auroc).toBeNaN();
    expect(r.reason).toMatch(/only positives/);
    expect(aurocWithCI([], []).reason).toMatch(/no labelled cases/);
    const nonFinite = aurocWithCI([0.3, NaN, 0.1, 0.7], [1, 0, 0, 1]);
    expect(nonFinite.auroc).toBeNaN();
    expect(nonFinite.reason).toMatch(/non-finite score .*index 1/);
  });

  it('throws on values that are not labels, and on length mismatch', () => {
    expect(() => auroc([0.1, 0.2], [1, 2])).toThrow(/not a binary label/);
    expect(() => auroc([0.1, 0.2, 0.3], [1, 0])).toThrow(/3 scores but 2 labels/);
  });
});

describe('DeLong variance', () => {
  it('matches a hand-computed example with a tie', () => {
    // positives 0.9, 0.6, 0.4; negatives 0.6, 0.3.
    // V10 = [1, 0.75, 0.5], V01 = [0.5, 1], AUROC = 0.75,
    // S10 = 0.0625, S01 = 0.125, Var = 0.0625/3 + 0.125/2 = 1/12.
    const r = aurocWithCI([0.9, 0.6, 0.6, 0.4, 0.3], [1, 1, 0, 1, 0]);
    expect(r.auroc).toBeCloseTo(0.75, 15);
    expect(r.variance).toBeCloseTo(1 / 12, 15);
    expect(r.ci[0]).toBeCloseTo(0.75 - 1.959963984540054 * Math.sqrt(1 / 12), 12);
    expect(r.ci[1]).toBe(1); // clipped
    const sc = structuralComponents([0.9, 0.6, 0.6, 0.4, 0.3], [1, 1, 0, 1, 0]);
    expect(Array.from(sc.v10)).toEqual([1, 0.75, 0.5]);
    expect(Array.from(sc.v01)).toEqual([0.5, 1]);
  });

  it.each([7, 129, 1000])('structural components match the O(m·n) reference, n = %i', (n) => {
    const { scores, labels } = scoredSample(n, 100 + n, { decimals: 1 });
    const ref = bruteForceDelong(scores, labels);
    const sc = structuralComponents(scores, labels);
    sc.v10.forEach((v, i) => expect(v).toBeCloseTo(ref.v10[i], 13));
    sc.v01.forEach((v, i) => expect(v).toBeCloseTo(ref.v01[i], 13));
    expect(aurocWithCI(scores, labels).variance).toBeCloseTo(ref.variance, 14);
  });

  it('agrees with a stratified bootstrap variance (loose tolerance)', () => {
    const { scores, labels } = scoredSample(300, 2024, { shift: 1.2, decimals: 2 });
    const delong = aurocWithCI(scores, labels);
    const boot = bootstrapAurocCI(scores, labels, { reps: 2000, seed: 7 });
    const ratio = boot.standardError ** 2 / delong.variance;
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
    expect(Math.abs(boot.lower - delong.ci[0])).toBeLessThan(0.02);
    expect(Math.abs(boot.upper - delong.ci[1])).toBeLessThan(0.02);
  });

  it('reports NaN variance with a reason below 2 cases per class, and a degenerate CI at perfect separation', () => {
    const one = aurocWithCI([0.9, 0.2, 0.1, 0.4], [1, 0, 0, 0]);
    expect(one.auroc).toBe(1);
    expect(one.variance).toBeNaN();
    expect(one.reason).toMatch(/at least 2 positives/);
    const perfect = aurocWithCI([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]);
    expect(perfect.ci).toEqual([1, 1]);
    expect(perfect.reason).toMatch(/variance is 0/);
  });
});
