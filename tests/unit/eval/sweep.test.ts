import { describe, expect, it } from 'vitest';
import { fitKnnMultiLabel } from '../../../src/eval/knn.js';
import { labelFractionSubset, meanSd, sweepLabelFractions } from '../../../src/eval/sweep.js';
import { DIM, LABELS, embeddingSplit } from './fixtures.js';

describe('label-fraction subsets', () => {
  it('are seeded, nested across fractions for one seed, and sized round(f·N)', () => {
    const a = labelFractionSubset(1000, 0.1, 7);
    expect(a.length).toBe(100);
    expect(Array.from(labelFractionSubset(1000, 0.1, 7))).toEqual(Array.from(a));
    expect(Array.from(labelFractionSubset(1000, 0.1, 8))).not.toEqual(Array.from(a));
    const small = new Set(labelFractionSubset(1000, 0.01, 7));
    expect(small.size).toBe(10);
    for (const i of small) expect(a).toContain(i);
    expect(labelFractionSubset(1000, 1, 7).length).toBe(1000);
    expect(labelFractionSubset(5, 0.01, 1).length).toBe(1);
  });

  it('are topped up so every label has a positive and a negative when the pool has them', () => {
    const { labels } = embeddingSplit(400, 3);
    for (const seed of [0, 1, 2, 3, 4]) {
      const idx = labelFractionSubset(400, 0.01, seed, { labels, numLabels: LABELS.length });
      for (let l = 0; l < LABELS.length; l++) {
        const ys = Array.from(idx, (i) => labels[i * LABELS.length + l]);
        expect(ys).toContain(1);
        expect(ys).toContain(0);
      }
    }
  });
});

describe('sweepLabelFractions', () => {
  it('fits one predictor per (fraction, seed) and aggregates mean ± sd over seeds', async () => {
    const pool = embeddingSplit(300, 10);
    const test = embeddingSplit(150, 11);
    const val = embeddingSplit(100, 12);
    const fitted: { size: number; seed: number }[] = [];
    const result = await sweepLabelFractions({
      arm: 'kNN (k=10)',
      fractions: [0.05, 0.2, 1],
      seeds: [0, 1, 2],
      poolSize: 300,
      poolLabels: pool.labels,
      labelNames: LABELS,
      fit: async (trainIdx, seed) => {
        fitted.push({ size: trainIdx.length, seed });
        const embeddings = new Float64Array(trainIdx.length * DIM);
        const labels: (number | null)[] = [];
        trainIdx.forEach((i, r) => {
          embeddings.set(pool.embeddings.subarray(i * DIM, (i + 1) * DIM), r * DIM);
          for (let l = 0; l < LABELS.length; l++) labels.push(pool.labels[i * LABELS.length + l]);
        });
        return fitKnnMultiLabel({ embeddings, dim: DIM, labels, numLabels: LABELS.length, k: 10 });
      },
      test: { inputs: test.embeddings, labels: test.labels },
      validation: { inputs: val.embeddings, labels: val.labels },
    });
    expect(result.runs.length).toBe(9);
    expect(fitted.filter((f) => f.size === 300).length).toBe(3);
    const row = result.summary.find((r) => r.fraction === 0.2)!;
    const runs = result.runs.filter((r) => r.fraction === 0.2);
    const manual = meanSd(runs.map((r) => r.metrics.macroAuroc));
    expect(row.metrics.macroAuroc.mean).toBeCloseTo(manual.mean, 14);
    expect(row.metrics.macroAuroc.sd).toBeCloseTo(
      Math.sqrt(runs.reduce((s, r) => s + (r.metrics.macroAuroc - manual.mean) ** 2, 0) / 2),
      14,
    );
    expect(row.metrics['auroc:Pneumothorax'].n).toBe(3);
    const run = runs[0];
    expect(run.aurocCI.Cardiomegaly[0]).toBeLessThan(run.metrics['auroc:Cardiomegaly']);
    expect(run.aurocCI.Cardiomegaly[1]).toBeGreaterThan(run.metrics['auroc:Cardiomegaly']);
    expect(row.metrics.macroF1.mean).toBeGreaterThan(0);
    // Full-data kNN beats 5% of the labels on this problem.
    const at = (f: number) => result.summary.find((r) => r.fraction === f)!.metrics.macroAuroc.mean;
    expect(at(1)).toBeGreaterThan(at(0.05));
    expect(at(1)).toBeGreaterThan(0.75);
  });

  it('validates fractions and seeds up front', async () => {
    const base = {
      seeds: [0],
      poolSize: 10,
      labelNames: ['x'],
      fit: async () => ({ predict: () => [0.5] }),
      test: { inputs: null, labels: [1] },
    };
    await expect(sweepLabelFractions({ ...base, fractions: [0] })).rejects.toThrow(/fraction 0 must lie in/);
    await expect(sweepLabelFractions({ ...base, fractions: [0.5], seeds: [0.5] })).rejects.toThrow(/seed 0.5/);
  });
});
