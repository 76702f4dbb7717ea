/**
 * The E-step of variational LDA (Hoffman, Blei & Bach 2010, algorithm 1's inner loop) over one
 * chunk of documents: each document's variational Dirichlet γ_d is iterated with the fixed
 * topics until its mean change falls below the tolerance; then its expected word–topic counts
 * (the sufficient statistics of the M-step) and, when asked, its part of the evidence bound.
 * A pure function of its inputs: the main thread and the worker threads run this same code, and
 * chunks have fixed boundaries, so the result does not depend on how many threads share the work.
 */
import { Rng, hashKeys } from '../random/index.js';
import { digamma, expDigamma, logGamma } from './special.js';

/** What the E-step reads of the corpus: CSR counts. */
export interface CountRows {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export interface EStepSettings {
  k: number;
  /** Dirichlet prior α of the document–topic proportions. */
  alpha: number;
  maxIterations: number;
  tolerance: number;
}

export interface EStepJob {
  start: number;
  end: number;
  /**
   * Where each document's γ starts: 'random' draws Gamma(100, 0.01) keyed by (seed, pass, document)
   * (fitting, as scikit-learn), 'ones' is all ones (inference, as scikit-learn's transform).
   */
  init: 'random' | 'ones';
  seed: number;
  pass: number;
  /** Accumulate the sufficient statistics. */
  stats: boolean;
  /** Add up the documents' part of the evidence bound (needs E[log β]). */
  bound: boolean;
}

export interface EStepResult {
  /** Sufficient statistics, sparse by word: the words seen and, per word, K values (Σ_d φ_dwk n_dw / exp E[log β_wk]). */
  statsWords: Int32Array;
  statsValues: Float64Array;
  /** Σ_d of the document terms of the bound (0 unless job.bound). */
  bound: number;
  /** Inner iterations summed over the chunk's documents. */
  iterations: number;
}

/** Scratch kept between chunks: a dense [V, K] accumulator whose touched rows are cleared after each chunk. */
export class EStepScratch {
  readonly dense: Float64Array;
  readonly touched: Int32Array;
  readonly mark: Uint8Array;
  constructor(vocabulary: number, k: number) {
    this.dense = new Float64Array(vocabulary * k);
    this.touched = new Int32Array(vocabulary);
    this.mark = new Uint8Array(vocabulary);
  }
}

const EPS = 2.220446049250313e-16;

/** Gamma(shape, 1) by Marsaglia and Tsang's method (shape >= 1). */
export function gammaDraw(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** exp(E[log θ]) of a Dirichlet(γ): exp(ψ(γ_k) − ψ(Σγ)). */
function expExpectation(gamma: Float64Array, out: Float64Array, k: number): void {
  let sum = 0;
  for (let t = 0; t < k; t++) sum += gamma[t]!;
  const scale = 1 / expDigamma(sum);
  for (let t = 0; t < k; t++) out[t] = expDigamma(gamma[t]!) * scale;
}

/**
 * Runs the E-step over documents [job.start, job.end). `expTopicWord` is exp(E[log β]) as
 * [V, K] (word-major, so one word's K topic values are contiguous); `elogTopicWord` is
 * E[log β] in the same layout, read only for the bound. Each document's final γ (unnormalised)
 * is written to its row of `gammaRows` ([documents, K]).
 */
export function eStepChunk(
  corpus: CountRows,
  gammaRows: Float64Array,
  expTopicWord: Float64Array,
  elogTopicWord: Float64Array | undefined,
  settings: EStepSettings,
  job: EStepJob,
  scratch: EStepScratch | undefined,
): EStepResult {
  const { k, alpha, maxIterations, tolerance } = settings;
  const { indptr, indices, values } = corpus;
  let gamma = new Float64Array(k);
  let next = new Float64Array(k);
  const expTheta = new Float64Array(k);
  const acc = new Float64Array(k);
  const logits = new Float64Array(k);
  let rows = new Float64Array(64 * k);
  const passKey = job.init === 'random' ? hashKeys(job.seed, 'lda-doc', job.pass) : 0;
  let touchedCount = 0;
  let bound = 0;
  let iterations = 0;
  const logGammaAlpha = logGamma(alpha);
  for (let d = job.start; d < job.end; d++) {
    const from = indptr[d]!;
    const to = indptr[d + 1]!;
    if (job.init === 'random') {
      const rng = new Rng(passKey, d);
      for (let t = 0; t < k; t++) gamma[t] = gammaDraw(rng, 100) * 0.01;
    } else gamma.fill(1);
    expExpectation(gamma, expTheta, k);
    // the document's rows of exp(E[log β]) gathered once, read contiguously by every update
    const nnz = to - from;
    if (rows.length < nnz * k) rows = new Float64Array(2 * nnz * k);
    for (let j = 0; j < nnz; j++) rows.set(expTopicWord.subarray(indices[from + j]! * k, indices[from + j]! * k + k), j * k);
    const used = updateDocument(rows, values, from, nnz, k, alpha, maxIterations, tolerance, gamma, next, expTheta, acc);
    iterations += used;
    // updateDocument leaves the final γ in `gamma` when it swapped an even number of times, else in `next`
    if (used % 2 === 1) {
      const swap = gamma;
      gamma = next;
      next = swap;
    }
    gammaRows.set(gamma, d * k);
    if (job.stats && scratch) {
      const { dense, touched, mark } = scratch;
      for (let j = from; j < to; j++) {
        const w = indices[j]!;
        const base = w * k;
        let s = EPS;
        for (let t = 0; t < k; t++) s += expTheta[t]! * expTopicWord[base + t]!;
        const ratio = values[j]! / s;
        for (let t = 0; t < k; t++) dense[base + t]! += expTheta[t]! * ratio;
        if (mark[w] === 0) {
          mark[w] = 1;
          touched[touchedCount++] = w;
        }
      }
    }
    if (job.bound && elogTopicWord) bound += documentBound(gamma, logits, corpus, from, to, elogTopicWord, k, alpha, logGammaAlpha);
  }
  let statsWords = new Int32Array(0);
  let statsValues = new Float64Array(0);
  if (job.stats && scratch) {
    const { dense, touched, mark } = scratch;
    statsWords = touched.slice(0, touchedCount).sort();
    statsValues = new Float64Array(touchedCount * k);
    statsWords.forEach((w, i) => {
      statsValues.set(dense.subarray(w * k, w * k + k), i * k);
      dense.fill(0, w * k, w * k + k);
      mark[w] = 0;
    });
  }
  return { statsWords, statsValues, bound, iterations };
}

/**
 * Iterates one document's γ (in `gamma`, with exp(E[log θ]) in `expTheta`) to convergence over its
 * `nnz` words, whose exp(E[log β]) rows are `rows` ([nnz, K]) and counts values[from ..]. Each update
 * writes the new γ into the other buffer and swaps; returns the number of updates.
 */
function updateDocument(
  rows: Float64Array,
  values: Float64Array,
  from: number,
  nnz: number,
  k: number,
  alpha: number,
  maxIterations: number,
  tolerance: number,
  gamma: Float64Array,
  next: Float64Array,
  expTheta: Float64Array,
  acc: Float64Array,
): number {
  const k4 = k - (k % 4);
  let it = 0;
  while (it < maxIterations) {
    it++;
    acc.fill(0);
    for (let j = 0; j < nnz; j++) {
      const base = j * k;
      // four partial sums: one running sum is latency-bound
      let s0 = EPS;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t = 0;
      for (; t < k4; t += 4) {
        s0 += expTheta[t]! * rows[base + t]!;
        s1 += expTheta[t + 1]! * rows[base + t + 1]!;
        s2 += expTheta[t + 2]! * rows[base + t + 2]!;
        s3 += expTheta[t + 3]! * rows[base + t + 3]!;
      }
      for (; t < k; t++) s0 += expTheta[t]! * rows[base + t]!;
      const ratio = values[from + j]! / (s0 + s1 + (s2 + s3));
      for (t = 0; t < k; t++) acc[t]! += ratio * rows[base + t]!;
    }
    let change = 0;
    for (let t = 0; t < k; t++) {
      next[t] = alpha + expTheta[t]! * acc[t]!;
      change += Math.abs(next[t]! - gamma[t]!);
    }
    const swap = gamma;
    gamma = next;
    next = swap;
    expExpectation(gamma, expTheta, k);
    if (change / k < tolerance) break;
  }
  return it;
}

/**
 * One document's terms of the evidence bound: Σ_w n_dw log Σ_k exp(E[log θ_dk] + E[log β_kw])
 * plus E[log p(θ_d | α)] − E[log q(θ_d | γ_d)].
 */
function documentBound(
  gamma: Float64Array,
  elogTheta: Float64Array,
  corpus: CountRows,
  from: number,
  to: number,
  elogTopicWord: Float64Array,
  k: number,
  alpha: number,
  logGammaAlpha: number,
): number {
  let sum = 0;
  for (let t = 0; t < k; t++) sum += gamma[t]!;
  const total = digamma(sum);
  let score = 0;
  for (let t = 0; t < k; t++) {
    elogTheta[t] = digamma(gamma[t]!) - total;
    score += (alpha - gamma[t]!) * elogTheta[t]! + logGamma(gamma[t]!) - logGammaAlpha;
  }
  score += logGamma(alpha * k) - logGamma(sum);
  for (let j = from; j < to; j++) {
    const base = corpus.indices[j]! * k;
    let max = -Infinity;
    for (let t = 0; t < k; t++) max = Math.max(max, elogTheta[t]! + elogTopicWord[base + t]!);
    let s = 0;
    for (let t = 0; t < k; t++) s += Math.exp(elogTheta[t]! + elogTopicWord[base + t]! - max);
    score += corpus.values[j]! * (max + Math.log(s));
  }
  return score;
}
