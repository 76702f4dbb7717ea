import { describe, expect, it } from 'vitest';
import { auroc } from '../../../src/eval/auroc.js';
import { fitKnnMultiClass, fitKnnMultiLabel } from '../../../src/eval/knn.js';
import { createEvalRng, gaussian } from './helpers.js';

/** Reference multi-label kNN by full sort, float64 cosine. */
function referenceKnn(
  train: Float64Array,
  labels: (number | null)[],
  numLabels: number,
  queries: Float64Array,
  dim: number,
  k: number,
  t: number,
): number[] {
  const n = train.length / dim;
  const m = queries.length / dim;
  const norm = (v: Float64Array, i: number) => Math.sqrt(v.subarray(i * dim, (i + 1) * dim).reduce((s, x) => s + x * x, 0));
  const out: number[] = [];
  for (let q = 0; q < m; q++) {
    const sims: { i: number; s: number }[] = [];
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += train[i * dim + d] * queries[q * dim + d];
      sims.push({ i, s: dot / (norm(train, i) * norm(queries, q)) });
    }
    sims.sort((a, b) => b.s - a.s || a.i - b.i);
    for (let l = 0; l < numLabels; l++) {
      const nn = sims.filter(({ i }) => labels[i * numLabels + l] !== null).slice(0, k);
      const w = nn.map(({ s }) => Math.exp((s - nn[0].s) / t));
      out.push(nn.reduce((acc, { i }, j) => acc + w[j] * (labels[i * numLabels + l] as number), 0) / w.reduce((a, b) => a + b, 0));
    }
  }
  return out;
}

describe('kNN on embeddings', () => {
  const dim = 9;
  const rng = createEvalRng(21);
  const n = 157;
  const numLabels = 3;
  const train = Float64Array.from({ length: n * dim }, () => gaussian(rng));
  const labels: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < numLabels; l++) {
      // Label l is "coordinate l is positive", with 20% missing on label 2.
      labels.push(l === 2 && rng.next() < 0.2 ? null : train[i * dim + l] > 0 ? 1 : 0);
    }
  }
  const queries = Float64Array.from({ length: 31 * dim }, () => gaussian(rng));

  it('matches a full-sort float64 reference (exponential weights, missing labels skipped)', async () => {
    const knn = fitKnnMultiLabel({ embeddings: Float32Array.from(train), dim, labels, numLabels, k: 7, backend: 'js' });
    const got = knn.predict(queries);
    const ref = referenceKnn(Float64Array.from(Float32Array.from(train)), labels, numLabels, queries, dim, 7, 0.07);
    ref.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 5));
    expect(Array.from(await knn.predictAsync(queries))).toEqual(Array.from(got));
  });

  it('gives the same scores with the native similarity kernel (when the addon is built)', async (ctx) => {
    let native;
    try {
      native = fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels, k: 7, backend: 'native' });
    } catch (error) {
      console.warn(`skipping native kNN parity: ${(error as Error).message.split('\n')[0]}`);
      ctx.skip();
      return;
    }
    const js = fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels, k: 7, backend: 'js' });
    const a = js.predict(queries);
    const b = native.predict(queries);
    const c = await native.predictAsync(queries);
    // float32 vs float64 dot products: equal up to rounding of the exp weights.
    a.forEach((v, i) => {
      expect(b[i]).toBeCloseTo(v, 4);
      expect(c[i]).toBeCloseTo(v, 4);
    });
  });

  it('k = 1 with uniform votes returns the nearest neighbour’s label; scores rank well', () => {
    const knn1 = fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels, k: 1, weighting: 'uniform' });
    const self = knn1.predict(train.subarray(0, 10 * dim));
    for (let i = 0; i < 10; i++) expect(self[i * numLabels]).toBe(labels[i * numLabels]);
    const knn = fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels, k: 15, weighting: 'similarity' });
    const scores = knn.predict(queries);
    const truth = Array.from({ length: 31 }, (_, q) => (queries[q * dim] > 0 ? 1 : 0));
    expect(
      auroc(
        Array.from({ length: 31 }, (_, q) => scores[q * numLabels]),
        truth,
      ),
    ).toBeGreaterThan(0.8);
  });

  it('multi-class probabilities sum to 1 and follow the majority', () => {
    const classes = Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : train[i * dim] > 0.5 ? 2 : train[i * dim] > -0.5 ? 1 : 0));
    const knn = fitKnnMultiClass({ embeddings: train, dim, classes, numClasses: 3, k: 10, weighting: 'uniform' });
    const probs = knn.predict(queries);
    for (let q = 0; q < 31; q++) {
      const s = probs[q * 3] + probs[q * 3 + 1] + probs[q * 3 + 2];
      expect(s).toBeCloseTo(1, 12);
      // Uniform votes over the 10 nearest labelled cases: probabilities are tenths.
      for (let c = 0; c < 3; c++) expect(Math.abs(probs[q * 3 + c] * 10 - Math.round(probs[q * 3 + c] * 10))).toBeLessThan(1e-9);
    }
    // Against a brute-force count for the first query.
    const sims = Array.from({ length: n }, (_, i) => {
      let dot = 0;
      let nt = 0;
      let nq = 0;
      for (let d = 0; d < dim; d++) {
        dot += train[i * dim + d] * queries[d];
        nt += train[i * dim + d] ** 2;
        nq += queries[d] ** 2;
      }
      return { i, s: dot / Math.sqrt(nt * nq) };
    })
      .filter(({ i }) => classes[i] !== null)
      .sort((a, b) => b.s - a.s)
      .slice(0, 10);
    for (let c = 0; c < 3; c++) expect(probs[c]).toBeCloseTo(sims.filter(({ i }) => classes[i] === c).length / 10, 12);
  });

  it('rejects bad input with messages naming the problem', () => {
    expect(() => fitKnnMultiLabel({ embeddings: train, dim: 10, labels, numLabels })).toThrow(/not row-major \[N, 10\]/);
    const zero = train.slice();
    zero.fill(0, 0, dim);
    expect(() => fitKnnMultiLabel({ embeddings: zero, dim, labels, numLabels })).toThrow(/row 0 is the zero vector/);
    expect(() => fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels, k: 0 })).toThrow(/k 0/);
    const knn = fitKnnMultiLabel({ embeddings: train, dim, labels, numLabels });
    expect(() => knn.predict(new Float64Array(dim + 1))).toThrow(/queries/);
  });
});
