/**
 * k-nearest-neighbour classification on frozen embeddings, the cheapest probe of
 * an encoder: cosine similarity, the k most similar training cases vote, with
 * uniform, similarity ((1 + cos) / 2) or exp(cos / T) weights (T = 0.07 as in DINO's kNN eval).
 * Multi-label: per label, the k nearest cases *labelled for that label* vote, and
 * the score is the weighted fraction of positives (a probability usable for AUROC).
 * Multi-class: the weighted class frequencies among the k nearest labelled cases.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { assertMatrixShape, assertUncertainPolicy, binarizeLabel, type RawLabel, type UncertainPolicy } from './labels.js';
import { similarity, similaritySync } from '../kernels/similarity.js';
import { loadAddon } from '../native/addon.js';

export type KnnWeighting = 'uniform' | 'similarity' | 'exponential';

export interface KnnOptions {
  /** Neighbours per vote, default 20. */
  k?: number;
  /** Default 'exponential'. */
  weighting?: KnnWeighting;
  /** Temperature of the exponential weights, default 0.07. */
  temperature?: number;
  /**
   * Where the query × train similarity products run: 'js' (float64 accumulation),
   * 'native' (radlearn's similarity kernel, float32, multithreaded or CUDA), or
   * 'auto' (default): native when the addon loads, else js.
   */
  backend?: 'auto' | 'js' | 'native';
}

export interface KnnPredictor {
  /** Row-major [M, D] queries → row-major [M, L] scores (multi-label) or [M, K] probabilities (multi-class). */
  predict(queries: ArrayLike<number>): Float64Array;
  /** The same, with the native similarity products off the event loop (js backend: runs inline). */
  predictAsync(queries: ArrayLike<number>): Promise<Float64Array>;
  /** The backend the similarity products use. */
  readonly backend: 'js' | 'native';
  readonly numTrain: number;
  readonly dim: number;
}

interface KnnIndex {
  /** Unit rows, [N, D]; float32 storage halves memory, dot products accumulate in float64. */
  rows: Float32Array;
  n: number;
  dim: number;
  k: number;
  weighting: KnnWeighting;
  temperature: number;
  backend: 'js' | 'native';
}

function buildIndex(embeddings: ArrayLike<number>, dim: number, options: KnnOptions): KnnIndex {
  if (!Number.isInteger(dim) || dim < 1) throw new ShapeError(`kNN: dim ${dim} must be a positive integer`, { dim });
  if (embeddings.length % dim !== 0 || embeddings.length === 0) {
    throw new ShapeError(`kNN: training embeddings of length ${embeddings.length} are not row-major [N, ${dim}] with N >= 1`, {
      length: embeddings.length,
      dim,
    });
  }
  const k = options.k ?? 20;
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`kNN: k ${k} must be a positive integer`, { k });
  const weighting = options.weighting ?? 'exponential';
  if (weighting !== 'uniform' && weighting !== 'similarity' && weighting !== 'exponential') {
    throw new InvalidArgumentError(`kNN: weighting '${String(weighting)}' is not one of 'uniform', 'similarity', 'exponential'`, {
      weighting,
    });
  }
  const temperature = options.temperature ?? 0.07;
  if (!(temperature > 0)) throw new InvalidArgumentError(`kNN: temperature ${temperature} must be > 0`, { temperature });
  const n = embeddings.length / dim;
  const rows = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = embeddings[i * dim + d];
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`kNN: training embedding row ${i} has a non-finite value`, { row: i });
      s += v * v;
    }
    if (s === 0) throw new InvalidArgumentError(`kNN: training embedding row ${i} is the zero vector (cosine undefined)`, { row: i });
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) rows[i * dim + d] = embeddings[i * dim + d] * inv;
  }
  return { rows, n, dim, k, weighting, temperature, backend: resolveBackend(options.backend ?? 'auto') };
}

function resolveBackend(requested: 'auto' | 'js' | 'native'): 'js' | 'native' {
  if (requested === 'js' || requested === 'native') {
    if (requested === 'native') loadAddon(); // throws NativeLoadError listing each attempt and its fix
    return requested;
  }
  if (requested !== 'auto')
    throw new InvalidArgumentError(`kNN: backend '${String(requested)}' is not one of 'auto', 'js', 'native'`, { backend: requested });
  try {
    loadAddon();
    return 'native';
  } catch {
    return 'js';
  }
}

/** Unit-normalised float32 copy of query rows [start, end); `valid[r]` is false for zero/non-finite rows. */
function normalizedQueries(
  index: KnnIndex,
  queries: ArrayLike<number>,
  start: number,
  end: number,
): { block: Float32Array; valid: Uint8Array } {
  const { dim } = index;
  const block = new Float32Array((end - start) * dim);
  const valid = new Uint8Array(end - start);
  for (let q = start; q < end; q++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += queries[q * dim + d] * queries[q * dim + d];
    if (!(s > 0) || !Number.isFinite(s)) continue;
    valid[q - start] = 1;
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) block[(q - start) * dim + d] = queries[q * dim + d] * inv;
  }
  return { block, valid };
}

/** Rows per block so that one [rows, N] similarity block stays near 32M values (128 MB float32). */
function blockRows(index: KnnIndex): number {
  return Math.max(1, Math.min(1024, Math.floor(32_000_000 / index.n)));
}

/** [rows, N] cosine similarities in float64 (float32 inputs, float64 accumulation). */
function similaritiesJs(index: KnnIndex, block: Float32Array, rows: number): Float64Array {
  const { dim, n } = index;
  const out = new Float64Array(rows * n);
  for (let q = 0; q < rows; q++) {
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += index.rows[i * dim + d] * block[q * dim + d];
      out[q * n + i] = dot;
    }
  }
  return out;
}

function similaritiesNativeSync(index: KnnIndex, block: Float32Array, rows: number): Float32Array {
  return similaritySync(block, index.rows, { n: rows, m: index.n, d: index.dim, checkFinite: false });
}

function similaritiesNative(index: KnnIndex, block: Float32Array, rows: number): Promise<Float32Array> {
  return similarity(block, index.rows, { n: rows, m: index.n, d: index.dim, checkFinite: false });
}

/**
 * Runs `scoreRow(sims, q)` for every query, computing similarities block by block
 * with the index's backend (sync), writing NaN rows for zero or non-finite queries.
 */
function forEachQuery(
  index: KnnIndex,
  queries: ArrayLike<number>,
  width: number,
  scoreRow: (sims: Float64Array | Float32Array, q: number, out: Float64Array) => void,
): Float64Array {
  const m = queryCount(queries, index.dim);
  const out = new Float64Array(m * width);
  const step = blockRows(index);
  for (let start = 0; start < m; start += step) {
    const end = Math.min(m, start + step);
    const { block, valid } = normalizedQueries(index, queries, start, end);
    const sims = index.backend === 'native' ? similaritiesNativeSync(index, block, end - start) : similaritiesJs(index, block, end - start);
    scoreBlock(index, sims, valid, start, end, width, out, scoreRow);
  }
  return out;
}

async function forEachQueryAsync(
  index: KnnIndex,
  queries: ArrayLike<number>,
  width: number,
  scoreRow: (sims: Float64Array | Float32Array, q: number, out: Float64Array) => void,
): Promise<Float64Array> {
  const m = queryCount(queries, index.dim);
  const out = new Float64Array(m * width);
  const step = blockRows(index);
  for (let start = 0; start < m; start += step) {
    const end = Math.min(m, start + step);
    const { block, valid } = normalizedQueries(index, queries, start, end);
    const sims =
      index.backend === 'native' ? await similaritiesNative(index, block, end - start) : similaritiesJs(index, block, end - start);
    scoreBlock(index, sims, valid, start, end, width, out, scoreRow);
  }
  return out;
}

function scoreBlock(
  index: KnnIndex,
  sims: Float64Array | Float32Array,
  valid: Uint8Array,
  start: number,
  end: number,
  width: number,
  out: Float64Array,
  scoreRow: (sims: Float64Array | Float32Array, q: number, out: Float64Array) => void,
): void {
  for (let q = start; q < end; q++) {
    if (!valid[q - start]) {
      out.fill(NaN, q * width, (q + 1) * width);
      continue;
    }
    scoreRow(sims.subarray((q - start) * index.n, (q - start + 1) * index.n), q, out);
  }
}

/** Indices of the `count` largest similarities, best first (lower index wins ties). */
export function topIndices(sims: Float64Array | Float32Array, count: number): Int32Array {
  const n = sims.length;
  const c = Math.min(count, n);
  // Min-heap on (sim, -index) holding the current best c.
  const heap = new Int32Array(c);
  let size = 0;
  const worse = (a: number, b: number): boolean => sims[a] < sims[b] || (sims[a] === sims[b] && a > b);
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (size < c) {
      heap[size] = i;
      let j = size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!worse(heap[j], heap[p])) break;
        const t = heap[j];
        heap[j] = heap[p];
        heap[p] = t;
        j = p;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return Int32Array.from(heap).sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

function voteWeight(index: KnnIndex, sim: number, best: number): number {
  if (index.weighting === 'uniform') return 1;
  // (1 + cos) / 2 lies in [0, 1]: monotone in similarity and never negative.
  if (index.weighting === 'similarity') return (1 + sim) / 2;
  // Shift by the best similarity: same ratios, no overflow at small temperatures.
  return Math.exp((sim - best) / index.temperature);
}

/**
 * Multi-label kNN. `labels` is row-major [N, L] with 1 / 0 / -1 uncertain /
 * null-NaN missing; uncertain follows `uncertain` (default 'ignore').
 */
export function fitKnnMultiLabel(
  input: {
    embeddings: ArrayLike<number>;
    dim: number;
    labels: ArrayLike<RawLabel>;
    numLabels: number;
    uncertain?: UncertainPolicy;
  } & KnnOptions,
): KnnPredictor {
  const index = buildIndex(input.embeddings, input.dim, input);
  assertMatrixShape(input.labels, index.n, input.numLabels, 'kNN labels');
  const policy = input.uncertain ?? 'ignore';
  assertUncertainPolicy(policy);
  const numLabels = input.numLabels;
  // -1 marks "no label for this column".
  const y = new Int8Array(index.n * numLabels);
  const labelledCount = new Int32Array(numLabels);
  for (let i = 0; i < y.length; i++) {
    y[i] = binarizeLabel(input.labels[i], policy, `kNN labels[${Math.floor(i / numLabels)}, ${i % numLabels}]`);
    if (y[i] >= 0) labelledCount[i % numLabels]++;
  }
  const scoreRow = (sims: Float64Array | Float32Array, q: number, out: Float64Array): void => {
    // Enough candidates for every label in one pass unless many labels are missing.
    let count = Math.min(index.n, 2 * index.k);
    for (;;) {
      const top = topIndices(sims, count);
      let complete = true;
      for (let l = 0; l < numLabels; l++) {
        const want = Math.min(index.k, labelledCount[l]);
        let used = 0;
        let num = 0;
        let den = 0;
        for (let t = 0; t < top.length && used < want; t++) {
          const i = top[t];
          const label = y[i * numLabels + l];
          if (label < 0) continue;
          const w = voteWeight(index, sims[i], sims[top[0]]);
          num += w * label;
          den += w;
          used++;
        }
        if (used < want) complete = false;
        out[q * numLabels + l] = den > 0 ? num / den : NaN;
      }
      if (complete || count >= index.n) return;
      count = Math.min(index.n, count * 4);
    }
  };
  return {
    numTrain: index.n,
    dim: index.dim,
    backend: index.backend,
    predict: (queries) => forEachQuery(index, queries, numLabels, scoreRow),
    predictAsync: (queries) => forEachQueryAsync(index, queries, numLabels, scoreRow),
  };
}

/** Multi-class kNN over class indices 0..K-1 (null / NaN / -1 missing). */
export function fitKnnMultiClass(
  input: {
    embeddings: ArrayLike<number>;
    dim: number;
    classes: ArrayLike<RawLabel>;
    numClasses: number;
  } & KnnOptions,
): KnnPredictor {
  const index = buildIndex(input.embeddings, input.dim, input);
  if (input.classes.length !== index.n) {
    throw new ShapeError(`kNN: ${input.classes.length} class labels for ${index.n} training embeddings`, {
      classes: input.classes.length,
      n: index.n,
    });
  }
  const numClasses = input.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new InvalidArgumentError(`kNN: numClasses ${numClasses} must be an integer >= 2`, { numClasses });
  const labelledRows: number[] = [];
  const cls = new Int32Array(index.n).fill(-1);
  for (let i = 0; i < index.n; i++) {
    const c = input.classes[i];
    if (c === null || c === undefined || Number.isNaN(c) || c === -1) continue;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new InvalidArgumentError(`kNN: classes[${i}] = ${String(c)} is not a class index in 0..${numClasses - 1}`, {
        index: i,
        value: c,
      });
    }
    cls[i] = c;
    labelledRows.push(i);
  }
  if (labelledRows.length === 0) throw new InvalidArgumentError('kNN: no training case has a class label', {});
  const scoreRow = (blockSims: Float64Array | Float32Array, q: number, out: Float64Array): void => {
    // Unlabelled training cases must never be neighbours: mask them in a private copy.
    const sims = Float64Array.from(blockSims);
    for (let i = 0; i < index.n; i++) if (cls[i] < 0) sims[i] = -Infinity;
    const top = topIndices(sims, Math.min(index.k, labelledRows.length));
    let den = 0;
    for (const i of top) {
      const w = voteWeight(index, sims[i], sims[top[0]]);
      out[q * numClasses + cls[i]] += w;
      den += w;
    }
    for (let c = 0; c < numClasses; c++) out[q * numClasses + c] = den > 0 ? out[q * numClasses + c] / den : NaN;
  };
  return {
    numTrain: index.n,
    dim: index.dim,
    backend: index.backend,
    predict: (queries) => forEachQuery(index, queries, numClasses, scoreRow),
    predictAsync: (queries) => forEachQueryAsync(index, queries, numClasses, scoreRow),
  };
}

function queryCount(queries: ArrayLike<number>, dim: number): number {
  if (queries.length % dim !== 0) {
    throw new ShapeError(`kNN: queries of length ${queries.length} are not row-major [M, ${dim}]`, { length: queries.length, dim });
  }
  return queries.length / dim;
}
