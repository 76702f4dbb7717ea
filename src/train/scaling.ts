/**
 * Per-dimension standardisation of frozen features, z = (x - mean) / std with statistics from
 * the training rows (image) or the sentence table (text). Frozen encoders, random built-ins
 * especially, put most of a feature's magnitude in a component shared by every input; removing
 * it makes the heads' optimisation well conditioned. For export the scaling is folded into the
 * head's first layer (W' = W / std, b' = b - W' . mean), so the ONNX model takes raw features.
 */
import type { HeadLayer } from './heads.js';

export interface FeatureScaling {
  mean: Float32Array;
  std: Float32Array;
}

export function fitScaling(matrix: Float32Array, dim: number, rows: ArrayLike<number> | null): FeatureScaling {
  const n = rows ? rows.length : matrix.length / dim;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i]! : i;
    for (let k = 0; k < dim; k++) mean[k]! += matrix[r * dim + k]!;
  }
  for (let k = 0; k < dim; k++) mean[k]! /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i]! : i;
    for (let k = 0; k < dim; k++) sq[k]! += (matrix[r * dim + k]! - mean[k]!) ** 2;
  }
  const std = new Float32Array(dim);
  // the floor keeps constant dimensions (dead channels) at zero instead of dividing by zero
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(sq[k]! / Math.max(1, n)) + 1e-6;
  return { mean: Float32Array.from(mean), std };
}

export function applyScaling(matrix: Float32Array, dim: number, s: FeatureScaling): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let i = 0; i < matrix.length; i++) {
    const k = i % dim;
    out[i] = (matrix[i]! - s.mean[k]!) / s.std[k]!;
  }
  return out;
}

/** The head's layers with the input standardisation folded into the first one. */
export function foldScaling(layers: readonly HeadLayer[], s: FeatureScaling): HeadLayer[] {
  const [first, ...rest] = layers;
  if (!first) return [];
  const weight = new Float32Array(first.weight.length);
  const bias = new Float32Array(first.outDim);
  for (let o = 0; o < first.outDim; o++) {
    let shift = first.bias[o]!;
    for (let k = 0; k < first.inDim; k++) {
      const w = first.weight[o * first.inDim + k]! / s.std[k]!;
      weight[o * first.inDim + k] = w;
      shift -= w * s.mean[k]!;
    }
    bias[o] = shift;
  }
  return [{ ...first, weight, bias }, ...rest];
}
