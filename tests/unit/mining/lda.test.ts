/**
 * LDA on a corpus with planted topics: radlearn recovers them, deterministically on any thread count,
 * and as well as scikit-learn's LatentDirichletAllocation with the same k, priors and method, with a
 * held-out perplexity within 5% of scikit-learn's; scikit-learn's own perplexity and transform of
 * radlearn's topics agree with radlearn's to rounding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitLda, type LdaMethod } from '../../../src/mining/lda.js';
import { selectRows, vectorize, type DocTermMatrix } from '../../../src/mining/vectorize.js';
import { plantedCorpus } from '../../helpers/planted-topics.js';
import { runPythonOracle, sklearnMissing, sklearnRequired } from '../../helpers/sklearn.js';
import { matchedTopicCosine } from '../../helpers/topic-match.js';

const K = 6;
let train: DocTermMatrix;
let test: DocTermMatrix;
/** The planted topics over the vectorizer's vocabulary, [K, V]. */
let truth: Float64Array;

beforeAll(() => {
  const corpus = plantedCorpus({ k: K, vocabulary: 300, documents: 2000, alpha: 0.3, minLength: 40, maxLength: 80, seed: 1 });
  const { vocabulary, matrix } = vectorize(corpus.texts);
  const V = vocabulary.length;
  const source = new Map(corpus.vocabulary.map((w, i) => [w, i]));
  truth = new Float64Array(K * V);
  for (let t = 0; t < K; t++)
    vocabulary.forEach((w, j) => (truth[t * V + j] = corpus.truth[t * corpus.vocabulary.length + source.get(w)!]!));
  train = selectRows(
    matrix,
    Array.from({ length: 1500 }, (_, i) => i),
  );
  test = selectRows(
    matrix,
    Array.from({ length: 500 }, (_, i) => 1500 + i),
  );
});

describe('fitLda', () => {
  it('recovers the planted topics, and a seed gives the same topics in this thread and on two workers', async () => {
    const here = await fitLda(train, { k: K, seed: 1, method: 'online', workers: 0 });
    const threads = await fitLda(train, { k: K, seed: 1, method: 'online', workers: 2 });
    expect(Buffer.from(threads.components().buffer).equals(Buffer.from(here.components().buffer))).toBe(true);
    expect(matchedTopicCosine(truth, here.components(), K)).toBeGreaterThan(0.99);
    const other = await fitLda(train, { k: K, seed: 2, method: 'online', workers: 0 });
    expect(Buffer.from(other.components().buffer).equals(Buffer.from(here.components().buffer))).toBe(false);
    // inference on two workers gives what it gives here
    const a = await here.transform(test, { workers: 0 });
    const b = await here.transform(test, { workers: 2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    for (let d = 0; d < test.rows; d++) expect(a.subarray(d * K, (d + 1) * K).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('refuses bad settings with the option named', async () => {
    await expect(fitLda(train, { k: 1 })).rejects.toThrow(/k must be at least 2/);
    await expect(fitLda(train, { k: 4, alpha: -1 })).rejects.toThrow(/alpha must be a positive number/);
    await expect(fitLda(train, { k: 4, method: 'gibbs' as LdaMethod })).rejects.toThrow(/method must be/);
    await expect(fitLda(train, { k: 4, workers: 1.5 })).rejects.toThrow(/workers/);
    await expect(fitLda({ ...train, values: train.values.map((v, i) => (i === 3 ? -1 : v)) }, { k: 4 })).rejects.toThrow(/entry 3/);
  });
});

interface SklearnRun {
  seed: number;
  seconds: number;
  perplexity: number;
  trainPerplexity: number;
  recovery: number;
  ours: { perplexity: number; trainPerplexity: number; recovery: number; transform?: number[] };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Variational LDA lands in a local optimum (two planted topics merged, one split) for some seeds, in scikit-learn as here: compare over seeds. */
const SEEDS = [0, 1, 2, 3, 4, 5];

const missing = sklearnMissing();
if (missing && !sklearnRequired()) console.warn(`skipping the LatentDirichletAllocation parity tests: ${missing}`);

describe('fitLda matches scikit-learn LatentDirichletAllocation', () => {
  it.runIf(missing !== null && sklearnRequired())('has scikit-learn (required under CI; .ci/run installs python3-sklearn)', () => {
    throw new Error(missing!);
  });

  it.skipIf(missing !== null).each(['batch', 'online'] as const)(
    '%s: mean topic recovery and held-out perplexity over 6 seeds within 5%%',
    async (method) => {
      const alpha = 1 / K;
      const eta = 1 / K;
      const models = [];
      for (const seed of SEEDS) models.push(await fitLda(train, { k: K, seed, method, alpha, eta, iterations: 10, workers: 0 }));
      const perplexities: number[] = [];
      for (const m of models) perplexities.push(await m.perplexity(test, { workers: 0 }));
      const plain = (m: DocTermMatrix) => ({
        rows: m.rows,
        cols: m.cols,
        indptr: [...m.indptr],
        indices: [...m.indices],
        values: [...m.values],
      });
      const script = join(dirname(fileURLToPath(import.meta.url)), 'sklearn_lda_oracle.py');
      const runs = runPythonOracle<SklearnRun[]>(script, {
        k: K,
        alpha,
        eta,
        method,
        iterations: 10,
        seeds: SEEDS,
        train: plain(train),
        test: plain(test),
        ours: models.map((m) => [...m.components()]),
        truth: [...truth],
      });
      const recovery = { ours: mean(runs.map((r) => r.ours.recovery)), sklearn: mean(runs.map((r) => r.recovery)) };
      const perplexity = { ours: mean(perplexities), sklearn: mean(runs.map((r) => r.perplexity)) };
      console.log(
        `LDA ${method}, k=${K}, seeds ${SEEDS.join(',')}: mean recovery radlearn ${recovery.ours.toFixed(4)} vs scikit-learn ${recovery.sklearn.toFixed(4)} ` +
          `(per seed ${runs.map((r) => r.ours.recovery.toFixed(3)).join(' ')} vs ${runs.map((r) => r.recovery.toFixed(3)).join(' ')}); ` +
          `mean held-out perplexity radlearn ${perplexity.ours.toFixed(2)} vs scikit-learn ${perplexity.sklearn.toFixed(2)}`,
      );
      expect(recovery.ours).toBeGreaterThanOrEqual(0.95 * recovery.sklearn);
      expect(Math.max(...runs.map((r) => r.ours.recovery))).toBeGreaterThan(0.99);
      expect(Math.abs(perplexity.ours - perplexity.sklearn) / perplexity.sklearn).toBeLessThan(0.05);
      const trainPerplexity = { ours: 0, sklearn: mean(runs.map((r) => r.trainPerplexity)) };
      for (const m of models) trainPerplexity.ours += (await m.perplexity(train, { workers: 0 })) / models.length;
      expect(Math.abs(trainPerplexity.ours - trainPerplexity.sklearn) / trainPerplexity.sklearn).toBeLessThan(0.05);
      // radlearn's matching agrees with scipy's Hungarian algorithm
      models.forEach((m, i) => expect(matchedTopicCosine(truth, m.components(), K)).toBeCloseTo(runs[i]!.ours.recovery, 10));
      // scikit-learn's perplexity and transform of radlearn's topics: the same E-step and bound
      runs.forEach((r, i) => expect(Math.abs(perplexities[i]! - r.ours.perplexity) / r.ours.perplexity).toBeLessThan(1e-7));
      const proportions = await models[0]!.transform(test, { workers: 0 });
      let worst = 0;
      proportions.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - runs[0]!.ours.transform![i]!))));
      expect(worst).toBeLessThan(1e-6);
    },
  );
});
