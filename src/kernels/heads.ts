import { InvalidArgumentError, ShapeError } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { NativeBackend, NativeFloat } from '../native/types.js';
import { initializeValues } from '../onnx/init.js';
import {
  checkFiniteValues,
  checkFloat,
  chooseBackend,
  fromNative,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor } from './tensor.js';

/**
 * Dense layers for trainable heads: a linear layer Y = X . W^T + b (W: [out, in], PyTorch's
 * nn.Linear layout) with its backward pass, the exact (erf) GELU, and head objects that keep
 * all their parameters in ONE flat Float32Array (named views at offsets) with gradients in a
 * parallel flat buffer, ready for the flat-buffer AdamW.
 */
export interface LinearShape {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

export interface LinearForwardOptions<T extends FloatTensor> extends LinearShape, KernelCallOptions {
  /** [rows, outFeatures] destination. */
  out?: T;
}

export interface LinearBackwardOptions<T extends FloatTensor> extends LinearShape, KernelCallOptions {
  /** [rows, inFeatures]: buffer for dX, or true to allocate one; omitted = not computed. */
  dx?: T | true;
  /** [outFeatures, inFeatures]: buffer for dW, or true to allocate. */
  dw?: T | true;
  /** [outFeatures]: buffer for db, or true to allocate. */
  db?: T | true;
  /** Add dW and db to the buffers' contents instead of overwriting (gradient accumulation). */
  accumulate?: boolean;
}

export interface LinearGradients<T extends FloatTensor> {
  dx?: T;
  dw?: T;
  db?: T;
}

export interface ElementwiseOptions<T extends FloatTensor> extends KernelCallOptions {
  out?: T;
}

function shapeOf(options: LinearShape) {
  return {
    rows: positiveSize(options.rows, 'rows'),
    inF: positiveSize(options.inFeatures, 'inFeatures'),
    outF: positiveSize(options.outFeatures, 'outFeatures'),
  };
}

function prepareForward<T extends FloatTensor>(x: T, w: T, b: T | undefined, options: LinearForwardOptions<T>) {
  const { rows, inF, outF } = shapeOf(options);
  checkFloat(x, 'x', [rows, inF], '[rows, inFeatures]');
  checkFloat(w, 'w', [outF, inF], '[outFeatures, inFeatures]');
  if (b !== undefined) checkFloat(b, 'b', [outF], '[outFeatures]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [rows, outF], '[rows, outFeatures]');
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    checkFiniteValues(w, 'w');
    if (b !== undefined) checkFiniteValues(b, 'b');
  }
  const backend = chooseBackend([x, w, ...(b ? [b] : []), ...(options.out ? [options.out] : [])], options);
  return [toNative(x)!, toNative(w)!, toNative(b) ?? null, rows, inF, outF, toNative(options.out), backend] as const;
}

function wrap<T extends FloatTensor>(op: string, out: T | undefined, run: () => NativeFloat): T {
  try {
    const value = run();
    return (out ?? fromNative(value)) as T;
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

async function wrapAsync<T extends FloatTensor>(op: string, out: T | undefined, run: () => Promise<NativeFloat>): Promise<T> {
  try {
    const value = await run();
    return (out ?? fromNative(value)) as T;
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

/** Y = X . W^T + b; x: [rows, in], w: [out, in], b: [out] or undefined -> [rows, out]. */
export function linearForwardSync<T extends FloatTensor>(x: T, w: T, b: T | undefined, options: LinearForwardOptions<T>): T {
  const args = prepareForward(x, w, b, options);
  return wrap('linearForward', options.out, () => addon().linearForward(...args, false) as NativeFloat);
}

export function linearForward<T extends FloatTensor>(x: T, w: T, b: T | undefined, options: LinearForwardOptions<T>): Promise<T> {
  const args = prepareForward(x, w, b, options);
  return wrapAsync('linearForward', options.out, () => addon().linearForward(...args, true) as Promise<NativeFloat>);
}

function allocateLike(like: FloatTensor, length: number): FloatTensor {
  return like instanceof DeviceTensor ? DeviceTensor.empty([length]) : new Float32Array(length);
}

function prepareBackward<T extends FloatTensor>(x: T, w: T, dy: T, options: LinearBackwardOptions<T>) {
  const { rows, inF, outF } = shapeOf(options);
  checkFloat(x, 'x', [rows, inF], '[rows, inFeatures]');
  checkFloat(w, 'w', [outF, inF], '[outFeatures, inFeatures]');
  checkFloat(dy, 'dy', [rows, outF], '[rows, outFeatures]');
  if (options.accumulate && (options.dw === true || options.db === true)) {
    throw new InvalidArgumentError('accumulate needs existing dw/db buffers to add to, not freshly allocated ones');
  }
  const pick = (value: T | true | undefined, length: number, name: string, dims: number[], dimNames: string): T | undefined => {
    if (value === undefined) return undefined;
    const buffer = (value === true ? allocateLike(x, length) : value) as T;
    checkFloat(buffer, name, dims, dimNames);
    return buffer;
  };
  const grads: LinearGradients<T> = {};
  const dx = pick(options.dx, rows * inF, 'dx', [rows, inF], '[rows, inFeatures]');
  const dw = pick(options.dw, outF * inF, 'dw', [outF, inF], '[outFeatures, inFeatures]');
  const db = pick(options.db, outF, 'db', [outF], '[outFeatures]');
  if (dx) grads.dx = dx;
  if (dw) grads.dw = dw;
  if (db) grads.db = db;
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    checkFiniteValues(w, 'w');
    checkFiniteValues(dy, 'dy');
  }
  const backend = chooseBackend([x, w, dy, ...[dx, dw, db].filter((t): t is T => t !== undefined)], options);
  const args = [toNative(x)!, toNative(w)!, toNative(dy)!, rows, inF, outF, toNative(dx) ?? null, toNative(dw) ?? null,
    toNative(db) ?? null, options.accumulate === true, backend] as const;
  return { args, grads };
}

/** dX = dY . W, dW (+)= dY^T . X, db (+)= sum over rows of dY; only the requested ones are computed. */
export function linearBackwardSync<T extends FloatTensor>(x: T, w: T, dy: T, options: LinearBackwardOptions<T>): LinearGradients<T> {
  const { args, grads } = prepareBackward(x, w, dy, options);
  try {
    addon().linearBackward(...args, false);
  } catch (error) {
    throw fromNativeError(error, 'linearBackward');
  }
  return grads;
}

export async function linearBackward<T extends FloatTensor>(x: T, w: T, dy: T, options: LinearBackwardOptions<T>): Promise<LinearGradients<T>> {
  const { args, grads } = prepareBackward(x, w, dy, options);
  try {
    await addon().linearBackward(...args, true);
  } catch (error) {
    throw fromNativeError(error, 'linearBackward');
  }
  return grads;
}

function lengthOf(x: FloatTensor, name: string): number {
  if (x instanceof Float32Array) return x.length;
  if (x instanceof DeviceTensor) return x.size;
  throw new InvalidArgumentError(`${name} must be a Float32Array or a float32 DeviceTensor`);
}

function prepareGelu<T extends FloatTensor>(x: T, options: ElementwiseOptions<T>, dy?: T) {
  const length = lengthOf(x, 'x');
  checkFloat(x, 'x', [length], '[length]');
  if (dy !== undefined) checkFloat(dy, 'dy', [length], '[length]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [length], '[length]');
  if (options.checkFinite !== false) {
    checkFiniteValues(x, 'x');
    if (dy !== undefined) checkFiniteValues(dy, 'dy');
  }
  const backend = chooseBackend([x, ...(dy ? [dy] : []), ...(options.out ? [options.out] : [])], options);
  return { length, backend };
}

/** GELU, exact erf form: y = 0.5 x (1 + erf(x / sqrt 2)) (torch.nn.GELU()). */
export function geluSync<T extends FloatTensor>(x: T, options: ElementwiseOptions<T> = {}): T {
  const { length, backend } = prepareGelu(x, options);
  return wrap('gelu', options.out, () => addon().geluForward(toNative(x)!, length, toNative(options.out), backend, false) as NativeFloat);
}

export function gelu<T extends FloatTensor>(x: T, options: ElementwiseOptions<T> = {}): Promise<T> {
  const { length, backend } = prepareGelu(x, options);
  return wrapAsync('gelu', options.out, () => addon().geluForward(toNative(x)!, length, toNative(options.out), backend, true) as Promise<NativeFloat>);
}

/** dX = dY * (Phi(x) + x phi(x)), with x the forward input. */
export function geluBackwardSync<T extends FloatTensor>(x: T, dy: T, options: ElementwiseOptions<T> = {}): T {
  const { length, backend } = prepareGelu(x, options, dy);
  return wrap('geluBackward', options.out, () => addon().geluBackward(toNative(x)!, toNative(dy)!, length, toNative(options.out), backend, false) as NativeFloat);
}

export function geluBackward<T extends FloatTensor>(x: T, dy: T, options: ElementwiseOptions<T> = {}): Promise<T> {
  const { length, backend } = prepareGelu(x, options, dy);
  return wrapAsync('geluBackward', options.out, () =>
    addon().geluBackward(toNative(x)!, toNative(dy)!, length, toNative(options.out), backend, true) as Promise<NativeFloat>);
}

// ---------------------------------------------------------------------------------------
// Heads over one flat parameter buffer.

/** One named tensor inside a head's flat parameter buffer. */
export interface ParameterSlot {
  name: string;
  /** Offset in floats from the start of the head's region. */
  offset: number;
  length: number;
  shape: number[];
  /** Whether weight decay applies (weights yes, biases no). */
  decay: boolean;
}

/** Where a head keeps its parameters: its own buffers, or a region of larger shared ones. */
export interface HeadStorage {
  /** Flat parameter buffer (at least offset + parameterCount floats). */
  parameters: Float32Array;
  /** Parallel flat gradient buffer of the same length. */
  gradients: Float32Array;
  /** Start of the head's region in both buffers (default 0). */
  offset?: number;
}

export interface HeadBackwardOptions {
  /** Add to the gradient buffer instead of overwriting it (accumulation over micro-batches). */
  accumulate?: boolean;
  /** Also return d(loss)/d(input) (default false). */
  inputGradient?: boolean;
}

export interface Head {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The head's parameters: a view of exactly parameterCount floats in the flat buffer. */
  readonly parameters: Float32Array;
  /** Gradients, parallel to `parameters`. */
  readonly gradients: Float32Array;
  readonly parameterCount: number;
  /** Named slots (offsets relative to `parameters`). */
  readonly layout: readonly ParameterSlot[];
  /** Named views into `parameters` (W1, b1, ... or W, b). */
  readonly views: Readonly<Record<string, Float32Array>>;
  /** 1 where weight decay applies, 0 for biases: pass to AdamW as decayMask. */
  decayMask(): Uint8Array;
  /** Logits [n, outFeatures] for inputs [n, inFeatures]; remembers what backward needs. */
  forward(x: Float32Array, n: number): Promise<Float32Array>;
  forwardSync(x: Float32Array, n: number): Float32Array;
  /** Gradients of the last forward's outputs -> parameter gradients (and optionally the input gradient). */
  backward(dy: Float32Array, options?: HeadBackwardOptions): Promise<Float32Array | undefined>;
  backwardSync(dy: Float32Array, options?: HeadBackwardOptions): Float32Array | undefined;
  zeroGradients(): void;
}

interface CommonHeadOptions {
  inFeatures: number;
  outFeatures: number;
  /** Initialisation seed (PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for W and b). */
  seed: number;
  /** Use existing flat buffers instead of allocating new ones. */
  storage?: HeadStorage;
  backend?: NativeBackend;
}

export type LinearHeadOptions = CommonHeadOptions;

export interface MlpHeadOptions extends CommonHeadOptions {
  hidden: number;
}

function buildLayout(entries: Array<[string, number[], boolean]>): ParameterSlot[] {
  let offset = 0;
  return entries.map(([name, shape, decay]) => {
    const length = shape.reduce((a, b) => a * b, 1);
    const slot = { name, offset, length, shape, decay };
    offset += length;
    return slot;
  });
}

function layoutSize(layout: readonly ParameterSlot[]): number {
  const last = layout[layout.length - 1]!;
  return last.offset + last.length;
}

export function linearHeadLayout(inFeatures: number, outFeatures: number): ParameterSlot[] {
  return buildLayout([['W', [outFeatures, inFeatures], true], ['b', [outFeatures], false]]);
}

export function mlpHeadLayout(inFeatures: number, hidden: number, outFeatures: number): ParameterSlot[] {
  return buildLayout([
    ['W1', [hidden, inFeatures], true],
    ['b1', [hidden], false],
    ['W2', [outFeatures, hidden], true],
    ['b2', [outFeatures], false],
  ]);
}

abstract class FlatHead {
  readonly parameters: Float32Array;
  readonly gradients: Float32Array;
  readonly parameterCount: number;
  readonly views: Record<string, Float32Array> = {};
  readonly gradViews: Record<string, Float32Array> = {};
  protected readonly backendOption: KernelCallOptions;

  constructor(readonly layout: readonly ParameterSlot[], options: CommonHeadOptions) {
    this.parameterCount = layoutSize(layout);
    const storage = options.storage;
    const offset = storage ? positiveSize(storage.offset ?? 0, 'storage.offset') : 0;
    if (storage) {
      if (!(storage.parameters instanceof Float32Array) || !(storage.gradients instanceof Float32Array)) {
        throw new InvalidArgumentError('storage.parameters and storage.gradients must be Float32Arrays');
      }
      if (storage.parameters.length !== storage.gradients.length) {
        throw new ShapeError(`storage.parameters (${storage.parameters.length}) and storage.gradients (${storage.gradients.length}) must have the same length`);
      }
      if (offset + this.parameterCount > storage.parameters.length) {
        throw new ShapeError(`the head needs ${this.parameterCount} floats at offset ${offset}, but the storage holds ${storage.parameters.length}`);
      }
    }
    this.parameters = storage ? storage.parameters.subarray(offset, offset + this.parameterCount) : new Float32Array(this.parameterCount);
    this.gradients = storage ? storage.gradients.subarray(offset, offset + this.parameterCount) : new Float32Array(this.parameterCount);
    for (const slot of layout) {
      this.views[slot.name] = this.parameters.subarray(slot.offset, slot.offset + slot.length);
      this.gradViews[slot.name] = this.gradients.subarray(slot.offset, slot.offset + slot.length);
    }
    this.backendOption = options.backend ? { backend: options.backend } : {};
    if (!Number.isFinite(options.seed)) throw new InvalidArgumentError(`seed must be a finite number, got ${String(options.seed)}`);
    const seed = options.seed;
    // nn.Linear's default: kaiming_uniform(a = sqrt 5) for W and U(+-1/sqrt(fan_in)) for b both give this bound.
    for (const slot of layout) {
      const fanIn = slot.name.startsWith('W') ? slot.shape[1]! : this.fanInOfBias(slot.name);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      this.views[slot.name]!.set(initializeValues({ kind: 'uniform', low: -bound, high: bound }, slot.length, seed, slot.name));
    }
  }

  protected abstract fanInOfBias(name: string): number;

  decayMask(): Uint8Array {
    const mask = new Uint8Array(this.parameterCount);
    for (const slot of this.layout) if (slot.decay) mask.fill(1, slot.offset, slot.offset + slot.length);
    return mask;
  }

  zeroGradients(): void {
    this.gradients.fill(0);
  }

  protected checkInput(x: Float32Array, n: number, inFeatures: number): void {
    positiveSize(n, 'n');
    if (!(x instanceof Float32Array)) throw new InvalidArgumentError('head inputs must be Float32Arrays');
    if (x.length !== n * inFeatures) throw new ShapeError(`x has ${x.length} elements, but [n, inFeatures] = [${n}, ${inFeatures}] needs ${n * inFeatures}`);
  }

  protected checkGrad(dy: Float32Array, rows: number | undefined, outFeatures: number): number {
    if (rows === undefined) throw new InvalidArgumentError('backward() called before forward()');
    if (!(dy instanceof Float32Array) || dy.length !== rows * outFeatures) {
      throw new ShapeError(`dy has ${(dy as Float32Array)?.length} elements, but the last forward produced [${rows}, ${outFeatures}]`);
    }
    return rows;
  }
}

/** A linear probe: logits = x . W^T + b. */
export class LinearHead extends FlatHead implements Head {
  readonly inFeatures: number;
  readonly outFeatures: number;
  private lastX: Float32Array | undefined;
  private lastRows: number | undefined;

  constructor(options: LinearHeadOptions) {
    const inF = positiveSize(options.inFeatures, 'inFeatures', false);
    const outF = positiveSize(options.outFeatures, 'outFeatures', false);
    super(linearHeadLayout(inF, outF), options);
    this.inFeatures = inF;
    this.outFeatures = outF;
  }

  protected fanInOfBias(): number {
    return this.inFeatures;
  }

  private shape(n: number): LinearShape {
    return { rows: n, inFeatures: this.inFeatures, outFeatures: this.outFeatures };
  }

  forwardSync(x: Float32Array, n: number): Float32Array {
    this.checkInput(x, n, this.inFeatures);
    const y = linearForwardSync(x, this.views.W!, this.views.b!, { ...this.shape(n), ...this.backendOption });
    this.lastX = x;
    this.lastRows = n;
    return y;
  }

  async forward(x: Float32Array, n: number): Promise<Float32Array> {
    this.checkInput(x, n, this.inFeatures);
    const y = await linearForward(x, this.views.W!, this.views.b!, { ...this.shape(n), ...this.backendOption });
    this.lastX = x;
    this.lastRows = n;
    return y;
  }

  private backwardOptions(n: number, options: HeadBackwardOptions): LinearBackwardOptions<Float32Array> {
    return {
      ...this.shape(n),
      ...this.backendOption,
      dw: this.gradViews.W!,
      db: this.gradViews.b!,
      accumulate: options.accumulate === true,
      ...(options.inputGradient ? { dx: true as const } : {}),
    };
  }

  backwardSync(dy: Float32Array, options: HeadBackwardOptions = {}): Float32Array | undefined {
    const n = this.checkGrad(dy, this.lastRows, this.outFeatures);
    return linearBackwardSync(this.lastX!, this.views.W!, dy, this.backwardOptions(n, options)).dx;
  }

  async backward(dy: Float32Array, options: HeadBackwardOptions = {}): Promise<Float32Array | undefined> {
    const n = this.checkGrad(dy, this.lastRows, this.outFeatures);
    return (await linearBackward(this.lastX!, this.views.W!, dy, this.backwardOptions(n, options))).dx;
  }
}

/** Linear -> GELU (erf) -> Linear. */
export class MlpHead extends FlatHead implements Head {
  readonly inFeatures: number;
  readonly hidden: number;
  readonly outFeatures: number;
  private last: { x: Float32Array; h: Float32Array; a: Float32Array; rows: number } | undefined;

  constructor(options: MlpHeadOptions) {
    const inF = positiveSize(options.inFeatures, 'inFeatures', false);
    const hidden = positiveSize(options.hidden, 'hidden', false);
    const outF = positiveSize(options.outFeatures, 'outFeatures', false);
    super(mlpHeadLayout(inF, hidden, outF), options);
    this.inFeatures = inF;
    this.hidden = hidden;
    this.outFeatures = outF;
  }

  protected fanInOfBias(name: string): number {
    return name === 'b1' ? this.inFeatures : this.hidden;
  }

  forwardSync(x: Float32Array, n: number): Float32Array {
    this.checkInput(x, n, this.inFeatures);
    const o = this.backendOption;
    const h = linearForwardSync(x, this.views.W1!, this.views.b1!, { rows: n, inFeatures: this.inFeatures, outFeatures: this.hidden, ...o });
    const a = geluSync(h, { ...o, checkFinite: false });
    const y = linearForwardSync(a, this.views.W2!, this.views.b2!, { rows: n, inFeatures: this.hidden, outFeatures: this.outFeatures, ...o, checkFinite: false });
    this.last = { x, h, a, rows: n };
    return y;
  }

  async forward(x: Float32Array, n: number): Promise<Float32Array> {
    this.checkInput(x, n, this.inFeatures);
    const o = this.backendOption;
    const h = await linearForward(x, this.views.W1!, this.views.b1!, { rows: n, inFeatures: this.inFeatures, outFeatures: this.hidden, ...o });
    const a = await gelu(h, { ...o, checkFinite: false });
    const y = await linearForward(a, this.views.W2!, this.views.b2!, { rows: n, inFeatures: this.hidden, outFeatures: this.outFeatures, ...o, checkFinite: false });
    this.last = { x, h, a, rows: n };
    return y;
  }

  backwardSync(dy: Float32Array, options: HeadBackwardOptions = {}): Float32Array | undefined {
    const n = this.checkGrad(dy, this.last?.rows, this.outFeatures);
    const { x, h, a } = this.last!;
    const o = this.backendOption;
    const accumulate = options.accumulate === true;
    const second = linearBackwardSync(a, this.views.W2!, dy, {
      rows: n, inFeatures: this.hidden, outFeatures: this.outFeatures, ...o,
      dx: true, dw: this.gradViews.W2!, db: this.gradViews.b2!, accumulate,
    });
    const dh = geluBackwardSync(h, second.dx!, { ...o, checkFinite: false });
    const first = linearBackwardSync(x, this.views.W1!, dh, {
      rows: n, inFeatures: this.inFeatures, outFeatures: this.hidden, ...o, checkFinite: false,
      dw: this.gradViews.W1!, db: this.gradViews.b1!, accumulate, ...(options.inputGradient ? { dx: true as const } : {}),
    });
    return first.dx;
  }

  async backward(dy: Float32Array, options: HeadBackwardOptions = {}): Promise<Float32Array | undefined> {
    const n = this.checkGrad(dy, this.last?.rows, this.outFeatures);
    const { x, h, a } = this.last!;
    const o = this.backendOption;
    const accumulate = options.accumulate === true;
    const second = await linearBackward(a, this.views.W2!, dy, {
      rows: n, inFeatures: this.hidden, outFeatures: this.outFeatures, ...o,
      dx: true, dw: this.gradViews.W2!, db: this.gradViews.b2!, accumulate,
    });
    const dh = await geluBackward(h, second.dx!, { ...o, checkFinite: false });
    const first = await linearBackward(x, this.views.W1!, dh, {
      rows: n, inFeatures: this.inFeatures, outFeatures: this.hidden, ...o, checkFinite: false,
      dw: this.gradViews.W1!, db: this.gradViews.b1!, accumulate, ...(options.inputGradient ? { dx: true as const } : {}),
    });
    return first.dx;
  }
}

/** A linear head (probe) with its parameters in one flat buffer. */
export function createLinearHead(options: LinearHeadOptions): LinearHead {
  return new LinearHead(options);
}

/** An MLP head (Linear -> GELU -> Linear) with W1, b1, W2, b2 in one flat buffer. */
export function createMlpHead(options: MlpHeadOptions): MlpHead {
  return new MlpHead(options);
}
