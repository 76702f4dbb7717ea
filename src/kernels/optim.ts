import { InvalidArgumentError, RadlearnError, ShapeError, describeValue } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { NativeAdamWOptions, NativeBackend, NativeEmaOptions, NativeGradNormOptions } from '../native/types.js';
import {
  assertAttached,
  checkFiniteValues,
  checkFloat,
  chooseBackend,
  finiteNumber,
  optionsObject,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor } from './tensor.js';

/**
 * Fused AdamW over one flat parameter buffer (a Float32Array or a float32 DeviceTensor),
 * with torch.optim.AdamW semantics, decoupled weight decay under a per-parameter mask,
 * global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics) and an EMA of
 * parameters. The optimizer never looks at where gradients came from: any flat gradient
 * buffer of the same length works (heads, encoders, several modules packed together).
 * The exact formula is in native/include/radlearn/optim.h and docs/kernels-heads-optim.md.
 */

/** A gradient norm that is NaN or infinite: the step was not applied. */
export class NonFiniteGradientError extends RadlearnError {
  constructor(norm: number, step: number) {
    super(
      'ERR_NONFINITE_GRADIENT',
      `AdamW step ${step}: the gradient norm is ${norm}; parameters and optimizer state were left unchanged`,
      { norm, step },
    );
  }
}

export interface AdamWHyperparameters {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (default 0.01, torch's default). */
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value first (default: no clipping). */
  maxGradNorm?: number;
  /** One byte per parameter: 1 = apply weight decay, 0 = do not (biases, norms). Default: decay all. */
  decayMask?: Uint8Array | DeviceTensor;
}

export interface AdamWStepOptions extends AdamWHyperparameters, KernelCallOptions {
  lr: number;
  /** 1-based step number (bias correction uses beta^step). */
  step: number;
}

/** First and second moment buffers, same length and kind as the parameters. */
export interface AdamWMoments<T extends FloatTensor = FloatTensor> {
  m: T;
  v: T;
}

interface Resolved {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
}

function resolveHyperparameters(options: AdamWHyperparameters): Resolved {
  const beta1 = finiteNumber(options.beta1 ?? 0.9, 'beta1');
  const beta2 = finiteNumber(options.beta2 ?? 0.999, 'beta2');
  const eps = finiteNumber(options.eps ?? 1e-8, 'eps');
  const weightDecay = finiteNumber(options.weightDecay ?? 0.01, 'weightDecay');
  const maxGradNorm = options.maxGradNorm === undefined ? 0 : finiteNumber(options.maxGradNorm, 'maxGradNorm');
  if (!(beta1 >= 0 && beta1 < 1)) throw new InvalidArgumentError(`beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new InvalidArgumentError(`beta2 must be in [0, 1), got ${beta2}`);
  // the kernels divide by eps in float32: one that rounds to 0 there would divide by zero
  if (!(Math.fround(eps) > 0)) throw new InvalidArgumentError(`eps must be > 0 and at least 1.4e-45 (float32), got ${eps}`);
  if (weightDecay < 0) throw new InvalidArgumentError(`weightDecay must be >= 0, got ${weightDecay}`);
  if (options.maxGradNorm !== undefined && !(maxGradNorm > 0))
    throw new InvalidArgumentError(`maxGradNorm must be > 0, got ${maxGradNorm}`);
  return { beta1, beta2, eps, weightDecay, maxGradNorm };
}

function checkMask(mask: Uint8Array | DeviceTensor | undefined, length: number): void {
  if (mask === undefined) return;
  if (mask instanceof Uint8Array) {
    assertAttached(mask, 'decayMask');
    if (mask.length !== length)
      throw new ShapeError(`decayMask has ${mask.length} elements, but there are ${length} parameters`, {
        length: mask.length,
        expected: length,
      });
    return;
  }
  if (!(mask instanceof DeviceTensor) || mask.dtype !== 'uint8')
    throw new InvalidArgumentError('decayMask must be a Uint8Array or a uint8 DeviceTensor');
  if (mask.size !== length)
    throw new ShapeError(`decayMask has ${mask.size} elements, but there are ${length} parameters`, {
      length: mask.size,
      expected: length,
    });
}

function prepareStep(
  params: FloatTensor,
  grads: FloatTensor,
  state: AdamWMoments,
  options: AdamWStepOptions,
  async: boolean,
): NativeAdamWOptions {
  optionsObject(options, 'adamwStep');
  optionsObject(state, 'adamwStep (its state { m, v })');
  const length = params instanceof DeviceTensor ? params.size : params instanceof Float32Array ? params.length : -1;
  if (length < 0) throw new InvalidArgumentError('params must be a Float32Array or a float32 DeviceTensor');
  checkFloat(params, 'params', [length], '[numParams]');
  checkFloat(grads, 'grads', [length], '[numParams]');
  checkFloat(state.m, 'm', [length], '[numParams]');
  checkFloat(state.v, 'v', [length], '[numParams]');
  const lr = finiteNumber(options.lr, 'lr');
  if (lr < 0) throw new InvalidArgumentError(`lr must be >= 0, got ${lr}`);
  const step = positiveSize(options.step, 'step', false);
  const h = resolveHyperparameters(options);
  checkMask(options.decayMask, length);
  const backend = chooseBackend([params, grads, state.m, state.v], options);
  const decayMask = options.decayMask instanceof DeviceTensor ? options.decayMask.handle : options.decayMask;
  return {
    length,
    lr,
    beta1: h.beta1,
    beta2: h.beta2,
    eps: h.eps,
    weightDecay: h.weightDecay,
    step,
    maxGradNorm: h.maxGradNorm,
    decayMask,
    backend,
    async,
  };
}

/**
 * One AdamW step in place on params, state.m and state.v; grads are only read. Returns the
 * global gradient L2 norm before clipping. If that norm is NaN or infinite nothing is
 * written and the non-finite norm is returned (the AdamW class turns it into an error).
 */
export function adamwStepSync(params: FloatTensor, grads: FloatTensor, state: AdamWMoments, options: AdamWStepOptions): number {
  const native = prepareStep(params, grads, state, options, false);
  try {
    return addon().adamwStep(toNative(params)!, toNative(grads)!, toNative(state.m)!, toNative(state.v)!, native) as number;
  } catch (error) {
    throw fromNativeError(error, 'adamwStep');
  }
}

export async function adamwStep(params: FloatTensor, grads: FloatTensor, state: AdamWMoments, options: AdamWStepOptions): Promise<number> {
  const native = prepareStep(params, grads, state, options, true);
  try {
    return await (addon().adamwStep(
      toNative(params)!,
      toNative(grads)!,
      toNative(state.m)!,
      toNative(state.v)!,
      native,
    ) as Promise<number>);
  } catch (error) {
    throw fromNativeError(error, 'adamwStep');
  }
}

function lengthOf(value: FloatTensor, name: string): number {
  if (value instanceof Float32Array) return value.length;
  if (value instanceof DeviceTensor) return value.size;
  throw new InvalidArgumentError(`${name} must be a Float32Array or a float32 DeviceTensor`);
}

/** Global L2 norm of a flat gradient buffer (float64 accumulation). */
function prepareGradNorm(grads: FloatTensor, options: KernelCallOptions, async: boolean): NativeGradNormOptions {
  optionsObject(options, 'gradNorm');
  const length = lengthOf(grads, 'grads');
  checkFloat(grads, 'grads', [length], '[numParams]');
  return { length, backend: chooseBackend([grads], options), async };
}

export function gradNormSync(grads: FloatTensor, options: KernelCallOptions = {}): number {
  const native = prepareGradNorm(grads, options, false);
  try {
    return addon().gradNorm(toNative(grads)!, native) as number;
  } catch (error) {
    throw fromNativeError(error, 'gradNorm');
  }
}

export async function gradNorm(grads: FloatTensor, options: KernelCallOptions = {}): Promise<number> {
  const native = prepareGradNorm(grads, options, true);
  try {
    return await (addon().gradNorm(toNative(grads)!, native) as Promise<number>);
  } catch (error) {
    throw fromNativeError(error, 'gradNorm');
  }
}

function prepareEma(ema: FloatTensor, params: FloatTensor, momentum: number, options: KernelCallOptions, async: boolean): NativeEmaOptions {
  optionsObject(options, 'emaUpdate');
  const length = lengthOf(ema, 'ema');
  checkFloat(ema, 'ema', [length], '[numParams]');
  checkFloat(params, 'params', [length], '[numParams]');
  if (options.checkFinite !== false) {
    checkFiniteValues(ema, 'ema');
    checkFiniteValues(params, 'params');
  }
  const mom = finiteNumber(momentum, 'momentum');
  if (mom < 0 || mom > 1) throw new InvalidArgumentError(`momentum must be in [0, 1], got ${mom}`);
  return { length, momentum: mom, backend: chooseBackend([ema, params], options), async };
}

/** ema <- momentum * ema + (1 - momentum) * params, in place (EMA teacher / weight averaging). */
export function emaUpdateSync(ema: FloatTensor, params: FloatTensor, momentum: number, options: KernelCallOptions = {}): void {
  const native = prepareEma(ema, params, momentum, options, false);
  try {
    addon().emaUpdate(toNative(ema)!, toNative(params)!, native);
  } catch (error) {
    throw fromNativeError(error, 'emaUpdate');
  }
}

export async function emaUpdate(ema: FloatTensor, params: FloatTensor, momentum: number, options: KernelCallOptions = {}): Promise<void> {
  const native = prepareEma(ema, params, momentum, options, true);
  try {
    await addon().emaUpdate(toNative(ema)!, toNative(params)!, native);
  } catch (error) {
    throw fromNativeError(error, 'emaUpdate');
  }
}

export interface AdamWOptions extends AdamWHyperparameters {
  /** Where the optimizer state lives and steps run: 'cpu' keeps m and v in Float32Arrays, 'cuda' in DeviceTensors. Default: follows the first step's parameters. */
  backend?: NativeBackend;
  /** What to do when the gradient norm is NaN/Inf: throw NonFiniteGradientError (default) or skip the step. Either way nothing is changed. */
  onNonFinite?: 'throw' | 'skip';
}

export interface AdamWStepResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The step number that was applied (1-based), or the last applied one when skipped. */
  step: number;
  /** True when the step was skipped because the gradient norm was not finite. */
  skipped: boolean;
}

/** A checkpointable copy of the optimizer: host copies of m and v, the step count and hyperparameters. */
export interface AdamWState {
  step: number;
  numParams: number;
  m: Float32Array;
  v: Float32Array;
  hyperparameters: { beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm?: number };
}

/**
 * AdamW with its state (m, v, step) in flat buffers it owns. Parameters and gradients are
 * passed to step() each time, so one optimizer can drive any flat buffer of numParams floats.
 */
export class AdamW {
  readonly numParams: number;
  private readonly hyper: Resolved;
  private readonly decayMask: Uint8Array | DeviceTensor | undefined;
  private readonly onNonFinite: 'throw' | 'skip';
  private readonly backend: NativeBackend | undefined;
  private moments: AdamWMoments | undefined;
  private steps = 0;

  constructor(numParams: number, options: AdamWOptions = {}) {
    optionsObject(options, 'AdamW');
    this.numParams = positiveSize(numParams, 'numParams');
    this.hyper = resolveHyperparameters(options);
    checkMask(options.decayMask, this.numParams);
    this.decayMask = options.decayMask;
    this.onNonFinite = options.onNonFinite ?? 'throw';
    if (this.onNonFinite !== 'throw' && this.onNonFinite !== 'skip')
      throw new InvalidArgumentError(`onNonFinite must be 'throw' or 'skip'`);
    this.backend = options.backend;
  }

  /** Steps applied so far. */
  get stepCount(): number {
    return this.steps;
  }

  private momentsFor(params: FloatTensor): AdamWMoments {
    const onDevice = params instanceof DeviceTensor;
    if (this.moments) {
      if (this.moments.m instanceof DeviceTensor !== onDevice) {
        throw new InvalidArgumentError(
          `AdamW state lives on the ${onDevice ? 'host' : 'device'}; pass parameters of the same kind to every step`,
        );
      }
      return this.moments;
    }
    const n = this.numParams;
    this.moments = onDevice
      ? { m: DeviceTensor.upload(new Float32Array(n), [n]), v: DeviceTensor.upload(new Float32Array(n), [n]) }
      : { m: new Float32Array(n), v: new Float32Array(n) };
    return this.moments;
  }

  private options(lr: number): AdamWStepOptions {
    const h = this.hyper;
    return {
      lr,
      step: this.steps + 1,
      beta1: h.beta1,
      beta2: h.beta2,
      eps: h.eps,
      weightDecay: h.weightDecay,
      ...(h.maxGradNorm > 0 ? { maxGradNorm: h.maxGradNorm } : {}),
      ...(this.decayMask ? { decayMask: this.decayMask } : {}),
      ...(this.backend ? { backend: this.backend } : {}),
    };
  }

  private settle(norm: number): AdamWStepResult {
    if (!Number.isFinite(norm)) {
      if (this.onNonFinite === 'throw') throw new NonFiniteGradientError(norm, this.steps + 1);
      return { gradNorm: norm, step: this.steps, skipped: true };
    }
    this.steps += 1;
    return { gradNorm: norm, step: this.steps, skipped: false };
  }

  /** One step at learning rate lr (e.g. from cosineSchedule). Updates params in place. */
  async step(params: FloatTensor, grads: FloatTensor, options: { lr: number }): Promise<AdamWStepResult> {
    const { lr } = optionsObject(options, 'AdamW.step');
    const norm = await adamwStep(params, grads, this.momentsFor(params), this.options(lr));
    return this.settle(norm);
  }

  stepSync(params: FloatTensor, grads: FloatTensor, options: { lr: number }): AdamWStepResult {
    const { lr } = optionsObject(options, 'AdamW.stepSync');
    const norm = adamwStepSync(params, grads, this.momentsFor(params), this.options(lr));
    return this.settle(norm);
  }

  /** Copies of the state for a checkpoint (safe to keep: later steps do not change them). */
  state(): AdamWState {
    const n = this.numParams;
    const copy = (t: FloatTensor | undefined): Float32Array =>
      t === undefined ? new Float32Array(n) : t instanceof DeviceTensor ? (t.download() as Float32Array) : t.slice();
    const h = this.hyper;
    return {
      step: this.steps,
      numParams: n,
      m: copy(this.moments?.m),
      v: copy(this.moments?.v),
      hyperparameters: {
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        weightDecay: h.weightDecay,
        ...(h.maxGradNorm > 0 ? { maxGradNorm: h.maxGradNorm } : {}),
      },
    };
  }

  /** Restores a state() snapshot (resume exactly). The state is copied, on the device when the optimizer runs there. */
  loadState(state: AdamWState): void {
    optionsObject(state, 'AdamW.loadState (the state)');
    const n = this.numParams;
    for (const key of ['m', 'v'] as const) {
      if (!(state[key] instanceof Float32Array))
        throw new InvalidArgumentError(`AdamW.loadState: state.${key} must be a Float32Array, got ${describeValue(state[key])}`);
      assertAttached(state[key], `state.${key}`);
    }
    if (state.numParams !== n || state.m.length !== n || state.v.length !== n) {
      throw new ShapeError(
        `AdamW state is for ${describeValue(state.numParams)} parameters (m: ${state.m.length}, v: ${state.v.length}), this optimizer has ${n}`,
      );
    }
    positiveSize(state.step, 'state.step');
    // informational (this optimizer keeps its own hyperparameters), but never garbage
    if (state.hyperparameters !== undefined) {
      optionsObject(state.hyperparameters, 'AdamW.loadState (state.hyperparameters)');
      for (const [key, value] of Object.entries(state.hyperparameters)) finiteNumber(value, `state.hyperparameters.${key}`);
    }
    checkFiniteValues(state.m, 'state.m');
    checkFiniteValues(state.v, 'state.v');
    const negative = state.v.findIndex((x) => x < 0);
    if (negative >= 0)
      throw new InvalidArgumentError(`AdamW.loadState: state.v[${negative}] is ${state.v[negative]}; second moments are never negative`);
    const onDevice = this.moments ? this.moments.m instanceof DeviceTensor : this.backend === 'cuda';
    if (this.moments && this.moments.m instanceof DeviceTensor) {
      this.moments.m.dispose();
      (this.moments.v as DeviceTensor).dispose();
    }
    this.moments = onDevice
      ? { m: DeviceTensor.upload(state.m, [n]), v: DeviceTensor.upload(state.v, [n]) }
      : { m: state.m.slice(), v: state.v.slice() };
    this.steps = state.step;
  }

  /** Frees device state (host state is garbage-collected). */
  dispose(): void {
    if (this.moments && this.moments.m instanceof DeviceTensor) {
      this.moments.m.dispose();
      (this.moments.v as DeviceTensor).dispose();
    }
    this.moments = undefined;
  }
}
