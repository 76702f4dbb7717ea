/**
 * AdamW over one flat range split into contiguous segments with their own learning-rate scale
 * and weight decay (per-group learning rates). Gradient clipping stays global, as in
 * torch.nn.utils.clip_grad_norm_ over all parameters: the norm is taken over the whole range,
 * the gradients are scaled once, then each segment takes one fused native AdamW step (no
 * clipping inside). One moment buffer for the range, so checkpoints keep one tensor per group.
 */
import { adamwStepSync, gradNormSync } from '../../kernels/optim.js';
import type { AdamWHyper, FlatOptimizer } from '../ops.js';

export interface Segment {
  start: number;
  end: number;
  lrScale: number;
  /** undefined: the run's weight decay. */
  weightDecay?: number;
}

export class SegmentedAdamW implements FlatOptimizer {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;

  constructor(
    readonly params: Float32Array,
    private readonly decayMask: Uint8Array,
    readonly segments: readonly Segment[],
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  update(grads: Float32Array, h: AdamWHyper): number {
    const norm = gradNormSync(grads);
    if (!Number.isFinite(norm)) return norm;
    if (h.maxGradNorm > 0 && norm > h.maxGradNorm) {
      const scale = h.maxGradNorm / (norm + 1e-6);
      for (let i = 0; i < grads.length; i++) grads[i]! *= scale;
    }
    const step = this.step + 1;
    const decayMask = h.decayMask ?? this.decayMask;
    for (const s of this.segments) {
      if (s.end <= s.start) continue;
      adamwStepSync(
        this.params.subarray(s.start, s.end),
        grads.subarray(s.start, s.end),
        { m: this.m.subarray(s.start, s.end), v: this.v.subarray(s.start, s.end) },
        {
          lr: h.lr * s.lrScale,
          step,
          beta1: h.beta1,
          beta2: h.beta2,
          eps: h.eps,
          weightDecay: s.weightDecay ?? h.weightDecay,
          decayMask: decayMask.subarray(s.start, s.end),
        },
      );
    }
    this.step = step;
    return norm;
  }
}
