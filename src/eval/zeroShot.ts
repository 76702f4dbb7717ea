/**
 * Zero-shot classification with positive/negative prompt pairs (the CheXzero
 * protocol). For label c with prompt embeddings pos_c and neg_c:
 *   p(c | x) = exp(cos(x, pos_c)) / (exp(cos(x, pos_c)) + exp(cos(x, neg_c)))
 *            = sigmoid(cos(x, pos_c) - cos(x, neg_c))      (no temperature)
 * With several templates per side, pos_c is the L2-normalised mean of the
 * L2-normalised template embeddings. Text encoding is the caller's: pass any
 * `embedTexts(texts) => Promise<Float32Array>` returning row-major [texts, D].
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import type { LabelPrompts } from './prompts.js';

export type EmbedTexts = (texts: string[]) => Promise<Float32Array | Float64Array>;

export interface ZeroShotClassifier {
  labels: string[];
  dim: number;
  /** Row-major [L, D] unit vectors. */
  positive: Float64Array;
  negative: Float64Array;
  /** Scores p(c|x) for row-major [N, D] image embeddings; returns row-major [N, L]. */
  score(imageEmbeddings: ArrayLike<number>): Float64Array;
}

/**
 * Embeds every prompt once (deduplicated, in batches) and builds the classifier.
 */
export async function buildZeroShotClassifier(
  prompts: readonly LabelPrompts[],
  embedTexts: EmbedTexts,
  options: { batchSize?: number } = {},
): Promise<ZeroShotClassifier> {
  if (prompts.length === 0) throw new InvalidArgumentError('zero-shot: no label prompts given', {});
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(`zero-shot: batchSize ${batchSize} must be a positive integer`, { batchSize });
  for (const p of prompts) {
    if (p.positive.length === 0 || p.negative.length === 0) {
      throw new InvalidArgumentError(`zero-shot: label '${p.label}' needs at least one positive and one negative prompt`, {
        label: p.label,
      });
    }
  }
  const unique = [...new Set(prompts.flatMap((p) => [...p.positive, ...p.negative]))];
  const rowOf = new Map(unique.map((t, i) => [t, i]));
  let dim = -1;
  let table = new Float64Array(0);
  for (let start = 0; start < unique.length; start += batchSize) {
    const batch = unique.slice(start, start + batchSize);
    const out = await embedTexts(batch);
    if (!out || typeof out.length !== 'number' || out.length === 0 || out.length % batch.length !== 0) {
      throw new ShapeError(
        `zero-shot: embedTexts returned ${out?.length} values for ${batch.length} texts; expected row-major [${batch.length}, D]`,
        {
          texts: batch.length,
          length: out?.length,
        },
      );
    }
    const d = out.length / batch.length;
    if (dim < 0) {
      dim = d;
      table = new Float64Array(unique.length * dim);
    } else if (d !== dim) {
      throw new ShapeError(`zero-shot: embedTexts returned dimension ${d} for one batch and ${dim} for an earlier one`, { dim, d });
    }
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) {
        throw new InvalidArgumentError(`zero-shot: embedding of prompt '${batch[Math.floor(i / d)]}' has a non-finite value`, {
          text: batch[Math.floor(i / d)],
        });
      }
      table[start * dim + i] = out[i];
    }
  }
  const numLabels = prompts.length;
  const positive = new Float64Array(numLabels * dim);
  const negative = new Float64Array(numLabels * dim);
  prompts.forEach((p, l) => {
    positive.set(
      ensembleEmbedding(
        table,
        p.positive.map((t) => rowOf.get(t)!),
        dim,
        `${p.label} (positive)`,
      ),
      l * dim,
    );
    negative.set(
      ensembleEmbedding(
        table,
        p.negative.map((t) => rowOf.get(t)!),
        dim,
        `${p.label} (negative)`,
      ),
      l * dim,
    );
  });
  const labels = prompts.map((p) => p.label);
  return {
    labels,
    dim,
    positive,
    negative,
    score: (images) => zeroShotScores(images, positive, negative, dim),
  };
}

/** L2-normalised mean of the L2-normalised rows `rows` of a [*, dim] table. */
export function ensembleEmbedding(table: ArrayLike<number>, rows: readonly number[], dim: number, what = 'prompt'): Float64Array {
  const out = new Float64Array(dim);
  for (const r of rows) {
    const norm = rowNorm(table, r * dim, dim);
    if (norm === 0) throw new InvalidArgumentError(`zero-shot: a template embedding of ${what} is the zero vector`, { what });
    for (let k = 0; k < dim; k++) out[k] += table[r * dim + k] / norm;
  }
  const norm = rowNorm(out, 0, dim);
  if (norm === 0) throw new InvalidArgumentError(`zero-shot: the template embeddings of ${what} cancel out (mean is zero)`, { what });
  for (let k = 0; k < dim; k++) out[k] /= norm;
  return out;
}

/**
 * p(c|x) for row-major [N, D] image embeddings and [L, D] unit prompt embeddings.
 * Image rows need not be normalised; a zero row gives NaN scores.
 */
export function zeroShotScores(
  images: ArrayLike<number>,
  positive: ArrayLike<number>,
  negative: ArrayLike<number>,
  dim: number,
): Float64Array {
  if (positive.length !== negative.length || positive.length % dim !== 0) {
    throw new ShapeError(`zero-shot: prompt embeddings of length ${positive.length} / ${negative.length} do not form [L, ${dim}]`, {});
  }
  if (images.length % dim !== 0) {
    throw new ShapeError(
      `zero-shot: image embeddings of length ${images.length} are not row-major [N, ${dim}]; check that image and text encoders share dimension ${dim}`,
      {
        length: images.length,
        dim,
      },
    );
  }
  const n = images.length / dim;
  const numLabels = positive.length / dim;
  const out = new Float64Array(n * numLabels);
  for (let i = 0; i < n; i++) {
    const norm = rowNorm(images, i * dim, dim);
    for (let l = 0; l < numLabels; l++) {
      let dp = 0;
      let dn = 0;
      for (let k = 0; k < dim; k++) {
        const x = images[i * dim + k];
        dp += x * positive[l * dim + k];
        dn += x * negative[l * dim + k];
      }
      // exp(a)/(exp(a)+exp(b)) = 1/(1+exp(b-a)): no overflow, and NaN for a zero image row.
      out[i * numLabels + l] = norm === 0 ? NaN : 1 / (1 + Math.exp((dn - dp) / norm));
    }
  }
  return out;
}

function rowNorm(values: ArrayLike<number>, offset: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += values[offset + k] * values[offset + k];
  return Math.sqrt(s);
}
