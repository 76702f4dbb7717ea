/**
 * The numerical operations the trainer needs, behind one interface so the trainer never
 * cares which backend computes them. This is the ONLY file that knows where they come from.
 *
 * By design these are radlearn's native kernels (src/kernels/contrastive.ts, heads.ts,
 * losses.ts, optim.ts: CPU and CUDA, fused), bound in ops-native.ts. A kernel family that is
 * not in the build (or whose addon does not load) falls back to `referenceOps`
 * (ops-reference.ts): float64-accumulating TypeScript with the same contracts, also the
 * oracle in tests. The run's report and metrics name the backend that was used.
 */
import * as kernels from '../kernels/index.js';
import { hasContrastiveKernels, hasHeadKernels, withContrastiveKernel, withHeadKernels } from './ops-native.js';
import { referenceOps } from './ops-reference.js';
import { withGemm } from './ops-gemm.js';

export type UncertainPolicyCode = 'ignore' | 'ones' | 'zeros';

export interface ContrastiveOptions {
  batch: number;
  dim: number;
  kind: 'infonce' | 'siglip';
  /** a = exp(l) > 0. */
  logitScale: number;
  /** SigLIP bias. */
  bias?: number;
  /** L2-normalise rows inside the loss (default true). */
  normalize?: boolean;
  /** Group id per row: rows sharing an id are all positives of each other. */
  groups?: Int32Array;
  /** InfoNCE positive-pair relaxation: positive cosines are capped at this value. */
  relaxThreshold?: number;
}

export interface ContrastiveResult {
  loss: number;
  gradImage: Float32Array;
  gradText: Float32Array;
  /** dL/da (the chain rule to l = log a is the caller's: dL/dl = a * dL/da). */
  gradLogitScale: number;
  gradBias: number;
}

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
  linearForward(x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array, rows: number, inDim: number, outDim: number): void;
  /** Accumulates dW, db (when given) and overwrites dX (when given). */
  linearBackward(x: Float32Array, w: Float32Array, dy: Float32Array, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, rows: number, inDim: number, outDim: number): void;
  geluForward(x: Float32Array, y: Float32Array): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Multi-label BCE with logits; targets in [0, 1] or -1 uncertain; mask nonzero = present. Writes dL/dlogits. */
  bceWithLogits(logits: Float32Array, targets: Float32Array, mask: Float32Array | null, grad: Float32Array, rows: number, classes: number, uncertain: UncertainPolicyCode): LossResult;
  contrastive(image: Float32Array, text: Float32Array, options: ContrastiveOptions): ContrastiveResult;
  createOptimizer(params: Float32Array, decayMask: Uint8Array | null): FlatOptimizer;
  /** ema <- momentum * ema + (1 - momentum) * params. */
  emaUpdate(ema: Float32Array, params: Float32Array, momentum: number): void;
}

/**
 * The operations the trainer uses in this build: each native kernel family that the kernels
 * module exports (and whose addon loads) replaces its reference counterpart.
 * RADLEARN_TRAIN_OPS=reference forces the TypeScript reference (for comparisons).
 */
export function resolveTrainOps(): TrainOps {
  let ops = referenceOps;
  if (process.env.RADLEARN_TRAIN_OPS === 'reference') return ops;
  const k = kernels as object;
  // matrix products on the native GEMM (similarity kernel) until the fused kernels take over
  const gemm = (a: Float32Array, b: Float32Array, n: number, m: number, d: number): Float32Array =>
    kernels.similaritySync(a, b, { n, m, d, checkFinite: false });
  const hasGemm = nativeWorks(() => gemm(new Float32Array([1]), new Float32Array([1]), 1, 1, 1));
  if (hasGemm) ops = withGemm(ops, gemm, 'native gemm');
  const heads = hasHeadKernels(k) && nativeWorks(() => k.emaUpdateSync(new Float32Array(1), new Float32Array([1]), 0.5));
  const contrastive = hasContrastiveKernels(k) && nativeWorks(() => k.contrastiveLossSync(new Float32Array([1, 0]), new Float32Array([1, 0]), { batch: 1, dim: 2, logitScale: 1 }));
  if (heads) ops = withHeadKernels(ops, k as Parameters<typeof withHeadKernels>[1]);
  if (contrastive) ops = withContrastiveKernel(ops, k as Parameters<typeof withContrastiveKernel>[1]);
  const backend = heads && contrastive ? 'native (heads, losses, AdamW, contrastive)'
    : [heads ? 'native heads/losses/AdamW' : contrastive ? 'native contrastive' : '', `typescript reference${hasGemm ? ' with native GEMM' : ''} for the rest`].filter(Boolean).join(', ');
  return { ...ops, backend };
}

/** True when a tiny native call succeeds (the addon is built and exports the op). */
function nativeWorks(probe: () => unknown): boolean {
  try {
    probe();
    return true;
  } catch {
    return false;
  }
}
