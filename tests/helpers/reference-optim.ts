/**
 * Float64 AdamW with exactly torch.optim.AdamW's update order (amsgrad=False), with
 * torch.nn.utils.clip_grad_norm_ applied first when maxGradNorm is given.
 *   p *= 1 - lr * wd                     (decoupled decay, where the mask says so)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
export interface RefAdamWState {
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export interface RefAdamWOptions {
  lr: number;
  step: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  decayMask?: ArrayLike<number>;
}

export function gradNormRef(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

export function adamwRef(state: RefAdamWState, grads: ArrayLike<number>, o: RefAdamWOptions): number {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0.01;
  const norm = gradNormRef(grads);
  const coef = o.maxGradNorm !== undefined ? Math.min(1, o.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - b1 ** o.step;
  const bc2 = 1 - b2 ** o.step;
  for (let i = 0; i < state.params.length; i++) {
    const g = grads[i]! * coef;
    let p = state.params[i]!;
    if (!o.decayMask || o.decayMask[i]) p *= 1 - o.lr * wd;
    state.m[i] = b1 * state.m[i]! + (1 - b1) * g;
    state.v[i] = b2 * state.v[i]! + (1 - b2) * g * g;
    p -= (o.lr / bc1) * (state.m[i]! / (Math.sqrt(state.v[i]!) / Math.sqrt(bc2) + eps));
    state.params[i] = p;
  }
  return norm;
}
