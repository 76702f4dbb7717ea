/**
 * Trainable heads on features: a linear layer, or an MLP (linear, exact GELU, linear). Weights
 * live in a FlatParameters (PyTorch nn.Linear layout: weight [out, in]; the run's, or the head's
 * own from createHead); the head only knows its parameter names. backward() ACCUMULATES into the
 * flat gradient buffer and can return dL/dinput for a trainable encoder underneath.
 */
import { InvalidArgumentError, ShapeError, describeValue } from '../errors.js';
import { checkFiniteResult, checkFiniteValues, finiteNumber, optionsObject, positiveSize } from '../kernels/operands.js';
import { FlatParameters, type ParameterSpec } from './parameters.js';
import { resolveTrainOps, type TrainOps } from './ops.js';

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

  /**
   * `checkFinite`: scan inputs for NaN/Infinity and results for float32 overflow, as the kernels'
   * own Promise and Sync forms do (createHead's heads); a run checks its losses and parameters
   * itself and leaves it off.
   */
  constructor(
    readonly params: FlatParameters,
    readonly prefix: string,
    readonly shape: HeadShape,
    private readonly ops: TrainOps,
    private readonly checkFinite = false,
  ) {}

  /** The layers' weights, read from `buffer` (the live parameters, or an EMA copy with the same layout). */
  layers(buffer: Float32Array = this.params.data): HeadLayer[] {
    const { kind, inDim, outDim, hidden } = this.shape;
    const get = (name: string, i: number, o: number): HeadLayer => ({
      weight: this.params.view(`${this.prefix}.${name}.weight`, buffer),
      bias: this.params.view(`${this.prefix}.${name}.bias`, buffer),
      inDim: i,
      outDim: o,
    });
    return kind === 'linear' ? [get('fc', inDim, outDim)] : [get('fc1', inDim, hidden), get('fc2', hidden, outDim)];
  }

  /** [rows, inDim] → [rows, outDim]. Keeps the activations for backward unless `keep` is false. */
  forward(x: Float32Array, rows: number, options: { buffer?: Float32Array; keep?: boolean } = {}): Float32Array {
    positiveSize(rows, 'rows');
    checkRows(x, 'x', rows, this.shape.inDim, 'inFeatures');
    if (this.checkFinite) checkFiniteValues(x, 'x');
    const out = this.forwardUnchecked(x, rows, options);
    if (this.checkFinite) checkFiniteResult(out, 'the output', `head ${this.prefix}`);
    return out;
  }

  /**
   * The MLP's hidden activations kept for backward, and backward's temporaries: reused step after
   * step (a fresh array per step made V8 collect its whole heap every ~20 contrastive steps).
   */
  private readonly scratch: Partial<Record<'pre' | 'hidden' | 'dh' | 'dpre', Float32Array>> = {};

  private scratchOf(name: 'pre' | 'hidden' | 'dh' | 'dpre', length: number): Float32Array {
    let buffer = this.scratch[name];
    if (buffer?.length !== length) this.scratch[name] = buffer = new Float32Array(length);
    return buffer;
  }

  private forwardUnchecked(x: Float32Array, rows: number, options: { buffer?: Float32Array; keep?: boolean }): Float32Array {
    const layers = this.layers(options.buffer);
    const first = layers[0]!;
    const keep = options.keep !== false;
    if (layers.length === 1) {
      const y = new Float32Array(rows * first.outDim);
      this.ops.linearForward(x, first.weight, first.bias, y, rows, first.inDim, first.outDim);
      if (keep) this.saved = { rows, x };
      return y;
    }
    // kept activations live in the scratch until the next kept forward; a forward that keeps
    // nothing (evaluation between a step's forward and backward) must leave them alone
    const y = keep ? this.scratchOf('pre', rows * first.outDim) : new Float32Array(rows * first.outDim);
    this.ops.linearForward(x, first.weight, first.bias, y, rows, first.inDim, first.outDim);
    const second = layers[1]!;
    const h = keep ? this.scratchOf('hidden', y.length) : new Float32Array(y.length);
    this.ops.geluForward(y, h);
    const out = new Float32Array(rows * second.outDim);
    this.ops.linearForward(h, second.weight, second.bias, out, rows, second.inDim, second.outDim);
    if (keep) this.saved = { rows, x, pre: y, hidden: h };
    return out;
  }

  /** Accumulates parameter gradients from dL/doutput; returns dL/dinput when asked. */
  backward(dy: Float32Array, options: { inputGrad: true }): Float32Array;
  backward(dy: Float32Array, options?: { inputGrad?: false }): undefined;
  backward(dy: Float32Array, options: { inputGrad?: boolean } = {}): Float32Array | undefined {
    const saved = this.saved;
    if (!saved) throw new InvalidArgumentError(`head ${this.prefix}: backward() called before forward()`);
    checkRows(dy, 'dy', saved.rows, this.shape.outDim, 'outFeatures');
    if (this.checkFinite) checkFiniteValues(dy, 'dy');
    const dx = this.backwardUnchecked(saved, dy, options);
    if (this.checkFinite) {
      checkFiniteResult(this.params.grad, 'the parameter gradients', `head ${this.prefix}`);
      checkFiniteResult(dx, 'the input gradient', `head ${this.prefix}`);
    }
    return dx;
  }

  private backwardUnchecked(saved: Activations, dy: Float32Array, options: { inputGrad?: boolean }): Float32Array | undefined {
    this.saved = undefined;
    const { rows, x } = saved;
    const layers = this.layers();
    const grad = (l: HeadLayer, which: string): [Float32Array, Float32Array] => [
      this.params.gradView(`${this.prefix}.${which}.weight`),
      this.params.gradView(`${this.prefix}.${which}.bias`),
    ];
    const dx = options.inputGrad ? new Float32Array(rows * this.shape.inDim) : null;
    if (layers.length === 1) {
      const [dw, db] = grad(layers[0]!, 'fc');
      this.ops.linearBackward(x, layers[0]!.weight, dy, dx, dw, db, rows, this.shape.inDim, this.shape.outDim);
      return dx ?? undefined;
    }
    const [first, second] = layers as [HeadLayer, HeadLayer];
    const dh = this.scratchOf('dh', rows * this.shape.hidden);
    const [dw2, db2] = grad(second, 'fc2');
    this.ops.linearBackward(saved.hidden!, second.weight, dy, dh, dw2, db2, rows, second.inDim, second.outDim);
    const dpre = this.scratchOf('dpre', dh.length);
    this.ops.geluBackward(saved.pre!, dh, dpre);
    const [dw1, db1] = grad(first, 'fc1');
    this.ops.linearBackward(x, first.weight, dpre, dx, dw1, db1, rows, first.inDim, first.outDim);
    return dx ?? undefined;
  }
}

function checkRows(value: unknown, name: string, rows: number, width: number, widthName: string): void {
  if (!(value instanceof Float32Array)) throw new InvalidArgumentError(`${name} must be a Float32Array, got ${describeValue(value)}`);
  if (value.length !== rows * width) {
    throw new ShapeError(`${name} has ${value.length} elements, but [rows, ${widthName}] = [${rows}, ${width}] needs ${rows * width}`);
  }
}

export interface HeadOptions {
  /** 'linear' (default) or 'mlp' (linear, exact GELU, linear). */
  kind?: HeadKind;
  inFeatures: number;
  outFeatures: number;
  /** Width of the MLP's hidden layer (mlp only). */
  hidden?: number;
  /** Initialisation seed: W ~ U(±1/sqrt(fan in)), as nn.Linear; biases start at 0. */
  seed: number;
}

/**
 * The most parameters a head from createHead may have: 2^26 (256 MiB of float32, and as much
 * again for gradients), far above any probe or MLP over an encoder's features, low enough that
 * a typo in a size fails at once instead of allocating gigabytes.
 */
export const MAX_HEAD_PARAMETERS = 2 ** 26;

/**
 * A head with parameters of its own (`head.params.data`, gradients in `head.params.grad`,
 * `head.params.decayMask('main')` for AdamW), on the native kernels. The same Head the trainer
 * uses, outside a run: zero the gradients (`head.params.zeroGrad()`) before each backward.
 */
export function createHead(options: HeadOptions): Head {
  optionsObject(options, 'createHead');
  const kind = options.kind ?? 'linear';
  if (kind !== 'linear' && kind !== 'mlp')
    throw new InvalidArgumentError(`createHead: kind must be 'linear' or 'mlp', got ${describeValue(kind)}`);
  const inDim = positiveSize(options.inFeatures, 'inFeatures', false);
  const outDim = positiveSize(options.outFeatures, 'outFeatures', false);
  const hidden = kind === 'mlp' ? positiveSize(options.hidden, 'hidden', false) : 0;
  const seed = finiteNumber(options.seed, 'seed');
  const count = kind === 'linear' ? outDim * (inDim + 1) : hidden * (inDim + 1) + outDim * (hidden + 1);
  if (count > MAX_HEAD_PARAMETERS) {
    throw new ShapeError(
      `createHead: a ${kind} head ${inDim} → ${kind === 'mlp' ? `${hidden} → ` : ''}${outDim} has ${count} parameters; at most ${MAX_HEAD_PARAMETERS} are allowed`,
    );
  }
  const shape: HeadShape = { kind, inDim, outDim, hidden };
  return new Head(new FlatParameters(headSpecs('head', shape), seed), 'head', shape, resolveTrainOps(), true);
}

/** Rows `indices` of a row-major [*, dim] matrix, packed. */
export function gatherRows(matrix: Float32Array, dim: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) out.set(matrix.subarray(indices[i]! * dim, (indices[i]! + 1) * dim), i * dim);
  return out;
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
