import { InvalidArgumentError, ShapeError, describeValue } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type { NativeBceOptions, NativeLossResult, NativeOrdinalOptions, NativeSoftmaxCrossEntropyOptions } from '../native/types.js';
import {
  assertAttached,
  checkFiniteResult,
  checkFiniteValues,
  optionsObject,
  checkFloat,
  chooseBackend,
  finiteNumber,
  fromNative,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor } from './tensor.js';

/**
 * Classification losses for trainable heads. Each call returns the MEAN loss over valid
 * entries and the gradient of that mean with respect to the logits, in one native pass
 * (formulas in native/include/radlearn/losses.h and docs/kernels-heads-optim.md).
 * When no entry is valid the loss is 0, the gradient is all zeros and `valid` is 0.
 */
export interface LossOutput<T extends FloatTensor> {
  /** Mean loss over valid entries (0 when none). */
  loss: number;
  /** Number of valid entries: elements for BCE, rows for softmax cross-entropy and ordinal. */
  valid: number;
  /** d(loss)/d(logits), same shape as the logits. */
  grad: T;
}

/** How uncertain labels (-1) are used: dropped from the loss, or read as positive / negative. */
export type UncertainLabelPolicy = 'ignore' | 'ones' | 'zeros';

const POLICIES: readonly UncertainLabelPolicy[] = ['ignore', 'ones', 'zeros'];

export interface BceWithLogitsOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  classes: number;
  /**
   * [rows, classes], 1 = label present, 0 = missing (excluded from the loss). A Uint8Array is
   * converted; on the device pass a float32 DeviceTensor of 0/1.
   */
  mask?: Uint8Array | Float32Array | DeviceTensor;
  /** What -1 targets mean (default 'ignore'). */
  uncertain?: UncertainLabelPolicy;
  /** [classes] weight of the positive term per class (torch's pos_weight). */
  posWeight?: Float32Array | DeviceTensor;
  /** [rows, classes] destination for the gradient. */
  grad?: T;
}

export interface SoftmaxCrossEntropyOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  classes: number;
  /** [rows] class indices (-1 = ignore the row). Give this or `targets`. */
  labels?: Int32Array | Float32Array | DeviceTensor;
  /** [rows, classes] target distributions (soft labels, a teacher's probabilities). A row of zeros is ignored. */
  targets?: FloatTensor;
  /** Label smoothing epsilon in [0, 1): q <- (1 - eps) q + eps / classes (default 0). */
  labelSmoothing?: number;
  /**
   * Softmax temperature tau > 0 applied to the logits (default 1). The loss is multiplied by
   * tau^2 (Hinton et al.) so gradients keep their scale: dL/dz = tau (p sum(q) - q) / valid.
   */
  temperature?: number;
  grad?: T;
}

export interface OrdinalLossOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  /** Number of ordered levels K (e.g. 5 for Kellgren-Lawrence 0..4); logits are [rows, K - 1]. */
  levels: number;
  grad?: T;
}

/** Host BCE targets: a value in [0, 1] or -1 (uncertain). */
function checkBinaryTargets(targets: FloatTensor): void {
  if (!(targets instanceof Float32Array)) return;
  for (let i = 0; i < targets.length; i++) {
    const v = targets[i]!;
    if (!(v === -1 || (v >= 0 && v <= 1))) {
      throw new InvalidArgumentError(`bceWithLogits: targets[${i}] is ${v}; expected a value in [0, 1] or -1 (uncertain)`, {
        name: 'targets',
        index: i,
      });
    }
  }
}

/** Host soft targets: finite and >= 0. */
function checkDistributions(targets: FloatTensor): void {
  if (!(targets instanceof Float32Array)) return;
  for (let i = 0; i < targets.length; i++) {
    const v = targets[i]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new InvalidArgumentError(`softmaxCrossEntropy: targets[${i}] is ${v}; soft targets must be finite and >= 0`, {
        name: 'targets',
        index: i,
      });
    }
  }
}

function floatFromLabels(values: Int32Array | Float32Array | Uint8Array, name: string): Float32Array {
  if (values instanceof Float32Array) return values;
  if (values instanceof Int32Array || values instanceof Uint8Array) {
    assertAttached(values, name);
    return Float32Array.from(values);
  }
  throw new InvalidArgumentError(`${name} must be an Int32Array, Float32Array or DeviceTensor`);
}

function deviceOrHost(value: Int32Array | Float32Array | Uint8Array | DeviceTensor, name: string): FloatTensor {
  return value instanceof DeviceTensor ? value : floatFromLabels(value, name);
}

type LossCall<T> = KernelCallOptions & { grad?: T };

function finish<T extends FloatTensor>(op: string, raw: NativeLossResult, options: LossCall<T>): LossOutput<T> {
  const result = { loss: raw.loss, valid: raw.valid, grad: (options.grad ?? fromNative(raw.grad)) as T };
  if (options.checkFinite !== false) {
    checkFiniteResult(result.loss, 'the loss', op);
    checkFiniteResult(result.grad, 'the gradient', op);
  }
  return result;
}

function run<T extends FloatTensor>(op: string, options: LossCall<T>, call: () => NativeLossResult): LossOutput<T> {
  let raw: NativeLossResult;
  try {
    raw = call();
  } catch (error) {
    throw fromNativeError(error, op);
  }
  return finish(op, raw, options);
}

async function runAsync<T extends FloatTensor>(
  op: string,
  options: LossCall<T>,
  call: () => Promise<NativeLossResult>,
): Promise<LossOutput<T>> {
  let raw: NativeLossResult;
  try {
    raw = await call();
  } catch (error) {
    throw fromNativeError(error, op);
  }
  return finish(op, raw, options);
}

function prepareBce<T extends FloatTensor>(logits: T, targets: T, options: BceWithLogitsOptions<T>, async: boolean): NativeBceOptions {
  optionsObject(options, 'bceWithLogits');
  const rows = positiveSize(options.rows, 'rows');
  const classes = positiveSize(options.classes, 'classes');
  const policy = options.uncertain ?? 'ignore';
  if (!POLICIES.includes(policy)) throw new InvalidArgumentError(`uncertain must be 'ignore', 'ones' or 'zeros', got ${String(policy)}`);
  checkFloat(logits, 'logits', [rows, classes], '[rows, classes]');
  checkFloat(targets, 'targets', [rows, classes], '[rows, classes]');
  const mask = options.mask === undefined ? undefined : deviceOrHost(options.mask, 'mask');
  if (mask) checkFloat(mask, 'mask', [rows, classes], '[rows, classes]');
  if (options.posWeight) checkFloat(options.posWeight, 'posWeight', [classes], '[classes]');
  if (options.grad) checkFloat(options.grad, 'grad', [rows, classes], '[rows, classes]');
  if (options.checkFinite !== false) {
    checkFiniteValues(logits, 'logits');
    checkFiniteValues(targets, 'targets');
    if (mask) checkFiniteValues(mask, 'mask');
    if (options.posWeight) checkFiniteValues(options.posWeight, 'posWeight');
  }
  checkBinaryTargets(targets);
  const operands = [
    logits,
    targets,
    ...(mask ? [mask] : []),
    ...(options.posWeight ? [options.posWeight] : []),
    ...(options.grad ? [options.grad] : []),
  ];
  const backend = chooseBackend(operands, options);
  return {
    rows,
    classes,
    mask: toNative(mask),
    posWeight: toNative(options.posWeight),
    uncertain: policy,
    grad: toNative(options.grad),
    backend,
    async,
  };
}

/**
 * Multi-label binary cross-entropy on logits [rows, classes], mean over valid labels.
 * targets: 0/1 (or soft values in [0, 1]), -1 = uncertain (see `uncertain`); `mask` marks missing labels.
 */
export function bceWithLogitsSync<T extends FloatTensor>(logits: T, targets: T, options: BceWithLogitsOptions<T>): LossOutput<T> {
  const native = prepareBce(logits, targets, options, false);
  return run('bceWithLogits', options, () => addon().bceWithLogits(toNative(logits)!, toNative(targets)!, native) as NativeLossResult);
}

export async function bceWithLogits<T extends FloatTensor>(
  logits: T,
  targets: T,
  options: BceWithLogitsOptions<T>,
): Promise<LossOutput<T>> {
  const native = prepareBce(logits, targets, options, true);
  return runAsync(
    'bceWithLogits',
    options,
    () => addon().bceWithLogits(toNative(logits)!, toNative(targets)!, native) as Promise<NativeLossResult>,
  );
}

function prepareSoftmax<T extends FloatTensor>(
  logits: T,
  options: SoftmaxCrossEntropyOptions<T>,
  async: boolean,
): NativeSoftmaxCrossEntropyOptions {
  optionsObject(options, 'softmaxCrossEntropy');
  const rows = positiveSize(options.rows, 'rows');
  const classes = positiveSize(options.classes, 'classes', rows === 0);
  const smoothing = finiteNumber(options.labelSmoothing ?? 0, 'labelSmoothing');
  const temperature = finiteNumber(options.temperature ?? 1, 'temperature');
  if (smoothing < 0 || smoothing >= 1) throw new InvalidArgumentError(`labelSmoothing must be in [0, 1), got ${smoothing}`);
  if (temperature <= 0) throw new InvalidArgumentError(`temperature must be > 0, got ${temperature}`);
  if ((options.labels === undefined) === (options.targets === undefined)) {
    throw new InvalidArgumentError('softmaxCrossEntropy needs exactly one of labels (class indices) or targets (distributions)');
  }
  checkFloat(logits, 'logits', [rows, classes], '[rows, classes]');
  const labels = options.labels === undefined ? undefined : deviceOrHost(options.labels, 'labels');
  if (labels) checkFloat(labels, 'labels', [rows], '[rows]');
  if (options.targets) checkFloat(options.targets, 'targets', [rows, classes], '[rows, classes]');
  if (options.grad) checkFloat(options.grad, 'grad', [rows, classes], '[rows, classes]');
  if (options.checkFinite !== false) {
    checkFiniteValues(logits, 'logits');
    if (labels) checkFiniteValues(labels, 'labels');
    if (options.targets) checkFiniteValues(options.targets, 'targets');
  }
  if (options.targets) checkDistributions(options.targets);
  const operands = [
    logits,
    ...(labels ? [labels] : []),
    ...(options.targets ? [options.targets] : []),
    ...(options.grad ? [options.grad] : []),
  ];
  const backend = chooseBackend(operands, options);
  return {
    rows,
    classes,
    labels: toNative(labels),
    targets: toNative(options.targets),
    labelSmoothing: smoothing,
    temperature,
    grad: toNative(options.grad),
    backend,
    async,
  };
}

/** Softmax cross-entropy on logits [rows, classes] with hard labels or soft targets, mean over valid rows. */
export function softmaxCrossEntropySync<T extends FloatTensor>(logits: T, options: SoftmaxCrossEntropyOptions<T>): LossOutput<T> {
  const native = prepareSoftmax(logits, options, false);
  return run('softmaxCrossEntropy', options, () => addon().softmaxCrossEntropy(toNative(logits)!, native) as NativeLossResult);
}

export async function softmaxCrossEntropy<T extends FloatTensor>(
  logits: T,
  options: SoftmaxCrossEntropyOptions<T>,
): Promise<LossOutput<T>> {
  const native = prepareSoftmax(logits, options, true);
  return runAsync(
    'softmaxCrossEntropy',
    options,
    () => addon().softmaxCrossEntropy(toNative(logits)!, native) as Promise<NativeLossResult>,
  );
}

function prepareOrdinal<T extends FloatTensor>(
  logits: T,
  levels: Int32Array | Float32Array | DeviceTensor,
  options: OrdinalLossOptions<T>,
  async: boolean,
) {
  optionsObject(options, 'ordinalLoss');
  const rows = positiveSize(options.rows, 'rows');
  const count = positiveSize(options.levels, 'levels');
  if (count < 2) throw new InvalidArgumentError(`levels must be >= 2 (ordered grades), got ${count}`);
  checkFloat(logits, 'logits', [rows, count - 1], '[rows, levels - 1]');
  const lv = deviceOrHost(levels, 'levels');
  checkFloat(lv, 'levels', [rows], '[rows]');
  if (options.grad) checkFloat(options.grad, 'grad', [rows, count - 1], '[rows, levels - 1]');
  if (options.checkFinite !== false) {
    checkFiniteValues(logits, 'logits');
    checkFiniteValues(lv, 'levels');
  }
  const backend = chooseBackend(options.grad ? [logits, lv, options.grad] : [logits, lv], options);
  const native: NativeOrdinalOptions = { rows, levels: count, grad: toNative(options.grad), backend, async };
  return { levels: toNative(lv)!, native };
}

/**
 * Ordinal loss for graded labels (cumulative binary / CORAL form): logits [rows, K - 1], where
 * logit k models P(level > k); levels [rows] in 0..K-1, -1 = ignore the row. Sum of K - 1
 * binary cross-entropies per row, mean over valid rows.
 */
export function ordinalLossSync<T extends FloatTensor>(
  logits: T,
  levels: Int32Array | Float32Array | DeviceTensor,
  options: OrdinalLossOptions<T>,
): LossOutput<T> {
  const { levels: lv, native } = prepareOrdinal(logits, levels, options, false);
  return run('ordinalLoss', options, () => addon().ordinalLoss(toNative(logits)!, lv, native) as NativeLossResult);
}

export async function ordinalLoss<T extends FloatTensor>(
  logits: T,
  levels: Int32Array | Float32Array | DeviceTensor,
  options: OrdinalLossOptions<T>,
): Promise<LossOutput<T>> {
  const { levels: lv, native } = prepareOrdinal(logits, levels, options, true);
  return runAsync('ordinalLoss', options, () => addon().ordinalLoss(toNative(logits)!, lv, native) as Promise<NativeLossResult>);
}

/** Predicted level per row from ordinal logits [rows, K - 1]: the number of thresholds with logit > 0. */
export function ordinalPredict(logits: Float32Array, rows: number, levels: number): Int32Array {
  positiveSize(rows, 'rows');
  if (!Number.isSafeInteger(levels) || levels < 2)
    throw new InvalidArgumentError(`levels must be an integer >= 2, got ${describeValue(levels)}`);
  if (!(logits instanceof Float32Array)) throw new InvalidArgumentError(`logits must be a Float32Array, got ${describeValue(logits)}`);
  assertAttached(logits, 'logits');
  checkFiniteValues(logits, 'logits');
  const k = levels - 1;
  if (logits.length !== rows * k)
    throw new ShapeError(`logits has ${logits.length} elements, but [rows, levels - 1] = [${rows}, ${k}] needs ${rows * k}`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let level = 0;
    for (let j = 0; j < k; j++) if (logits[r * k + j]! > 0) level++;
    out[r] = level;
  }
  return out;
}
