/**
 * Latent Dirichlet allocation by variational Bayes (Hoffman, Blei & Bach, "Online learning for
 * latent Dirichlet allocation", NIPS 2010), the algorithm of scikit-learn's
 * LatentDirichletAllocation, with its parameters and defaults: batch updates (λ = η + the
 * expected counts) or online ones (λ ← (1 − ρ)λ + ρ(η + D/|B| · counts), ρ = (τ0 + t)^−κ) over
 * minibatches in document order; α = η = 1/K unless given; `iterations` passes (max_iter);
 * per-document updates until the mean change of γ is below 1e-3 (at most 100). Perplexity is
 * scikit-learn's: exp(−bound / words), the bound including the topics' prior term.
 *
 * Every random draw comes from the project's counter-based Rng keyed by (seed, ...), and the
 * E-step's chunks have fixed boundaries, so a seed gives the same topics on any thread count.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import { Rng } from '../random/index.js';
import { gammaDraw, type EStepJob, type EStepSettings } from './lda-estep.js';
import { EStepPool } from './lda-pool.js';
import { digamma, logGamma } from './special.js';
import type { DocTermMatrix } from './vectorize.js';

export type LdaMethod = 'batch' | 'online';

export interface LdaOptions {
  /** Number of topics (n_components). */
  k: number;
  /** Seed of the topic initialisation and the documents' random starts (default 0). */
  seed?: number;
  /** Passes over the corpus (max_iter, default 10). */
  iterations?: number;
  /** 'batch' (default, as scikit-learn) or 'online'. */
  method?: LdaMethod;
  /** Dirichlet prior of the document–topic proportions (doc_topic_prior, default 1/k). */
  alpha?: number;
  /** Dirichlet prior of the topic–word distributions (topic_word_prior, default 1/k). */
  eta?: number;
  /** Documents per online update (batch_size, default 128). */
  batchSize?: number;
  /** κ of the online step size ρ = (τ0 + t)^−κ (learning_decay, default 0.7). */
  learningDecay?: number;
  /** τ0 (learning_offset, default 10). */
  learningOffset?: number;
  /** Most updates of one document's γ per E-step (max_doc_update_iter, default 100). */
  maxDocIterations?: number;
  /** Stop a document's updates when the mean change of γ is below this (mean_change_tol, default 1e-3). */
  tolerance?: number;
  /** Worker threads for the E-step (0: this thread). Default: one per core up to 4 for corpora of 2,000 documents or more. */
  workers?: number;
  /** Called after each pass, with the mean number of γ updates per document in it. */
  onProgress?: (pass: number, passes: number, meanDocIterations: number) => void;
}

export interface LdaSettings {
  k: number;
  seed: number;
  iterations: number;
  method: LdaMethod;
  alpha: number;
  eta: number;
  batchSize: number;
  learningDecay: number;
  learningOffset: number;
  maxDocIterations: number;
  tolerance: number;
}

/** Documents per E-step job in batch passes: fixed, so results do not depend on the thread count. */
const BATCH_JOB_DOCS = 1024;
/** Online minibatches are cut into this many jobs. */
const ONLINE_JOBS_PER_BATCH = 4;
/** Below this many documents threads cost more than they save. */
const MIN_DOCS_FOR_WORKERS = 2000;

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number, got ${value}`, { [name]: value });
  return value;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`, { [name]: value });
  return value;
}

export function resolveLdaSettings(options: LdaOptions): LdaSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('LDA options must be an object with at least k');
  const k = positiveInt(options.k, 'k', NaN);
  if (k < 2) throw new InvalidArgumentError(`k must be at least 2 topics, got ${k}`, { k });
  const method = options.method ?? 'batch';
  if (method !== 'batch' && method !== 'online')
    throw new InvalidArgumentError(`method must be 'batch' or 'online', got ${String(method)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new InvalidArgumentError(`seed must be a non-negative integer, got ${seed}`);
  const learningDecay = positive(options.learningDecay, 'learningDecay', 0.7);
  if (learningDecay > 1 || (method === 'online' && learningDecay <= 0.5))
    throw new InvalidArgumentError(`learningDecay must be in (0.5, 1] for online updates to converge, got ${learningDecay}`);
  return {
    k,
    seed,
    iterations: positiveInt(options.iterations, 'iterations', 10),
    method,
    alpha: positive(options.alpha, 'alpha', 1 / k),
    eta: positive(options.eta, 'eta', 1 / k),
    batchSize: positiveInt(options.batchSize, 'batchSize', 128),
    learningDecay,
    learningOffset: positive(options.learningOffset, 'learningOffset', 10),
    maxDocIterations: positiveInt(options.maxDocIterations, 'maxDocIterations', 100),
    tolerance: positive(options.tolerance, 'tolerance', 1e-3),
  };
}

export function defaultWorkers(documents: number, requested: number | undefined): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 0)
      throw new InvalidArgumentError(`workers must be a non-negative integer, got ${requested}`, { workers: requested });
    return requested;
  }
  return documents < MIN_DOCS_FOR_WORKERS ? 0 : Math.min(4, availableParallelism());
}

function checkMatrix(matrix: DocTermMatrix, what: string): void {
  if (
    !matrix ||
    !(matrix.indptr instanceof Int32Array) ||
    !(matrix.indices instanceof Int32Array) ||
    !(matrix.values instanceof Float64Array)
  )
    throw new InvalidArgumentError(`${what}: expected a DocTermMatrix (Int32Array indptr and indices, Float64Array values)`);
  if (
    matrix.indptr.length !== matrix.rows + 1 ||
    matrix.indices.length !== matrix.values.length ||
    matrix.indptr[matrix.rows] !== matrix.indices.length
  )
    throw new InvalidArgumentError(`${what}: indptr, indices and values do not describe ${matrix.rows} rows`);
  for (let j = 0; j < matrix.values.length; j++) {
    const v = matrix.values[j]!;
    const c = matrix.indices[j]!;
    if (!(v >= 0) || !Number.isFinite(v))
      throw new InvalidArgumentError(`${what}: count ${v} at entry ${j} is not a finite non-negative number`);
    if (c < 0 || c >= matrix.cols) throw new InvalidArgumentError(`${what}: column ${c} at entry ${j} is outside 0..${matrix.cols - 1}`);
  }
}

/** Jobs covering documents [from, to) in pieces of `size`. */
function jobsOver(from: number, to: number, size: number, base: Omit<EStepJob, 'start' | 'end'>): EStepJob[] {
  const jobs: EStepJob[] = [];
  for (let start = from; start < to; start += size) jobs.push({ ...base, start, end: Math.min(to, start + size) });
  return jobs;
}

/** E[log β] and exp(E[log β]) of λ, all [V, K]. */
function topicExpectations(lambda: Float64Array, k: number, elog: Float64Array, exp: Float64Array): void {
  const vocabulary = lambda.length / k;
  const totals = new Float64Array(k);
  for (let w = 0; w < vocabulary; w++) for (let t = 0; t < k; t++) totals[t]! += lambda[w * k + t]!;
  for (let t = 0; t < k; t++) totals[t] = digamma(totals[t]!);
  for (let i = 0; i < lambda.length; i++) {
    const e = digamma(lambda[i]!) - totals[i % k]!;
    elog[i] = e;
    exp[i] = Math.exp(e);
  }
}

/** A fitted topic model: λ and the priors, with inference and perplexity on new counts. */
export class LdaModel {
  /** λ as [V, K] (word-major), the layout the E-step reads. */
  private readonly lambda: Float64Array;

  constructor(
    readonly settings: LdaSettings,
    readonly vocabularySize: number,
    lambdaWordMajor: Float64Array,
  ) {
    if (lambdaWordMajor.length !== vocabularySize * settings.k)
      throw new InvalidArgumentError(`LDA topics: ${lambdaWordMajor.length} values for ${settings.k} topics × ${vocabularySize} words`);
    this.lambda = lambdaWordMajor;
  }

  /** A model from λ as scikit-learn's components_ ([K, V], topic-major). */
  static fromComponents(settings: LdaSettings, components: ArrayLike<number>, vocabularySize: number): LdaModel {
    const { k } = settings;
    if (components.length !== k * vocabularySize)
      throw new InvalidArgumentError(`LDA topics: ${components.length} values for ${k} topics × ${vocabularySize} words`);
    const lambda = new Float64Array(k * vocabularySize);
    for (let t = 0; t < k; t++) {
      for (let w = 0; w < vocabularySize; w++) {
        const v = components[t * vocabularySize + w]!;
        if (!(v > 0) || !Number.isFinite(v))
          throw new InvalidArgumentError(`LDA topics: value ${v} of topic ${t}, word ${w} is not a positive number`);
        lambda[w * k + t] = v;
      }
    }
    return new LdaModel(settings, vocabularySize, lambda);
  }

  get k(): number {
    return this.settings.k;
  }

  /** λ as [K, V] (scikit-learn's components_): unnormalised topic–word weights. */
  components(): Float64Array {
    const { k } = this;
    const out = new Float64Array(this.lambda.length);
    for (let w = 0; w < this.vocabularySize; w++) for (let t = 0; t < k; t++) out[t * this.vocabularySize + w] = this.lambda[w * k + t]!;
    return out;
  }

  /** Each topic's word distribution, λ normalised per topic, as [K, V]. */
  topicWord(): Float64Array {
    const out = this.components();
    const V = this.vocabularySize;
    for (let t = 0; t < this.k; t++) {
      let s = 0;
      for (let w = 0; w < V; w++) s += out[t * V + w]!;
      for (let w = 0; w < V; w++) out[t * V + w]! /= s;
    }
    return out;
  }

  /**
   * Infers each document's γ with the topics fixed (all-ones start, as scikit-learn's transform),
   * and the bound when asked. Returns γ unnormalised, [rows, K].
   */
  async infer(matrix: DocTermMatrix, options: { workers?: number; bound?: boolean } = {}): Promise<{ gamma: Float64Array; bound: number }> {
    checkMatrix(matrix, 'LDA inference');
    if (matrix.cols !== this.vocabularySize)
      throw new InvalidArgumentError(`LDA inference: the counts have ${matrix.cols} columns, the model ${this.vocabularySize} words`);
    const pool = new EStepPool(matrix, this.vocabularySize, this.k, defaultWorkers(matrix.rows, options.workers));
    try {
      topicExpectations(this.lambda, this.k, pool.elogTopicWord, pool.expTopicWord);
      const jobs = jobsOver(0, matrix.rows, BATCH_JOB_DOCS, {
        init: 'ones',
        seed: 0,
        pass: 0,
        stats: false,
        bound: options.bound === true,
      });
      let bound = 0;
      for (const r of await pool.run(jobs, this.eStepSettings())) bound += r.bound;
      if (options.bound) bound += this.topicBound(pool.elogTopicWord);
      return { gamma: Float64Array.from(pool.gamma), bound };
    } finally {
      await pool.close();
    }
  }

  /** Document–topic proportions (γ normalised per document), [rows, K] (scikit-learn's transform). */
  async transform(matrix: DocTermMatrix, options: { workers?: number } = {}): Promise<Float64Array> {
    const { gamma } = await this.infer(matrix, options);
    normaliseRows(gamma, this.k);
    return gamma;
  }

  /** scikit-learn's perplexity: exp(−bound / words) with γ inferred from an all-ones start. */
  async perplexity(matrix: DocTermMatrix, options: { workers?: number } = {}): Promise<number> {
    const { bound } = await this.infer(matrix, { ...options, bound: true });
    return perplexityOf(bound, matrix);
  }

  eStepSettings(): EStepSettings {
    const { k, alpha, maxDocIterations, tolerance } = this.settings;
    return { k, alpha, maxIterations: maxDocIterations, tolerance };
  }

  /** E[log p(β | η)] − E[log q(β | λ)]: the topics' term of the bound. */
  topicBound(elog: Float64Array): number {
    const { k, eta } = this.settings;
    const V = this.vocabularySize;
    const totals = new Float64Array(k);
    let score = 0;
    const logGammaEta = logGamma(eta);
    for (let i = 0; i < this.lambda.length; i++) {
      const l = this.lambda[i]!;
      score += (eta - l) * elog[i]! + logGamma(l) - logGammaEta;
      totals[i % k]! += l;
    }
    for (let t = 0; t < k; t++) score += logGamma(eta * V) - logGamma(totals[t]!);
    return score;
  }
}

export function normaliseRows(values: Float64Array, k: number): void {
  for (let i = 0; i < values.length; i += k) {
    let s = 0;
    for (let t = 0; t < k; t++) s += values[i + t]!;
    for (let t = 0; t < k; t++) values[i + t]! /= s;
  }
}

export function perplexityOf(bound: number, matrix: DocTermMatrix): number {
  let words = 0;
  for (const v of matrix.values) words += v;
  return words > 0 ? Math.exp(-bound / words) : NaN;
}

/** Batch variational Bayes: each pass, E-step over every document, then λ = η + expected counts. */
async function batchPasses(model: LdaModel, lambda: Float64Array, pool: EStepPool, options: LdaOptions): Promise<void> {
  const { k, seed, eta, iterations: passes } = model.settings;
  const D = pool.documents;
  const exp = pool.expTopicWord;
  const stats = new Float64Array(lambda.length);
  topicExpectations(lambda, k, pool.elogTopicWord, exp);
  for (let pass = 0; pass < passes; pass++) {
    const jobs = jobsOver(0, D, BATCH_JOB_DOCS, { init: 'random', seed, pass, stats: true, bound: false });
    const results = await pool.run(jobs, model.eStepSettings());
    stats.fill(0);
    let iterations = 0;
    for (const r of results) {
      iterations += r.iterations;
      r.statsWords.forEach((w, i) => {
        for (let t = 0; t < k; t++) stats[w * k + t]! += r.statsValues[i * k + t]!;
      });
    }
    for (let i = 0; i < lambda.length; i++) lambda[i] = eta + stats[i]! * exp[i]!;
    topicExpectations(lambda, k, pool.elogTopicWord, exp);
    options.onProgress?.(pass + 1, passes, iterations / D);
  }
}

/**
 * Online variational Bayes over minibatches in document order. λ is kept as a·μ + b: the update
 * λ ← (1 − ρ)λ + ρη + ρ·(D/|B|)·counts scales every entry alike (a, b) and adds counts only to the
 * minibatch's words (μ), and E[log β] is computed only for the rows the next minibatch reads, so an
 * update costs the minibatch's words × K, not the vocabulary × K.
 */
async function onlinePasses(model: LdaModel, lambda: Float64Array, pool: EStepPool, options: LdaOptions): Promise<void> {
  const { k, seed, eta, iterations: passes, batchSize, learningOffset, learningDecay } = model.settings;
  const D = pool.documents;
  const V = lambda.length / k;
  const { indptr, indices } = pool.corpus;
  const exp = pool.expTopicWord;
  const elog = pool.elogTopicWord;
  const mu = lambda;
  let a = 1;
  let b = 0;
  const muTotals = new Float64Array(k);
  for (let i = 0; i < mu.length; i++) muTotals[i % k]! += mu[i]!;
  const stamp = new Int32Array(V).fill(-1);
  const words = new Int32Array(V);
  const psiTotals = new Float64Array(k);
  let update = 0;
  for (let pass = 0; pass < passes; pass++) {
    let iterations = 0;
    for (let from = 0; from < D; from += batchSize, update++) {
      const to = Math.min(D, from + batchSize);
      let count = 0;
      for (let j = indptr[from]!; j < indptr[to]!; j++) {
        const w = indices[j]!;
        if (stamp[w] !== update) {
          stamp[w] = update;
          words[count++] = w;
        }
      }
      for (let t = 0; t < k; t++) psiTotals[t] = digamma(a * muTotals[t]! + V * b);
      for (let i = 0; i < count; i++) {
        const base = words[i]! * k;
        for (let t = 0; t < k; t++) {
          const e = digamma(a * mu[base + t]! + b) - psiTotals[t]!;
          elog[base + t] = e;
          exp[base + t] = Math.exp(e);
        }
      }
      const jobs = jobsOver(from, to, Math.ceil((to - from) / ONLINE_JOBS_PER_BATCH), {
        init: 'random',
        seed,
        pass: update,
        stats: true,
        bound: false,
      });
      const results = await pool.run(jobs, model.eStepSettings());
      const rho = Math.pow(learningOffset + update + 1, -learningDecay);
      const nextA = (1 - rho) * a;
      const step = (rho * D) / (to - from) / nextA;
      for (const r of results) {
        iterations += r.iterations;
        r.statsWords.forEach((w, i) => {
          for (let t = 0; t < k; t++) {
            const add = step * r.statsValues[i * k + t]! * exp[w * k + t]!;
            mu[w * k + t]! += add;
            muTotals[t]! += add;
          }
        });
      }
      a = nextA;
      b = (1 - rho) * b + rho * eta;
      // fold the shrinking scale into μ long before it could underflow
      if (a < 1e-100) {
        muTotals.fill(0);
        for (let i = 0; i < mu.length; i++) muTotals[i % k]! += mu[i]! *= a;
        a = 1;
      }
    }
    options.onProgress?.(pass + 1, passes, iterations / D);
  }
  for (let i = 0; i < mu.length; i++) lambda[i] = a * mu[i]! + b;
}

/** Fits LDA to a document–term matrix. */
export async function fitLda(matrix: DocTermMatrix, options: LdaOptions): Promise<LdaModel> {
  const settings = resolveLdaSettings(options);
  checkMatrix(matrix, 'fitLda');
  if (matrix.rows === 0) throw new InvalidArgumentError('fitLda: no documents');
  if (matrix.cols === 0) throw new InvalidArgumentError('fitLda: the vocabulary is empty (every word was filtered out)');
  const { k, seed } = settings;
  const V = matrix.cols;
  const lambda = new Float64Array(V * k);
  // λ starts at Gamma(100, 1/100) draws, as scikit-learn's
  const rng = new Rng(seed, 'lda-topics');
  for (let t = 0; t < k; t++) for (let w = 0; w < V; w++) lambda[w * k + t] = gammaDraw(rng, 100) * 0.01;
  const model = new LdaModel(settings, V, lambda);
  const pool = new EStepPool(matrix, V, k, defaultWorkers(matrix.rows, options.workers));
  try {
    await (settings.method === 'batch' ? batchPasses : onlinePasses)(model, lambda, pool, options);
  } finally {
    await pool.close();
  }
  return model;
}
