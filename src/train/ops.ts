/**
 * The numerical operations the trainer needs, behind one interface so the trainer never
 * cares which backend computes them. They are radlearn's native kernels (src/kernels:
 * contrastive.ts, heads.ts, losses.ts, optim.ts, distill.ts; CPU and CUDA, fused), bound in ops-native.ts;
 * the addon is always built with all of them. A float64 TypeScript oracle with the same
 * contracts lives in tests/helpers/train-reference-ops.ts for the tests.
 */
import type {
  ContrastiveOptions as KernelContrastiveOptions,
  ContrastiveResult as KernelContrastiveResult,
} from '../kernels/contrastive.js';
import type { KernelCallOptions } from '../kernels/operands.js';
import { defaultKernelBackend } from '../native/backend.js';
import type { NativeBackend } from '../native/types.js';
import { nativeOps } from './ops-native.js';

export type UncertainPolicyCode = 'ignore' | 'ones' | 'zeros';

/** The contrastive kernel's options less the per-call ones; the trainer always names the loss family. */
export type ContrastiveOptions = Omit<KernelContrastiveOptions, keyof KernelCallOptions> & Required<Pick<KernelContrastiveOptions, 'kind'>>;

/** The kernel's host result, with gradBias 0 for InfoNCE. */
export type ContrastiveResult = KernelContrastiveResult<Float32Array> & { gradBias: number };

export interface LossResult {
  /** Mean over valid entries (0 when none). */
  loss: number;
  valid: number;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** <= 0: no clipping. */
  maxGradNorm: number;
  /** Replaces the optimizer's decay mask for this update only (e.g. a layer frozen for some steps). */
  decayMask?: Uint8Array;
}

/** How teacher logits become target probabilities in the self-distillation losses. */
export interface TeacherTargets {
  studentTemperature: number;
  teacherTemperature: number;
  /** 'center': softmax((t - c) / tau_t); 'sinkhorn': Sinkhorn-Knopp over the batch. */
  normalization: 'center' | 'sinkhorn';
  /** The center c [K] ('center'); replaced in place by m c + (1 - m) mean(teacher rows) unless keepCenter. */
  center?: Float32Array;
  centerMomentum: number;
  /** Read the center without replacing it (a data-parallel job updates it from every rank's rows itself). */
  keepCenter?: boolean;
}

export interface DistillLossResult {
  loss: number;
  /** d loss / d student logits (or rows, for KoLeo). */
  grad: Float32Array;
}

/** AdamW over one flat parameter buffer (a view of the run's buffer), with its moments. */
export interface FlatOptimizer {
  readonly params: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Steps taken so far (bias correction uses step + 1 for the next one). */
  step: number;
  /**
   * One update from `grads` (same length as params). Returns the pre-clip global gradient
   * norm; when it is not finite nothing is written and the caller stops.
   */
  update(grads: Float32Array, hyper: AdamWHyper): number;
}

export interface TrainOps {
  readonly backend: string;
  /** Y[rows, out] = X[rows, in] . W[out, in]^T + b. */
  linearForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array | null,
    y: Float32Array,
    rows: number,
    inDim: number,
    outDim: number,
  ): void;
  /** Accumulates dW, db (when given) and overwrites dX (when given). */
  linearBackward(
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array | null,
    rows: number,
    inDim: number,
    outDim: number,
  ): void;
  geluForward(x: Float32Array, y: Float32Array): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Multi-label BCE with logits; targets in [0, 1] or -1 uncertain; mask nonzero = present. Writes dL/dlogits. */
  bceWithLogits(
    logits: Float32Array,
    targets: Float32Array,
    mask: Float32Array | null,
    grad: Float32Array,
    rows: number,
    classes: number,
    uncertain: UncertainPolicyCode,
  ): LossResult;
  contrastive(image: Float32Array, text: Float32Array, options: ContrastiveOptions): ContrastiveResult;
  createOptimizer(params: Float32Array, decayMask: Uint8Array | null): FlatOptimizer;
  /** ema <- momentum * ema + (1 - momentum) * params. */
  emaUpdate(ema: Float32Array, params: Float32Array, momentum: number): void;
  /** DINO: student [Vs, B, K] against the teacher's [Vt, B, K] (every pair of different views). */
  dinoLoss(
    student: Float32Array,
    teacher: Float32Array,
    shape: { studentViews: number; teacherViews: number; batch: number; prototypes: number },
    targets: TeacherTargets,
  ): DistillLossResult;
  /** iBOT: student patch logits [B, P, K] against the teacher's at the masked patches (masks [B, P], 1 = hidden). */
  ibotLoss(
    student: Float32Array,
    teacher: Float32Array,
    masks: Uint8Array,
    shape: { batch: number; patches: number; prototypes: number },
    targets: TeacherTargets,
  ): DistillLossResult;
  /** KoLeo: -mean log distance of each row [rows, dim] to its nearest neighbour, after L2 normalisation. */
  koleoLoss(x: Float32Array, rows: number, dim: number): DistillLossResult;
}

/**
 * The operations the trainer uses: the native kernels; `backend` is where they run (default: the
 * process default, 'cuda' when the addon was built with CUDA and a device is present). A training
 * run passes its device plan's backend and makes it every kernel call's default (src/device).
 */
export function resolveTrainOps(backend: NativeBackend = defaultKernelBackend()): TrainOps {
  return nativeOps(backend);
}
