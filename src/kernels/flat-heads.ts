import { InvalidArgumentError, ShapeError, allocateFloat32 } from '../errors.js';
import type { NativeBackend } from '../native/types.js';
import { initializeValues } from '../onnx/init.js';
import {
  gelu,
  geluBackward,
  geluBackwardSync,
  geluSync,
  linearBackward,
  linearBackwardSync,
  linearForward,
  linearForwardSync,
  type LinearBackwardOptions,
  type LinearShape,
} from './heads.js';
import { optionsObject, positiveSize, type KernelCallOptions } from './operands.js';

/**
 * Trainable heads whose parameters live in ONE flat Float32Array (named views at offsets)
 * with gradients in a parallel flat buffer, so the flat-buffer AdamW can step them (and
 * several heads can share one buffer through `storage`). Built from the kernels in heads.ts.
 */

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

/**
 * The most parameters one head may have: 2^26 (256 MiB of float32, plus as much for gradients),
 * far above any probe or MLP head over an encoder's features, low enough that a typo in a size
 * fails at once instead of allocating and initialising gigabytes.
 */
export const MAX_HEAD_PARAMETERS = 2 ** 26;

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
    if (this.parameterCount > MAX_HEAD_PARAMETERS) {
      throw new ShapeError(`the head would have ${this.parameterCount} parameters (${layout.map((s) => `${s.name} [${s.shape.join(', ')}]`).join(', ')}); at most ${MAX_HEAD_PARAMETERS} fit one flat buffer`);
    }
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
    this.parameters = storage ? storage.parameters.subarray(offset, offset + this.parameterCount) : allocateFloat32(this.parameterCount, 'the head parameters');
    this.gradients = storage ? storage.gradients.subarray(offset, offset + this.parameterCount) : allocateFloat32(this.parameterCount, 'the head gradients');
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
    optionsObject(options, 'createLinearHead');
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
    optionsObject(options, 'createMlpHead');
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
