import { InvalidArgumentError, ShapeError } from '../errors.js';
import { addon } from '../native/addon.js';
import { fromNativeError } from '../native/errors.js';
import type {
  NativeDinoOptions,
  NativeDistillResult,
  NativeEmaTeacherOptions,
  NativeFloat,
  NativeIbotOptions,
  NativeKoleoOptions,
  NativeSinkhornOptions,
  NativeTeacherTargets,
  NativeUpdateCenterOptions,
} from '../native/types.js';
import {
  assertAttached,
  checkFiniteResult,
  checkFiniteValues,
  checkFloat,
  chooseBackend,
  finiteInRange,
  finiteNumber,
  floatResult,
  floatResultAsync,
  fromNative,
  optionsObject,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor, assertDtype } from './tensor.js';

/**
 * The self-distillation op family (DINO / iBOT / KoLeo / EMA teacher, as in DINOv2 and
 * RAD-DINO). Host Float32Arrays in give Float32Arrays out; DeviceTensors in give DeviceTensors
 * out. The Promise forms run off the event loop; the *Sync forms block. Formulas, memory and
 * numerical notes: docs/kernels-distill.md and native/include/radlearn/distill.h.
 */

/** Sinkhorn-Knopp rounds when none are given (3, as DINOv2). */
export const DEFAULT_SINKHORN_ITERATIONS = 3;

/** How teacher logits become target probabilities. */
export type TeacherNormalization = 'center' | 'sinkhorn';
/** iBOT masks [B, P]: non-zero = the patch was hidden from the student. */
export type MaskTensor = Uint8Array | DeviceTensor;

export interface TeacherTargetOptions<T extends FloatTensor> extends KernelCallOptions {
  /** Student softmax temperature (default 0.1). */
  studentTemperature?: number;
  /** Teacher temperature (default 0.04; see teacherTemperature() for the warm-up schedule). */
  teacherTemperature?: number;
  /** 'center' (softmax((t - c) / tau_t), default) or 'sinkhorn' (Sinkhorn-Knopp over the batch). */
  normalization?: TeacherNormalization;
  /** Center c [K]; required for 'center'. */
  center?: T;
  /** Center momentum m in c <- m c + (1 - m) mean(t) (default 0.9). */
  centerMomentum?: number;
  /** Return the updated center (default: true with a center). */
  updateCenter?: boolean;
  /** Sinkhorn-Knopp iterations (default 3). */
  sinkhornIterations?: number;
  /** Destination of the gradient wrt the student logits (same shape as the student). */
  gradOut?: T;
  /** Destination of the updated center [K] (may be the center itself). */
  centerOut?: T;
}

export interface DinoLossOptions<T extends FloatTensor> extends TeacherTargetOptions<T> {
  /** Student views Vs (global + local; the first teacherViews are the global views). */
  studentViews: number;
  /** Teacher (global) views Vt <= Vs. */
  teacherViews: number;
  batch: number;
  /** Prototypes K. */
  prototypes: number;
}

export interface IbotLossOptions<T extends FloatTensor> extends TeacherTargetOptions<T> {
  batch: number;
  /** Patch tokens per image P. */
  patches: number;
  prototypes: number;
}

export interface DistillLossResult<T extends FloatTensor> {
  /** The loss (float64 sum of the float32 kernel's row terms). */
  loss: number;
  /** Gradient wrt the student logits (the teacher gets none). */
  grad: T;
  /** The updated center, when a center was given and updateCenter is not false. */
  center?: T;
}

export interface KoleoLossOptions<T extends FloatTensor> extends KernelCallOptions {
  /** Rows B (>= 2). */
  rows: number;
  /** Feature dimension D. */
  dim: number;
  gradOut?: T;
}

export interface SinkhornKnoppOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  prototypes: number;
  /** Temperature tau in exp(t / tau) (default 0.04). */
  temperature?: number;
  /** Iterations (default 3, as DINOv2). */
  iterations?: number;
  out?: T;
}

export interface UpdateCenterOptions<T extends FloatTensor> extends KernelCallOptions {
  rows: number;
  prototypes: number;
  /** Default 0.9. */
  momentum?: number;
  out?: T;
}

export interface EmaTeacherUpdateOptions extends KernelCallOptions {
  /** teacher <- momentum * teacher + (1 - momentum) * student; see teacherMomentum(). */
  momentum: number;
}

/** The smallest normal float32: logits are divided by a temperature in float32, and below it the inverse overflows. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

function temperature(value: unknown, name: string): number {
  const t = finiteNumber(value, name);
  if (t <= 0) throw new InvalidArgumentError(`${name} must be > 0, got ${t}`);
  if (t < FLOAT32_MIN_NORMAL || t > 1e6) throw new InvalidArgumentError(`${name} must be in [1.2e-38, 1e6] (a positive float32), got ${t}`);
  return t;
}

function iterations(value: unknown, name: string): number {
  const n = positiveSize(value, name, false);
  if (n > 1000) throw new InvalidArgumentError(`${name} must be at most 1000, got ${n}`);
  return n;
}

function checkMasks(masks: unknown, batch: number, patches: number): void {
  let length: number;
  if (masks instanceof Uint8Array) {
    assertAttached(masks, 'masks');
    length = masks.length;
  } else if (masks instanceof DeviceTensor) {
    assertDtype(masks, ['uint8'], 'masks');
    length = masks.size;
  } else throw new InvalidArgumentError('masks must be a Uint8Array or a uint8 DeviceTensor');
  if (length !== batch * patches) {
    throw new ShapeError(`masks has ${length} elements, but [B, P] = [${batch}, ${patches}] needs ${batch * patches}`, {
      name: 'masks',
      length,
      expected: [batch, patches],
    });
  }
}

/** Validates the teacher-target options shared by DINO and iBOT; returns their native fields. */
function targetFields<T extends FloatTensor>(
  options: TeacherTargetOptions<T>,
  k: number,
  operands: T[],
  async: boolean,
): NativeTeacherTargets {
  const normalization = options.normalization ?? 'center';
  if (normalization !== 'center' && normalization !== 'sinkhorn') {
    throw new InvalidArgumentError(`normalization must be 'center' or 'sinkhorn', got '${String(normalization)}'`);
  }
  const studentTemperature = temperature(options.studentTemperature ?? 0.1, 'studentTemperature');
  const teacherTemperature = temperature(options.teacherTemperature ?? 0.04, 'teacherTemperature');
  const sinkhornIterations = iterations(options.sinkhornIterations ?? DEFAULT_SINKHORN_ITERATIONS, 'sinkhornIterations');
  const centerMomentum = finiteInRange(options.centerMomentum ?? 0.9, 'centerMomentum', 0, 1);
  if (normalization === 'center' && options.center === undefined) {
    throw new InvalidArgumentError(`normalization 'center' needs a center of shape [K] = [${k}]`);
  }
  const updateCenter = options.center !== undefined && options.updateCenter !== false;
  if (options.center !== undefined) {
    checkFloat(options.center, 'center', [k], '[K]');
    if (options.checkFinite !== false) checkFiniteValues(options.center, 'center');
    operands.push(options.center);
  }
  if (options.centerOut !== undefined) {
    if (!updateCenter) throw new InvalidArgumentError('centerOut needs a center (and updateCenter not false)');
    checkFloat(options.centerOut, 'centerOut', [k], '[K]');
    operands.push(options.centerOut);
  }
  const backend = chooseBackend(operands, options);
  return {
    center: toNative(options.center),
    studentTemperature,
    teacherTemperature,
    normalization,
    sinkhornIterations,
    centerMomentum,
    updateCenter,
    gradOut: toNative(options.gradOut),
    centerOut: toNative(options.centerOut),
    backend,
    async,
  };
}

function prepareDino<T extends FloatTensor>(student: T, teacher: T, options: DinoLossOptions<T>, async: boolean): NativeDinoOptions {
  optionsObject(options, 'dinoLoss');
  const vs = positiveSize(options.studentViews, 'studentViews', false);
  const vt = positiveSize(options.teacherViews, 'teacherViews', false);
  const batch = positiveSize(options.batch, 'batch', false);
  const k = positiveSize(options.prototypes, 'prototypes', false);
  if (vt > vs || vs < 2) {
    throw new InvalidArgumentError(
      `DINO needs teacherViews <= studentViews and studentViews >= 2 (the first teacherViews student views are the global views), got studentViews=${vs}, teacherViews=${vt}`,
    );
  }
  checkFloat(student, 'student', [vs, batch, k], '[Vs, B, K]');
  checkFloat(teacher, 'teacher', [vt, batch, k], '[Vt, B, K]');
  if (options.gradOut !== undefined) checkFloat(options.gradOut, 'gradOut', [vs, batch, k], '[Vs, B, K]');
  if (options.checkFinite !== false) {
    checkFiniteValues(student, 'student');
    checkFiniteValues(teacher, 'teacher');
  }
  const operands: T[] = [student, teacher, ...(options.gradOut ? [options.gradOut] : [])];
  return { studentViews: vs, teacherViews: vt, batch, prototypes: k, ...targetFields(options, k, operands, async) };
}

function prepareIbot<T extends FloatTensor>(
  student: T,
  teacher: T,
  masks: MaskTensor,
  options: IbotLossOptions<T>,
  async: boolean,
): NativeIbotOptions {
  optionsObject(options, 'ibotLoss');
  const batch = positiveSize(options.batch, 'batch', false);
  const patches = positiveSize(options.patches, 'patches', false);
  const k = positiveSize(options.prototypes, 'prototypes', false);
  checkFloat(student, 'student', [batch, patches, k], '[B, P, K]');
  checkFloat(teacher, 'teacher', [batch, patches, k], '[B, P, K]');
  checkMasks(masks, batch, patches);
  if (options.gradOut !== undefined) checkFloat(options.gradOut, 'gradOut', [batch, patches, k], '[B, P, K]');
  if (options.checkFinite !== false) {
    checkFiniteValues(student, 'student');
    checkFiniteValues(teacher, 'teacher');
  }
  const operands: T[] = [student, teacher, ...(options.gradOut ? [options.gradOut] : [])];
  return { batch, patches, prototypes: k, ...targetFields(options, k, operands, async) };
}

const nativeMasks = (masks: MaskTensor) => (masks instanceof DeviceTensor ? masks.handle : masks);

type LossCall<T> = KernelCallOptions & { gradOut?: T; centerOut?: T };

function wrapLoss<T extends FloatTensor>(op: string, value: NativeDistillResult, options: LossCall<T>): DistillLossResult<T> {
  const result: DistillLossResult<T> = { loss: value.loss, grad: (options.gradOut ?? fromNative(value.grad)) as T };
  if (value.center !== undefined) result.center = (options.centerOut ?? fromNative(value.center)) as T;
  if (options.checkFinite !== false) {
    checkFiniteResult(result.loss, 'the loss', op);
    checkFiniteResult(result.grad, 'the gradient', op);
    checkFiniteResult(result.center, 'the center', op);
  }
  return result;
}

function sync<R>(op: string, run: () => R): R {
  try {
    return run();
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

async function later<R>(op: string, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (error) {
    throw fromNativeError(error, op);
  }
}

/**
 * DINO loss: cross-entropy between the teacher's probabilities for each global view and the
 * student's softmax (temperature tau_s) for every other view, averaged over the pairs and
 * the batch. student [Vs, B, K], teacher [Vt, B, K]. Returns the loss, the gradient wrt the
 * student and (with a center) the center updated from this batch's teacher logits.
 */
export function dinoLossSync<T extends FloatTensor>(student: T, teacher: T, options: DinoLossOptions<T>): DistillLossResult<T> {
  const native = prepareDino(student, teacher, options, false);
  return wrapLoss(
    'dinoLoss',
    sync('dinoLoss', () => addon().dinoLoss(toNative(student)!, toNative(teacher)!, native) as NativeDistillResult),
    options,
  );
}

export async function dinoLoss<T extends FloatTensor>(student: T, teacher: T, options: DinoLossOptions<T>): Promise<DistillLossResult<T>> {
  const native = prepareDino(student, teacher, options, true);
  return wrapLoss(
    'dinoLoss',
    await later('dinoLoss', () => addon().dinoLoss(toNative(student)!, toNative(teacher)!, native) as Promise<NativeDistillResult>),
    options,
  );
}

/**
 * iBOT masked-patch loss: the DINO cross-entropy on the patch tokens hidden from the student
 * (masks [B, P] non-zero), averaged per image over its masked tokens, then over the images
 * that have at least one masked token (others add 0 and are not counted).
 */
export function ibotLossSync<T extends FloatTensor>(
  student: T,
  teacher: T,
  masks: MaskTensor,
  options: IbotLossOptions<T>,
): DistillLossResult<T> {
  const native = prepareIbot(student, teacher, masks, options, false);
  return wrapLoss(
    'ibotLoss',
    sync('ibotLoss', () => addon().ibotLoss(toNative(student)!, toNative(teacher)!, nativeMasks(masks), native) as NativeDistillResult),
    options,
  );
}

export async function ibotLoss<T extends FloatTensor>(
  student: T,
  teacher: T,
  masks: MaskTensor,
  options: IbotLossOptions<T>,
): Promise<DistillLossResult<T>> {
  const native = prepareIbot(student, teacher, masks, options, true);
  return wrapLoss(
    'ibotLoss',
    await later(
      'ibotLoss',
      () => addon().ibotLoss(toNative(student)!, toNative(teacher)!, nativeMasks(masks), native) as Promise<NativeDistillResult>,
    ),
    options,
  );
}

function prepareKoleo<T extends FloatTensor>(x: T, options: KoleoLossOptions<T>, async: boolean): NativeKoleoOptions {
  optionsObject(options, 'koleoLoss');
  const rows = positiveSize(options.rows, 'rows');
  const dim = positiveSize(options.dim, 'dim', false);
  if (rows < 2) throw new InvalidArgumentError(`KoLeo needs at least 2 rows (each needs a nearest neighbour), got ${rows}`);
  checkFloat(x, 'x', [rows, dim], '[B, D]');
  if (options.gradOut !== undefined) checkFloat(options.gradOut, 'gradOut', [rows, dim], '[B, D]');
  if (options.checkFinite !== false) checkFiniteValues(x, 'x');
  const backend = chooseBackend(options.gradOut ? [x, options.gradOut] : [x], options);
  return { rows, dim, gradOut: toNative(options.gradOut), backend, async };
}

/**
 * KoLeo regulariser -(1/B) sum_i log(min_{j != i} ||y_i - y_j|| + 1e-8) on y = x / ||x||
 * (rows of x [B, D]); the gradient flows through the normalisation. Exact duplicate rows add
 * -log(1e-8) and get a zero gradient.
 */
export function koleoLossSync<T extends FloatTensor>(x: T, options: KoleoLossOptions<T>): DistillLossResult<T> {
  const native = prepareKoleo(x, options, false);
  return wrapLoss(
    'koleoLoss',
    sync('koleoLoss', () => addon().koleoLoss(toNative(x)!, native) as NativeDistillResult),
    options,
  );
}

export async function koleoLoss<T extends FloatTensor>(x: T, options: KoleoLossOptions<T>): Promise<DistillLossResult<T>> {
  const native = prepareKoleo(x, options, true);
  return wrapLoss(
    'koleoLoss',
    await later('koleoLoss', () => addon().koleoLoss(toNative(x)!, native) as Promise<NativeDistillResult>),
    options,
  );
}

function prepareSinkhorn<T extends FloatTensor>(logits: T, options: SinkhornKnoppOptions<T>, async: boolean): NativeSinkhornOptions {
  optionsObject(options, 'sinkhornKnopp');
  const rows = positiveSize(options.rows, 'rows', false);
  const k = positiveSize(options.prototypes, 'prototypes', false);
  checkFloat(logits, 'logits', [rows, k], '[rows, K]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [rows, k], '[rows, K]');
  if (options.checkFinite !== false) checkFiniteValues(logits, 'logits');
  const backend = chooseBackend(options.out ? [logits, options.out] : [logits], options);
  return {
    rows,
    prototypes: k,
    temperature: temperature(options.temperature ?? 0.04, 'temperature'),
    iterations: iterations(options.iterations ?? DEFAULT_SINKHORN_ITERATIONS, 'iterations'),
    out: toNative(options.out),
    backend,
    async,
  };
}

/**
 * Sinkhorn-Knopp teacher targets (DINOv2): exp(t / tau) normalised alternately over the
 * rows of the batch per prototype and over prototypes per row. logits [rows, K] ->
 * probabilities [rows, K], each row summing to 1, each prototype to about rows / K.
 */
export function sinkhornKnoppSync<T extends FloatTensor>(logits: T, options: SinkhornKnoppOptions<T>): T {
  const native = prepareSinkhorn(logits, options, false);
  return floatResult('sinkhornKnopp', options, () => addon().sinkhornKnopp(toNative(logits)!, native) as NativeFloat);
}

export async function sinkhornKnopp<T extends FloatTensor>(logits: T, options: SinkhornKnoppOptions<T>): Promise<T> {
  const native = prepareSinkhorn(logits, options, true);
  return floatResultAsync('sinkhornKnopp', options, () => addon().sinkhornKnopp(toNative(logits)!, native) as Promise<NativeFloat>);
}

function prepareCenter<T extends FloatTensor>(
  center: T,
  teacher: T,
  options: UpdateCenterOptions<T>,
  async: boolean,
): NativeUpdateCenterOptions {
  optionsObject(options, 'updateCenter');
  const rows = positiveSize(options.rows, 'rows', false);
  const k = positiveSize(options.prototypes, 'prototypes', false);
  checkFloat(center, 'center', [k], '[K]');
  checkFloat(teacher, 'teacher', [rows, k], '[rows, K]');
  if (options.out !== undefined) checkFloat(options.out, 'out', [k], '[K]');
  if (options.checkFinite !== false) {
    checkFiniteValues(center, 'center');
    checkFiniteValues(teacher, 'teacher');
  }
  const backend = chooseBackend(options.out ? [center, teacher, options.out] : [center, teacher], options);
  return {
    rows,
    prototypes: k,
    momentum: finiteInRange(options.momentum ?? 0.9, 'momentum', 0, 1),
    out: toNative(options.out),
    backend,
    async,
  };
}

/** c_new = m c + (1 - m) mean over the rows of teacher [rows, K]; `out` may be the center itself. */
export function updateCenterSync<T extends FloatTensor>(center: T, teacher: T, options: UpdateCenterOptions<T>): T {
  const native = prepareCenter(center, teacher, options, false);
  return floatResult('updateCenter', options, () => addon().updateCenter(toNative(center)!, toNative(teacher)!, native) as NativeFloat);
}

export async function updateCenter<T extends FloatTensor>(center: T, teacher: T, options: UpdateCenterOptions<T>): Promise<T> {
  const native = prepareCenter(center, teacher, options, true);
  return floatResultAsync(
    'updateCenter',
    options,
    () => addon().updateCenter(toNative(center)!, toNative(teacher)!, native) as Promise<NativeFloat>,
  );
}

function prepareEma<T extends FloatTensor>(
  teacher: T,
  student: T,
  options: EmaTeacherUpdateOptions,
  async: boolean,
): NativeEmaTeacherOptions {
  optionsObject(options, 'emaTeacherUpdate');
  const n = teacher instanceof Float32Array ? teacher.length : teacher instanceof DeviceTensor ? teacher.size : -1;
  if (n < 0) throw new InvalidArgumentError('teacher must be a Float32Array or a float32 DeviceTensor');
  checkFloat(teacher, 'teacher', [n], '[n]');
  checkFloat(student, 'student', [n], '[n] (the teacher length)');
  if (options.checkFinite !== false) {
    checkFiniteValues(teacher, 'teacher');
    checkFiniteValues(student, 'student');
  }
  const backend = chooseBackend([teacher, student], options);
  return { n, momentum: finiteInRange(options.momentum, 'momentum', 0, 1), backend, async };
}

/**
 * EMA teacher update over a flat parameter buffer, in place:
 * teacher <- momentum * teacher + (1 - momentum) * student. Returns the teacher.
 */
export function emaTeacherUpdateSync<T extends FloatTensor>(teacher: T, student: T, options: EmaTeacherUpdateOptions): T {
  const native = prepareEma(teacher, student, options, false);
  sync('emaTeacherUpdate', () => addon().emaTeacherUpdate(toNative(teacher)!, toNative(student)!, native));
  return teacher;
}

export async function emaTeacherUpdate<T extends FloatTensor>(teacher: T, student: T, options: EmaTeacherUpdateOptions): Promise<T> {
  const native = prepareEma(teacher, student, options, true);
  await later('emaTeacherUpdate', async () => addon().emaTeacherUpdate(toNative(teacher)!, toNative(student)!, native));
  return teacher;
}
