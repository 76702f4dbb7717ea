/**
 * Word counts of texts as a sparse document–term matrix, the way scikit-learn's CountVectorizer
 * makes them with its default analyzer: lowercase, tokens are runs of two or more word
 * characters (`(?u)\b\w\w+\b`: Unicode letters, digits, underscore), stop words dropped, then
 * terms kept by document frequency (min_df, max_df) and corpus frequency (max_features), and the
 * vocabulary sorted by code point. Each row holds its terms in vocabulary order.
 */
import { InvalidArgumentError } from '../errors.js';
import { ENGLISH_STOP_WORDS } from './stop-words.js';

/** CSR counts: row d's terms are indices[indptr[d] .. indptr[d + 1]) (ascending) with their counts in values. */
export interface DocTermMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export interface VectorizeOptions {
  /** 'english' (default): the Glasgow list scikit-learn uses; 'none'; or your own words (compared after lowercasing). */
  stopWords?: 'english' | 'none' | readonly string[];
  /** Lowercase before tokenising (default true). */
  lowercase?: boolean;
  /**
   * Drop terms in fewer documents than this: an integer >= 1 is a document count (default 1, keep all),
   * a number in (0, 1) a fraction of the documents (scikit-learn's int and float min_df).
   */
  minDf?: number;
  /**
   * Drop terms in more documents than this: a number in (0, 1] is a fraction of the documents (default 1,
   * keep all), an integer > 1 a document count (scikit-learn's float and int max_df).
   */
  maxDf?: number;
  /** Keep only this many terms, the most frequent over the corpus (ties by vocabulary order). */
  maxFeatures?: number;
}

export interface Vectorized {
  /** The terms, sorted by code point; column j of the matrix counts vocabulary[j]. */
  vocabulary: string[];
  matrix: DocTermMatrix;
  /** Terms dropped by minDf, maxDf and maxFeatures (stop words not counted). */
  dropped: number;
}

const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** The tokens of one text, in order (lowercased unless `lowercase` is false). */
export function tokenize(text: string, lowercase = true): string[] {
  return (lowercase ? text.toLowerCase() : text).match(TOKEN) ?? [];
}

function stopWordSet(option: VectorizeOptions['stopWords']): ReadonlySet<string> {
  if (option === undefined || option === 'english') return ENGLISH_STOP_WORDS;
  if (option === 'none') return new Set();
  if (!Array.isArray(option))
    throw new InvalidArgumentError(`stopWords must be 'english', 'none' or an array of words, got ${JSON.stringify(option)}`);
  return new Set(option.map((w) => String(w).toLowerCase()));
}

/** Compares by Unicode code point, as Python sorts strings (UTF-16 order differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function documentCountLimit(value: number | undefined, name: 'minDf' | 'maxDf', documents: number): number {
  const fallback = name === 'minDf' ? 1 : documents;
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number (a document count or a fraction of the documents), got ${value}`);
  if (name === 'minDf') {
    if (value >= 1 && !Number.isInteger(value))
      throw new InvalidArgumentError(`minDf ${value}: use an integer document count, or a fraction below 1`);
    return value < 1 ? value * documents : value;
  }
  if (value > 1 && !Number.isInteger(value))
    throw new InvalidArgumentError(`maxDf ${value}: use a fraction up to 1, or an integer document count`);
  return value <= 1 ? value * documents : value;
}

/** Tokens of every text as ids into one growing term table (stop words removed). */
function tokenIds(texts: readonly string[], options: VectorizeOptions): { terms: string[]; docs: Int32Array[] } {
  const stop = stopWordSet(options.stopWords);
  const lowercase = options.lowercase ?? true;
  const idOf = new Map<string, number>();
  const terms: string[] = [];
  const docs: Int32Array[] = [];
  texts.forEach((text, d) => {
    if (typeof text !== 'string') throw new InvalidArgumentError(`text ${d} is not a string (${typeof text})`);
    const tokens = tokenize(text, lowercase);
    const ids = new Int32Array(tokens.length);
    let n = 0;
    for (const token of tokens) {
      if (stop.has(token)) continue;
      let id = idOf.get(token);
      if (id === undefined) {
        id = terms.length;
        idOf.set(token, id);
        terms.push(token);
      }
      ids[n++] = id;
    }
    docs.push(ids.subarray(0, n));
  });
  return { terms, docs };
}

/** Rows of counts from token ids, each id mapped through `column` (-1: not counted). */
function toMatrix(docs: readonly Int32Array[], column: Int32Array, cols: number): DocTermMatrix {
  const indptr = new Int32Array(docs.length + 1);
  const seen = new Int32Array(cols).fill(-1);
  let nnz = 0;
  docs.forEach((ids, d) => {
    for (const id of ids) {
      const c = column[id]!;
      if (c >= 0 && seen[c] !== d) {
        seen[c] = d;
        nnz++;
      }
    }
    indptr[d + 1] = nnz;
  });
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const slot = new Int32Array(cols);
  seen.fill(-1);
  docs.forEach((ids, d) => {
    const start = indptr[d]!;
    let n = 0;
    for (const id of ids) {
      const c = column[id]!;
      if (c < 0) continue;
      if (seen[c] !== d) {
        seen[c] = d;
        indices[start + n] = c;
        n++;
      }
    }
    indices.subarray(start, start + n).sort();
    for (let j = 0; j < n; j++) slot[indices[start + j]!] = start + j;
    for (const id of ids) {
      const c = column[id]!;
      if (c >= 0) values[slot[c]!]! += 1;
    }
  });
  return { rows: docs.length, cols, indptr, indices, values };
}

/** Learns the vocabulary from `texts` and counts them (CountVectorizer.fit_transform). */
export function vectorize(texts: readonly string[], options: VectorizeOptions = {}): Vectorized {
  if (!Array.isArray(texts)) throw new InvalidArgumentError('vectorize: texts must be an array of strings');
  const { terms, docs } = tokenIds(texts, options);
  const df = new Int32Array(terms.length);
  const tf = new Float64Array(terms.length);
  const last = new Int32Array(terms.length).fill(-1);
  docs.forEach((ids, d) => {
    for (const id of ids) {
      tf[id]! += 1;
      if (last[id] !== d) {
        last[id] = d;
        df[id]! += 1;
      }
    }
  });
  const minCount = documentCountLimit(options.minDf, 'minDf', texts.length);
  const maxCount = documentCountLimit(options.maxDf, 'maxDf', texts.length);
  if (maxCount < minCount)
    throw new InvalidArgumentError(`maxDf (${maxCount} documents) is below minDf (${minCount} documents): no term could be kept`);
  let kept = terms.map((_, id) => id).filter((id) => df[id]! >= minCount && df[id]! <= maxCount);
  const byTerm = (a: number, b: number): number => compareCodePoints(terms[a]!, terms[b]!);
  if (options.maxFeatures !== undefined) {
    if (!Number.isInteger(options.maxFeatures) || options.maxFeatures < 1)
      throw new InvalidArgumentError(`maxFeatures must be a positive integer, got ${options.maxFeatures}`);
    if (kept.length > options.maxFeatures) kept = kept.sort((a, b) => tf[b]! - tf[a]! || byTerm(a, b)).slice(0, options.maxFeatures);
  }
  kept.sort(byTerm);
  const column = new Int32Array(terms.length).fill(-1);
  kept.forEach((id, c) => (column[id] = c));
  return { vocabulary: kept.map((id) => terms[id]!), matrix: toMatrix(docs, column, kept.length), dropped: terms.length - kept.length };
}

/** Counts `texts` over a fixed vocabulary (CountVectorizer.transform): words outside it are ignored. */
export function countTerms(
  texts: readonly string[],
  vocabulary: readonly string[],
  options: Pick<VectorizeOptions, 'stopWords' | 'lowercase'> = {},
): DocTermMatrix {
  const { terms, docs } = tokenIds(texts, options);
  const at = new Map(vocabulary.map((w, c) => [w, c]));
  const column = Int32Array.from(terms, (t) => at.get(t) ?? -1);
  return toMatrix(docs, column, vocabulary.length);
}

/** Total count of each row (words per document after filtering). */
export function rowTotals(matrix: DocTermMatrix): Float64Array {
  const out = new Float64Array(matrix.rows);
  for (let d = 0; d < matrix.rows; d++) for (let j = matrix.indptr[d]!; j < matrix.indptr[d + 1]!; j++) out[d]! += matrix.values[j]!;
  return out;
}

/** The rows `rows` of a matrix, in that order, as a new matrix. */
export function selectRows(matrix: DocTermMatrix, rows: ArrayLike<number>): DocTermMatrix {
  const indptr = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) {
    const d = rows[i]!;
    indptr[i + 1] = indptr[i]! + matrix.indptr[d + 1]! - matrix.indptr[d]!;
  }
  const indices = new Int32Array(indptr[rows.length]!);
  const values = new Float64Array(indices.length);
  for (let i = 0; i < rows.length; i++) {
    const d = rows[i]!;
    indices.set(matrix.indices.subarray(matrix.indptr[d]!, matrix.indptr[d + 1]!), indptr[i]!);
    values.set(matrix.values.subarray(matrix.indptr[d]!, matrix.indptr[d + 1]!), indptr[i]!);
  }
  return { rows: rows.length, cols: matrix.cols, indptr, indices, values };
}
