/**
 * TrainOps over radlearn's native kernels (src/kernels: heads.ts, losses.ts, optim.ts from the
 * heads/optim work, contrastive.ts from the contrastive-loss work). The kernel functions are
 * taken from a namespace object and checked at run time, so this file compiles whether or not
 * those modules are in the build yet; resolveTrainOps() uses every family that is present and
 * the TypeScript reference for the rest.
 */
import type { ContrastiveOptions, ContrastiveResult, FlatOptimizer, LossResult, TrainOps, AdamWHyper } from './ops.js';

type F32 = Float32Array;
interface NoCheck { checkFinite?: boolean }

/** The slice of the kernels' public API the trainer calls (structural, so it can be checked at run time). */
export interface HeadKernels {
  linearForwardSync(x: F32, w: F32, b: F32 | undefined, options: { rows: number; inFeatures: number; outFeatures: number; out?: F32 } & NoCheck): F32;
  linearBackwardSync(x: F32, w: F32, dy: F32, options: { rows: number; inFeatures: number; outFeatures: number; dx?: F32; dw?: F32; db?: F32; accumulate?: boolean } & NoCheck): unknown;
  geluSync(x: F32, options: { out?: F32 } & NoCheck): F32;
  geluBackwardSync(x: F32, dy: F32, options: { out?: F32 } & NoCheck): F32;
  bceWithLogitsSync(logits: F32, targets: F32, options: { rows: number; classes: number; mask?: F32; uncertain?: 'ignore' | 'ones' | 'zeros'; grad?: F32 } & NoCheck): { loss: number; valid: number };
  adamwStepSync(params: F32, grads: F32, state: { m: F32; v: F32 }, options: { lr: number; step: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm?: number; decayMask?: Uint8Array }): number;
  emaUpdateSync(ema: F32, params: F32, momentum: number): void;
}

export interface ContrastiveKernels {
  contrastiveLossSync(image: F32, text: F32, options: { batch: number; dim: number; kind?: 'infonce' | 'siglip'; logitScale: number; bias?: number; normalize?: boolean; groups?: Int32Array; relaxThreshold?: number } & NoCheck): { loss: number; gradImage: F32; gradText: F32; gradLogitScale: number; gradBias?: number };
}

const HEAD_FUNCTIONS = ['linearForwardSync', 'linearBackwardSync', 'geluSync', 'geluBackwardSync', 'bceWithLogitsSync', 'adamwStepSync', 'emaUpdateSync'] as const;

export function hasHeadKernels(k: object): k is HeadKernels {
  return HEAD_FUNCTIONS.every((name) => typeof (k as Record<string, unknown>)[name] === 'function');
}

export function hasContrastiveKernels(k: object): k is ContrastiveKernels {
  return typeof (k as Record<string, unknown>).contrastiveLossSync === 'function';
}

class NativeAdamW implements FlatOptimizer {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;

  constructor(private readonly k: HeadKernels, readonly params: Float32Array, private readonly decayMask: Uint8Array | null) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  update(grads: Float32Array, h: AdamWHyper): number {
    const norm = this.k.adamwStepSync(this.params, grads, { m: this.m, v: this.v }, {
      lr: h.lr, step: this.step + 1, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay,
      maxGradNorm: h.maxGradNorm > 0 ? h.maxGradNorm : undefined, decayMask: this.decayMask ?? undefined,
    });
    if (Number.isFinite(norm)) this.step++;
    return norm;
  }
}

/** Replaces the head/loss/optimizer operations of `base` with native kernels. */
export function withHeadKernels(base: TrainOps, k: HeadKernels): TrainOps {
  return {
    ...base,
    backend: `${base.backend}, native heads/losses/AdamW`,
    linearForward: (x, w, b, y, rows, inDim, outDim) => {
      k.linearForwardSync(x, w, b ?? undefined, { rows, inFeatures: inDim, outFeatures: outDim, out: y, checkFinite: false });
    },
    linearBackward: (x, w, dy, dx, dw, db, rows, inDim, outDim) => {
      k.linearBackwardSync(x, w, dy, { rows, inFeatures: inDim, outFeatures: outDim, dx: dx ?? undefined, dw: dw ?? undefined, db: db ?? undefined, accumulate: true, checkFinite: false });
    },
    geluForward: (x, y) => void k.geluSync(x, { out: y, checkFinite: false }),
    geluBackward: (x, dy, dx) => void k.geluBackwardSync(x, dy, { out: dx, checkFinite: false }),
    bceWithLogits: (logits, targets, mask, grad, rows, classes, uncertain): LossResult => {
      const r = k.bceWithLogitsSync(logits, targets, { rows, classes, mask: mask ?? undefined, uncertain, grad, checkFinite: false });
      return { loss: r.loss, valid: r.valid };
    },
    createOptimizer: (params, decayMask) => new NativeAdamW(k, params, decayMask),
    emaUpdate: (ema, params, momentum) => k.emaUpdateSync(ema, params, momentum),
  };
}

/** Replaces the contrastive loss of `base` with the native kernel. */
export function withContrastiveKernel(base: TrainOps, k: ContrastiveKernels): TrainOps {
  return {
    ...base,
    backend: `${base.backend}, native contrastive`,
    contrastive: (image, text, o: ContrastiveOptions): ContrastiveResult => {
      const r = k.contrastiveLossSync(image, text, { ...o, checkFinite: false });
      return { loss: r.loss, gradImage: r.gradImage, gradText: r.gradText, gradLogitScale: r.gradLogitScale, gradBias: r.gradBias ?? 0 };
    },
  };
}
