/**
 * A corpus drawn from LDA's own generative model with known topics: K topics over V made-up words,
 * each topic putting most of its mass on its own block of anchor words (shared words between
 * neighbouring blocks, a small floor everywhere); each document's proportions θ ~ Dirichlet(α),
 * its words drawn one by one. Deterministic by seed (the project's counter-based Rng).
 */
import { Rng } from '../../src/random/index.js';
import { gammaDraw } from '../../src/mining/lda-estep.js';

export interface PlantedCorpus {
  k: number;
  /** Word strings (lowercase letters and digits, never stop words). */
  vocabulary: string[];
  /** True topic–word distributions, [K, V] row-major. */
  truth: Float64Array;
  /** Documents as text (words joined by spaces). */
  texts: string[];
}

export function plantedCorpus(options: {
  k: number;
  vocabulary: number;
  documents: number;
  alpha: number;
  minLength: number;
  maxLength: number;
  seed: number;
  /** Share of the next topic's block each topic also favours (default 0.2). */
  overlap?: number;
}): PlantedCorpus {
  const { k, documents, alpha, minLength, maxLength, seed } = options;
  const V = options.vocabulary;
  const vocabulary = Array.from({ length: V }, (_, w) => `w${w.toString(36).padStart(3, '0')}x`);
  const truth = new Float64Array(k * V);
  const block = Math.floor(V / k);
  const rng = new Rng(seed, 'planted-topics');
  for (let t = 0; t < k; t++) {
    let s = 0;
    for (let w = 0; w < V; w++) {
      const inBlock = w >= t * block && w < (t + 1) * block + Math.floor(block * (options.overlap ?? 0.2));
      const v = (inBlock ? 1 + 4 * rng.next() : 0) + 0.01;
      truth[t * V + w] = v;
      s += v;
    }
    for (let w = 0; w < V; w++) truth[t * V + w]! /= s;
  }
  const cumulative = new Float64Array(k * V);
  for (let t = 0; t < k; t++) {
    let c = 0;
    for (let w = 0; w < V; w++) cumulative[t * V + w] = c += truth[t * V + w]!;
  }
  const texts: string[] = [];
  for (let d = 0; d < documents; d++) {
    const r = new Rng(seed, 'planted-doc', d);
    // θ ~ Dirichlet(α) via Gamma(α + 1) · U^(1/α) (Marsaglia–Tsang needs shape >= 1)
    const theta = Array.from({ length: k }, () => gammaDraw(r, alpha + 1) * Math.pow(r.next() || 1e-300, 1 / alpha));
    const sum = theta.reduce((a, b) => a + b, 0);
    const length = r.intBetween(minLength, maxLength);
    const words: string[] = [];
    for (let i = 0; i < length; i++) {
      let u = r.next() * sum;
      let t = 0;
      while (t < k - 1 && u >= theta[t]!) u -= theta[t++]!;
      const x = r.next();
      let lo = 0;
      let hi = V - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[t * V + mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      words.push(vocabulary[lo]!);
    }
    texts.push(words.join(' '));
  }
  return { k, vocabulary, truth, texts };
}
