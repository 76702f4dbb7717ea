/**
 * fitTopics: LDA topics of free texts (radiology reports), from the words to the topics in one
 * call: counts as CountVectorizer makes them (vectorize.ts), a held-out share of the texts kept
 * aside for perplexity, LDA by variational Bayes (lda.ts) on the rest, then every text's topic
 * proportions and dominant topic. The model serialises to JSON (topics.json) and infers the
 * topics of new texts from it.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, MissingFileError } from '../errors.js';
import { hashUniform } from '../random/index.js';
import { fitLda, LdaModel, normaliseRows, perplexityOf, resolveLdaSettings, type LdaOptions, type LdaSettings } from './lda.js';
import { countTerms, rowTotals, vectorize, type VectorizeOptions } from './vectorize.js';

/**
 * fitLda's options with other defaults: online updates and 3 passes, for speed on large report
 * collections (100k phantom reports in about 10 s on 2 cores; held-out perplexity within 3% of
 * scikit-learn's default 10 batch passes, which take about 3.5 times as long; docs/mining.md),
 * plus the vectorizer's and these.
 */
export interface TopicOptions extends LdaOptions, VectorizeOptions {
  /** Fraction of the texts held out of fitting to measure perplexity on (default 0.1; 0: none). */
  holdout?: number;
  /** Words listed per topic (default 10). */
  topWords?: number;
}

export interface TopicWord {
  word: string;
  /** The word's probability under the topic (λ normalised over the vocabulary). */
  weight: number;
}

export interface Topic {
  topic: number;
  words: TopicWord[];
  /** Share of the texts whose dominant topic this is. */
  share: number;
}

export interface TopicSettings extends LdaSettings {
  stopWords: 'english' | 'none' | string[];
  lowercase: boolean;
  minDf: number;
  maxDf: number;
  maxFeatures: number | null;
  holdout: number;
  topWords: number;
}

/** What topics.json holds: enough to list the topics and to infer the topics of new texts. */
export interface TopicModelJson {
  format: 'radlearn-topics-v1';
  settings: TopicSettings;
  documents: { fitted: number; heldOut: number; empty: number };
  perplexity: { train: number; heldOut: number | null };
  topics: Topic[];
  vocabulary: string[];
  /** λ as [K][V]: unnormalised topic–word weights (scikit-learn's components_). */
  components: number[][];
}

export interface TopicFit {
  model: TopicModel;
  /** Each text's topic proportions, [texts, K] row-major (uniform for a text with no counted word). */
  documentTopics: Float64Array;
  /** Each text's most probable topic; -1 for a text with no counted word. */
  dominant: Int32Array;
  /** Indices of the held-out texts. */
  heldOut: Int32Array;
  perplexity: { train: number; heldOut: number | null };
  documents: { fitted: number; heldOut: number; empty: number };
  /** Seconds spent counting words, fitting, and inferring every text's topics with the perplexities. */
  seconds: { count: number; fit: number; infer: number; total: number };
}

/** A fitted topic model over a vocabulary: its topics, and inference for new texts. */
export class TopicModel {
  constructor(
    readonly settings: TopicSettings,
    readonly vocabulary: readonly string[],
    readonly lda: LdaModel,
  ) {}

  get k(): number {
    return this.settings.k;
  }

  /** Each topic's word distribution, [K, V] row-major. */
  topicWord(): Float64Array {
    return this.lda.topicWord();
  }

  /** The `n` most probable words of each topic. */
  topWords(n = this.settings.topWords): TopicWord[][] {
    const beta = this.topicWord();
    const V = this.vocabulary.length;
    return Array.from({ length: this.k }, (_, t) => {
      const row = beta.subarray(t * V, (t + 1) * V);
      return Array.from(row.keys())
        .sort((a, b) => row[b]! - row[a]! || a - b)
        .slice(0, n)
        .map((w) => ({ word: this.vocabulary[w]!, weight: row[w]! }));
    });
  }

  /** Word counts of texts over this model's vocabulary, tokenised as when it was fitted. */
  count(texts: readonly string[]): ReturnType<typeof countTerms> {
    return countTerms(texts, this.vocabulary, { stopWords: this.settings.stopWords, lowercase: this.settings.lowercase });
  }

  /** Topic proportions of new texts, [texts, K] row-major (the topics fixed; scikit-learn's transform). */
  async transform(texts: readonly string[], options: { workers?: number } = {}): Promise<Float64Array> {
    return this.lda.transform(this.count(texts), options);
  }

  /** scikit-learn's perplexity of the texts under the model. */
  async perplexity(texts: readonly string[], options: { workers?: number } = {}): Promise<number> {
    return this.lda.perplexity(this.count(texts), options);
  }

  toJSON(fit?: Pick<TopicFit, 'documents' | 'perplexity' | 'dominant'>): TopicModelJson {
    const V = this.vocabulary.length;
    const components = this.lda.components();
    const counts = new Array<number>(this.k).fill(0);
    let assigned = 0;
    for (const t of fit?.dominant ?? []) {
      if (t < 0) continue;
      counts[t]!++;
      assigned++;
    }
    return {
      format: 'radlearn-topics-v1',
      settings: this.settings,
      documents: fit?.documents ?? { fitted: 0, heldOut: 0, empty: 0 },
      perplexity: fit?.perplexity ?? { train: NaN, heldOut: null },
      topics: this.topWords().map((words, topic) => ({ topic, words, share: assigned > 0 ? counts[topic]! / assigned : 0 })),
      vocabulary: [...this.vocabulary],
      components: Array.from({ length: this.k }, (_, t) => Array.from(components.subarray(t * V, (t + 1) * V))),
    };
  }

  /** The model a topics.json describes (`where` names the file in errors). */
  static fromJSON(json: unknown, where = 'topics JSON'): TopicModel {
    const j = json as Partial<TopicModelJson> | null;
    if (!j || typeof j !== 'object' || j.format !== 'radlearn-topics-v1')
      throw new InvalidArgumentError(`${where}: not a radlearn topic model (expected format "radlearn-topics-v1")`);
    if (!Array.isArray(j.vocabulary) || !j.vocabulary.every((w) => typeof w === 'string'))
      throw new InvalidArgumentError(`${where}: field vocabulary must be an array of words`);
    if (!j.settings || typeof j.settings !== 'object') throw new InvalidArgumentError(`${where}: field settings is missing`);
    const settings = { ...j.settings, ...resolveLdaSettings(j.settings) } as TopicSettings;
    const V = j.vocabulary.length;
    if (
      !Array.isArray(j.components) ||
      j.components.length !== settings.k ||
      !j.components.every((r) => Array.isArray(r) && r.length === V)
    )
      throw new InvalidArgumentError(`${where}: field components must be ${settings.k} rows of ${V} numbers`);
    const lda = LdaModel.fromComponents(settings, j.components.flat(), V);
    return new TopicModel(settings, j.vocabulary, lda);
  }
}

/** The model a topics.json file holds (what `radlearn topics --out` writes). */
export async function readTopicModel(path: string): Promise<TopicModel> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path, 'topic model');
    throw new InvalidArgumentError(`${path}: cannot read the topic model (${(error as Error).message})`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`${path}: not valid JSON (${(error as Error).message})`, { path });
  }
  return TopicModel.fromJSON(json, path);
}

function resolveHoldout(value: number | undefined): number {
  if (value === undefined) return 0.1;
  if (typeof value !== 'number' || !(value >= 0 && value < 1))
    throw new InvalidArgumentError(`holdout must be a fraction in [0, 1), got ${value}`, { holdout: value });
  return value;
}

/** The most probable topic of each row; -1 where the row had no counted word. */
function dominantTopics(proportions: Float64Array, k: number, words: Float64Array): Int32Array {
  const out = new Int32Array(words.length);
  for (let d = 0; d < words.length; d++) {
    if (words[d] === 0) {
      out[d] = -1;
      continue;
    }
    let best = 0;
    for (let t = 1; t < k; t++) if (proportions[d * k + t]! > proportions[d * k + best]!) best = t;
    out[d] = best;
  }
  return out;
}

/**
 * Fits `k` topics to the texts. Texts whose hash of (seed, index) falls below `holdout` are left
 * out of the vocabulary and the fit and give the held-out perplexity; every text gets its topic
 * proportions from the fitted topics (all-ones start, as scikit-learn's transform).
 */
export async function fitTopics(texts: readonly string[], options: TopicOptions): Promise<TopicFit> {
  const started = performance.now();
  if (!Array.isArray(texts)) throw new InvalidArgumentError('fitTopics: texts must be an array of strings');
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('fitTopics: options must be an object with at least k');
  options = { ...options, method: options.method ?? 'online', iterations: options.iterations ?? 3 };
  const lda = resolveLdaSettings(options);
  const holdout = resolveHoldout(options.holdout);
  const topWords = options.topWords ?? 10;
  if (!Number.isInteger(topWords) || topWords < 1) throw new InvalidArgumentError(`topWords must be a positive integer, got ${topWords}`);
  const fittedRows: number[] = [];
  const heldRows: number[] = [];
  texts.forEach((_, d) => (holdout > 0 && hashUniform(lda.seed, 'topics-holdout', d) < holdout ? heldRows : fittedRows).push(d));
  if (fittedRows.length === 0) throw new InvalidArgumentError('fitTopics: no texts to fit (all were held out, or none given)');
  const vectorized = vectorize(
    fittedRows.map((d) => texts[d]!),
    options,
  );
  if (vectorized.vocabulary.length === 0)
    throw new InvalidArgumentError(
      `fitTopics: no word is left to model after stop words, minDf and maxDf (${fittedRows.length} texts); lower minDf or raise maxDf`,
    );
  const counted = performance.now();
  const model = await fitLda(vectorized.matrix, options);
  const fittedAt = performance.now();
  const settings: TopicSettings = {
    ...lda,
    stopWords:
      options.stopWords === undefined ? 'english' : typeof options.stopWords === 'string' ? options.stopWords : [...options.stopWords],
    lowercase: options.lowercase ?? true,
    minDf: options.minDf ?? 1,
    maxDf: options.maxDf ?? 1,
    maxFeatures: options.maxFeatures ?? null,
    holdout,
    topWords,
  };
  const topics = new TopicModel(settings, vectorized.vocabulary, model);
  const k = lda.k;
  const documentTopics = new Float64Array(texts.length * k);
  const words = new Float64Array(texts.length);
  const place = (rows: readonly number[], gamma: Float64Array, totals: Float64Array): void => {
    normaliseRows(gamma, k);
    rows.forEach((d, i) => {
      documentTopics.set(gamma.subarray(i * k, (i + 1) * k), d * k);
      words[d] = totals[i]!;
    });
  };
  const fitted = await model.infer(vectorized.matrix, { workers: options.workers, bound: true });
  place(fittedRows, fitted.gamma, rowTotals(vectorized.matrix));
  const perplexity = { train: perplexityOf(fitted.bound, vectorized.matrix), heldOut: null as number | null };
  if (heldRows.length > 0) {
    const heldMatrix = topics.count(heldRows.map((d) => texts[d]!));
    const held = await model.infer(heldMatrix, { workers: options.workers, bound: true });
    place(heldRows, held.gamma, rowTotals(heldMatrix));
    const heldOut = perplexityOf(held.bound, heldMatrix);
    perplexity.heldOut = Number.isFinite(heldOut) ? heldOut : null;
  }
  const dominant = dominantTopics(documentTopics, k, words);
  let empty = 0;
  for (const t of dominant) if (t < 0) empty++;
  return {
    model: topics,
    documentTopics,
    dominant,
    heldOut: Int32Array.from(heldRows),
    perplexity,
    documents: { fitted: fittedRows.length, heldOut: heldRows.length, empty },
    seconds: {
      count: (counted - started) / 1000,
      fit: (fittedAt - counted) / 1000,
      infer: (performance.now() - fittedAt) / 1000,
      total: (performance.now() - started) / 1000,
    },
  };
}
