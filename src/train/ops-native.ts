/**
 * TrainOps over radlearn's native kernels (src/kernels: heads.ts, losses.ts, optim.ts,
 * contrastive.ts, distill.ts). The addon is always built with every kernel family, so there is no
 * fallback: a missing or broken addon fails loudly at the first call.
 */
import { contrastiveLossSync } from '../kernels/contrastive.js';
import { dinoLossSync, ibotLossSync, koleoLossSync } from '../kernels/distill.js';
import { geluBackwardSync, geluSync, linearBackwardSync, linearForwardSync } from '../kernels/heads.js';
import { bceWithLogitsSync } from '../kernels/losses.js';
import { adamwStepSync, emaUpdateSync } from '../kernels/optim.js';
import type {
  AdamWHyper,
  ContrastiveOptions,
  ContrastiveResult,
  DistillLossResult,
  FlatOptimizer,
  LossResult,
  TeacherTargets,
  TrainOps,
} from './ops.js';

/** AdamW over one flat range with the fused native kernel (clipping, decay mask, bias correction). */
export class NativeAdamW implements FlatOptimizer {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;

  constructor(
    readonly params: Float32Array,
    private readonly decayMask: Uint8Array | null,
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  update(grads: Float32Array, h: AdamWHyper): number {
    const norm = adamwStepSync(
      this.params,
      grads,
      { m: this.m, v: this.v },
      {
        lr: h.lr,
        step: this.step + 1,
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        weightDecay: h.weightDecay,
        maxGradNorm: h.maxGradNorm > 0 ? h.maxGradNorm : undefined,
        decayMask: h.decayMask ?? this.decayMask ?? undefined,
      },
    );
    if (Number.isFinite(norm)) this.step++;
    return norm;
  }
}

/** The kernels' teacher-target options; a center is both read and replaced in place. */
function targetOptions(t: TeacherTargets) {
  return {
    studentTemperature: t.studentTemperature,
    teacherTemperature: t.teacherTemperature,
    normalization: t.normalization,
    centerMomentum: t.centerMomentum,
    checkFinite: false,
    ...(t.center ? (t.keepCenter ? { center: t.center, updateCenter: false } : { center: t.center, centerOut: t.center }) : {}),
  } as const;
}

/** The trainer's operations on the native kernels; `backend` names where they run (cpu or cuda). */
export function nativeOps(backend: string): TrainOps {
  return {
    backend,
    linearForward: (x, w, b, y, rows, inDim, outDim) => {
      linearForwardSync(x, w, b ?? undefined, { rows, inFeatures: inDim, outFeatures: outDim, out: y, checkFinite: false });
    },
    linearBackward: (x, w, dy, dx, dw, db, rows, inDim, outDim) => {
      linearBackwardSync(x, w, dy, {
        rows,
        inFeatures: inDim,
        outFeatures: outDim,
        dx: dx ?? undefined,
        dw: dw ?? undefined,
        db: db ?? undefined,
        accumulate: true,
        checkFinite: false,
      });
    },
    geluForward: (x, y) => void geluSync(x, { out: y, checkFinite: false }),
    geluBackward: (x, dy, dx) => void geluBackwardSync(x, dy, { out: dx, checkFinite: false }),
    bceWithLogits: (logits, targets, mask, grad, rows, classes, uncertain): LossResult => {
      const r = bceWithLogitsSync(logits, targets, { rows, classes, mask: mask ?? undefined, uncertain, grad, checkFinite: false });
      return { loss: r.loss, valid: r.valid };
    },
    contrastive: (image, text, o: ContrastiveOptions): ContrastiveResult => {
      const r = contrastiveLossSync(image, text, { ...o, checkFinite: false });
      return {
        loss: r.loss,
        gradImage: r.gradImage as Float32Array,
        gradText: r.gradText as Float32Array,
        gradLogitScale: r.gradLogitScale,
        gradBias: r.gradBias ?? 0,
      };
    },
    createOptimizer: (params, decayMask) => new NativeAdamW(params, decayMask),
    // the loop checks the parameters itself after every update
    emaUpdate: (ema, params, momentum) => emaUpdateSync(ema, params, momentum, { checkFinite: false }),
    // the loop stops on a non-finite loss; the kernels need not scan their outputs
    dinoLoss: (student, teacher, shape, targets): DistillLossResult => {
      const r = dinoLossSync(student, teacher, { ...targetOptions(targets), ...shape });
      return { loss: r.loss, grad: r.grad };
    },
    ibotLoss: (student, teacher, masks, shape, targets): DistillLossResult => {
      const r = ibotLossSync(student, teacher, masks, { ...targetOptions(targets), ...shape });
      return { loss: r.loss, grad: r.grad };
    },
    koleoLoss: (x, rows, dim): DistillLossResult => {
      const r = koleoLossSync(x, { rows, dim, checkFinite: false });
      return { loss: r.loss, grad: r.grad };
    },
  };
}
