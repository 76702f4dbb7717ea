/**
 * An ordinal probe on frozen features (the knee-OA recipe's grade head, as a linear probe): one
 * shared weight vector and K - 1 ordered thresholds, logits_k = x·w + b_k (cumulative-link / CORAL
 * form), trained full-batch with radlearn's ordinal loss and AdamW kernels on standardised features.
 * The predicted grade is the number of positive logits.
 */
import { ordinalLossSync, ordinalPredict } from '../../kernels/losses.js';
import { adamwStepSync } from '../../kernels/optim.js';

export interface GradeProbe {
  /** Predicted grade per row of `rows` (features [N, D] as given to fit). */
  predict(features: Float32Array, rows: Int32Array): Int32Array;
}

export interface GradeProbeOptions {
  levels: number;
  steps?: number;
  lr?: number;
  weightDecay?: number;
}

export function fitGradeProbe(
  features: Float32Array,
  dim: number,
  rows: Int32Array,
  grades: Float32Array,
  options: GradeProbeOptions,
): GradeProbe {
  const K = options.levels;
  const n = rows.length;
  // standardise with the training rows' statistics
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (const r of rows) for (let d = 0; d < dim; d++) mean[d]! += features[r * dim + d]! / n;
  for (const r of rows) for (let d = 0; d < dim; d++) sd[d]! += (features[r * dim + d]! - mean[d]!) ** 2 / n;
  for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d]!) || 1;
  const x = new Float32Array(n * dim);
  rows.forEach((r, i) => {
    for (let d = 0; d < dim; d++) x[i * dim + d] = (features[r * dim + d]! - mean[d]!) / sd[d]!;
  });
  const levels = Float32Array.from(rows, (r) => grades[r]!);
  // parameters: w [dim], then the K - 1 thresholds (initialised increasing so the grades start ordered)
  const params = new Float32Array(dim + K - 1);
  for (let k = 0; k < K - 1; k++) params[dim + k] = (K - 2) / 2 - k;
  const grads = new Float32Array(params.length);
  const moments = { m: new Float32Array(params.length), v: new Float32Array(params.length) };
  const logits = new Float32Array(n * (K - 1));
  const logitGrad = new Float32Array(n * (K - 1));
  const steps = options.steps ?? 300;
  for (let step = 1; step <= steps; step++) {
    forward(x, n, dim, params, K, logits);
    ordinalLossSync(logits, levels, { rows: n, levels: K, grad: logitGrad });
    grads.fill(0);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < K - 1; k++) {
        const g = logitGrad[i * (K - 1) + k]!;
        sum += g;
        grads[dim + k]! += g;
      }
      for (let d = 0; d < dim; d++) grads[d]! += sum * x[i * dim + d]!;
    }
    adamwStepSync(params, grads, moments, { lr: options.lr ?? 1e-2, step, weightDecay: options.weightDecay ?? 1e-4 });
  }
  return {
    predict(all: Float32Array, at: Int32Array): Int32Array {
      const z = new Float32Array(at.length * dim);
      at.forEach((r, i) => {
        for (let d = 0; d < dim; d++) z[i * dim + d] = (all[r * dim + d]! - mean[d]!) / sd[d]!;
      });
      const out = new Float32Array(at.length * (K - 1));
      forward(z, at.length, dim, params, K, out);
      return ordinalPredict(out, at.length, K);
    },
  };
}

function forward(x: Float32Array, n: number, dim: number, params: Float32Array, K: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += x[i * dim + d]! * params[d]!;
    for (let k = 0; k < K - 1; k++) out[i * (K - 1) + k] = s + params[dim + k]!;
  }
}
