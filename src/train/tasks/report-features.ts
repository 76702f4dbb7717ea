/** Text features of reports on frozen encoders: means of cached per-sentence embeddings. */
import type { TrainDataset } from '../dataset.js';
import type { FrozenFeatures } from '../features.js';

/** Mean of the cached embeddings of `ids` (rows of a [S, dim] table) written at out[offset..]. */
export function meanRows(table: Float32Array, dim: number, ids: readonly number[], out: Float32Array, offset: number): void {
  for (const id of ids) for (let k = 0; k < dim; k++) out[offset + k]! += table[id * dim + k]!;
  const n = Math.max(1, ids.length);
  for (let k = 0; k < dim; k++) out[offset + k]! /= n;
}

/** Every sentence of each row, averaged: the report-level text feature (teacher input, evaluation). */
export function reportFeatures(dataset: TrainDataset, features: FrozenFeatures, rows: ArrayLike<number>): Float32Array {
  const dim = features.textDim;
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    meanRows(
      features.sentences,
      dim,
      Array.from(dataset.rowSentences.subarray(dataset.rowOffsets[r]!, dataset.rowOffsets[r + 1]!)),
      out,
      i * dim,
    );
  }
  return out;
}

/** Training rows whose report has at least one sentence (the contrastive modes' rows). */
export function rowsWithReports(dataset: TrainDataset): Int32Array {
  return dataset.indices('train').filter((r) => dataset.rowOffsets[r + 1]! > dataset.rowOffsets[r]!);
}

/** Training rows inside the label fraction (the supervised modes' rows). */
export function labelledRows(dataset: TrainDataset): Int32Array {
  return dataset.indices('train').filter((r) => dataset.labelled[r] === 1);
}
