/**
 * Trainable heads on frozen features: a linear layer, or an MLP (linear, exact GELU, linear).
 * Weights live in the run's FlatParameters (PyTorch nn.Linear layout: weight [out, in]); the
 * head only knows its parameter names. backward() ACCUMULATES into the flat gradient buffer
 * and can return dL/dinput for a trainable encoder underneath (issue 8).
 */
import type { FlatParameters, ParameterSpec } from './parameters.js';
import type { TrainOps } from './ops.js';

export type HeadKind = 'linear' | 'mlp';

export interface HeadShape {
  kind: HeadKind;
  inDim: number;
  outDim: number;
  hidden: number;
}

export interface HeadLayer {
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

export function headSpecs(prefix: string, shape: HeadShape, group = 'main'): ParameterSpec[] {
  const layer = (name: string, inDim: number, outDim: number): ParameterSpec[] => [
    // PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in))
    { name: `${name}.weight`, shape: [outDim, inDim], init: { kind: 'uniform', bound: 1 / Math.sqrt(inDim) }, group },
    { name: `${name}.bias`, shape: [outDim], init: { kind: 'constant', value: 0 }, group },
  ];
  return shape.kind === 'linear'
    ? layer(`${prefix}.fc`, shape.inDim, shape.outDim)
    : [...layer(`${prefix}.fc1`, shape.inDim, shape.hidden), ...layer(`${prefix}.fc2`, shape.hidden, shape.outDim)];
}

interface Activations {
  rows: number;
  x: Float32Array;
  pre?: Float32Array;
  hidden?: Float32Array;
}

export class Head {
  private saved: Activations | undefined;

  constructor(readonly params: FlatParameters, readonly prefix: string, readonly shape: HeadShape, private readonly ops: TrainOps) {}

  /** The layers' weights, read from `buffer` (the live parameters, or an EMA copy with the same layout). */
  layers(buffer: Float32Array = this.params.data): HeadLayer[] {
    const { kind, inDim, outDim, hidden } = this.shape;
    const get = (name: string, i: number, o: number): HeadLayer => ({
      weight: this.params.view(`${this.prefix}.${name}.weight`, buffer), bias: this.params.view(`${this.prefix}.${name}.bias`, buffer), inDim: i, outDim: o,
    });
    return kind === 'linear' ? [get('fc', inDim, outDim)] : [get('fc1', inDim, hidden), get('fc2', hidden, outDim)];
  }

  /** [rows, inDim] → [rows, outDim]. Keeps the activations for backward unless `keep` is false. */
  forward(x: Float32Array, rows: number, options: { buffer?: Float32Array; keep?: boolean } = {}): Float32Array {
    const layers = this.layers(options.buffer);
    const first = layers[0]!;
    const y = new Float32Array(rows * first.outDim);
    this.ops.linearForward(x, first.weight, first.bias, y, rows, first.inDim, first.outDim);
    if (layers.length === 1) {
      if (options.keep !== false) this.saved = { rows, x };
      return y;
    }
    const second = layers[1]!;
    const h = new Float32Array(y.length);
    this.ops.geluForward(y, h);
    const out = new Float32Array(rows * second.outDim);
    this.ops.linearForward(h, second.weight, second.bias, out, rows, second.inDim, second.outDim);
    if (options.keep !== false) this.saved = { rows, x, pre: y, hidden: h };
    return out;
  }

  /** Accumulates parameter gradients from dL/doutput; returns dL/dinput when asked. */
  backward(dy: Float32Array, options: { inputGrad: true }): Float32Array;
  backward(dy: Float32Array, options?: { inputGrad?: false }): undefined;
  backward(dy: Float32Array, options: { inputGrad?: boolean } = {}): Float32Array | undefined {
    const saved = this.saved;
    if (!saved) throw new Error(`head ${this.prefix}: backward without a forward`);
    this.saved = undefined;
    const { rows, x } = saved;
    const layers = this.layers();
    const grad = (l: HeadLayer, which: string): [Float32Array, Float32Array] => [this.params.gradView(`${this.prefix}.${which}.weight`), this.params.gradView(`${this.prefix}.${which}.bias`)];
    const dx = options.inputGrad ? new Float32Array(rows * this.shape.inDim) : null;
    if (layers.length === 1) {
      const [dw, db] = grad(layers[0]!, 'fc');
      this.ops.linearBackward(x, layers[0]!.weight, dy, dx, dw, db, rows, this.shape.inDim, this.shape.outDim);
      return dx ?? undefined;
    }
    const [first, second] = layers as [HeadLayer, HeadLayer];
    const dh = new Float32Array(rows * this.shape.hidden);
    const [dw2, db2] = grad(second, 'fc2');
    this.ops.linearBackward(saved.hidden!, second.weight, dy, dh, dw2, db2, rows, second.inDim, second.outDim);
    const dpre = new Float32Array(dh.length);
    this.ops.geluBackward(saved.pre!, dh, dpre);
    const [dw1, db1] = grad(first, 'fc1');
    this.ops.linearBackward(x, first.weight, dpre, dx, dw1, db1, rows, first.inDim, first.outDim);
    return dx ?? undefined;
  }
}

/** Rows `indices` of a row-major [*, dim] matrix, packed. */
export function gatherRows(matrix: Float32Array, dim: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) out.set(matrix.subarray(indices[i]! * dim, (indices[i]! + 1) * dim), i * dim);
  return out;
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
