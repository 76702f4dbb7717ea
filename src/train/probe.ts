/**
 * Linear probe on frozen image features: features standardised with training statistics, a
 * linear layer trained with BCE (masked for missing labels) by full-batch AdamW on the
 * training rows that keep labels; the standardisation is folded into the weights so the
 * probe exports as one Gemm.
 */
import type { TrainDataset } from './dataset.js';
import { gatherRows, Head, sigmoid, type HeadLayer } from './heads.js';
import type { TrainOps } from './ops.js';
import { FlatParameters } from './parameters.js';

export interface LinearProbe {
  /** Probe weights on the raw features (standardisation folded in). */
  layer: HeadLayer;
  predict(features: Float32Array, rows: ArrayLike<number>): Float32Array;
  finalLoss: number;
}

export function fitLinearProbe(
  features: Float32Array,
  dim: number,
  dataset: TrainDataset,
  rows: Int32Array,
  ops: TrainOps,
  options: { steps: number; lr: number; weightDecay: number; seed: number; uncertain: 'ignore' | 'ones' | 'zeros' },
): LinearProbe {
  const L = dataset.labelNames.length;
  const n = rows.length;
  const x = gatherRows(features, dim, rows);
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) mean[k]! += x[i * dim + k]! / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) std[k]! += (x[i * dim + k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(std[k]!) + 1e-6;
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) x[i * dim + k] = (x[i * dim + k]! - mean[k]!) / std[k]!;

  const targets = new Float32Array(n * L);
  const mask = new Float32Array(n * L);
  for (let i = 0; i < n; i++)
    for (let l = 0; l < L; l++) {
      const v = dataset.labels[rows[i]! * L + l]!;
      targets[i * L + l] = Number.isFinite(v) ? v : 0;
      mask[i * L + l] = Number.isFinite(v) ? 1 : 0;
    }
  const shape = { kind: 'linear' as const, inDim: dim, outDim: L, hidden: 1 };
  const params = new FlatParameters(
    [
      { name: 'probe.fc.weight', shape: [L, dim], init: { kind: 'constant', value: 0 } },
      { name: 'probe.fc.bias', shape: [L], init: { kind: 'constant', value: 0 } },
    ],
    options.seed,
  );
  const head = new Head(params, 'probe', shape, ops);
  const optimizer = ops.createOptimizer(params.data, params.decayMask('main'));
  const grad = new Float32Array(n * L);
  let finalLoss = NaN;
  for (let s = 0; s < options.steps; s++) {
    params.zeroGrad();
    const logits = head.forward(x, n);
    finalLoss = ops.bceWithLogits(logits, targets, mask, grad, n, L, options.uncertain).loss;
    head.backward(grad);
    optimizer.update(params.grad, {
      lr: options.lr,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: options.weightDecay,
      maxGradNorm: 0,
    });
  }
  const w = params.view('probe.fc.weight');
  const b = params.view('probe.fc.bias');
  const weight = new Float32Array(L * dim);
  const bias = new Float32Array(L);
  for (let l = 0; l < L; l++) {
    let shift = b[l]!;
    for (let k = 0; k < dim; k++) {
      weight[l * dim + k] = w[l * dim + k]! / std[k]!;
      shift -= (w[l * dim + k]! * mean[k]!) / std[k]!;
    }
    bias[l] = shift;
  }
  const layer: HeadLayer = { weight, bias, inDim: dim, outDim: L };
  return {
    layer,
    finalLoss,
    predict: (all, which) => {
      const xs = gatherRows(all, dim, which);
      const out = new Float32Array(which.length * L);
      ops.linearForward(xs, weight, bias, out, which.length, dim, L);
      return out.map(sigmoid);
    },
  };
}
