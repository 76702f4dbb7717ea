/**
 * Reference implementations of the trainer's operations in TypeScript: every sum is a float64
 * accumulation in a fixed order, so results are deterministic and independent of threads.
 * They follow the contracts of radlearn's native kernels (src/train/ops.ts) and serve as the
 * oracle in tests and the baseline in bench/cases/train.ts.
 */
import { InvalidArgumentError, ShapeError } from '../../src/errors.js';
import { erfc } from '../../src/eval/normal.js';
import type {
  AdamWHyper,
  ContrastiveOptions,
  ContrastiveResult,
  DistillLossResult,
  FlatOptimizer,
  LossResult,
  TeacherTargets,
  TrainOps,
  UncertainPolicyCode,
} from '../../src/train/ops.js';
import { dinoLossRef, ibotLossRef, koleoLossRef, type LossRef, type TargetRef } from './reference-distill.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function need(name: string, array: ArrayLike<number>, length: number): void {
  if (array.length !== length)
    throw new ShapeError(`${name} has ${array.length} values, expected ${length}`, { name, length: array.length, expected: length });
}

function linearForward(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | null,
  y: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  need('linear input', x, rows * inDim);
  need('linear weight', w, outDim * inDim);
  if (b) need('linear bias', b, outDim);
  need('linear output', y, rows * outDim);
  for (let n = 0; n < rows; n++) {
    const xo = n * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inDim; i++) s += x[xo + i]! * w[wo + i]!;
      y[n * outDim + o] = s;
    }
  }
}

function linearBackward(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float32Array | null,
  db: Float32Array | null,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  need('linear dY', dy, rows * outDim);
  // Row-major sweeps (contiguous inner loops) with float64 accumulators; the summation order over
  // rows is fixed, so results are deterministic.
  if (dx) {
    need('linear dX', dx, rows * inDim);
    const acc = new Float64Array(inDim);
    for (let n = 0; n < rows; n++) {
      acc.fill(0);
      for (let o = 0; o < outDim; o++) {
        const d = dy[n * outDim + o]!;
        if (d === 0) continue;
        const wo = o * inDim;
        for (let i = 0; i < inDim; i++) acc[i] += d * w[wo + i]!;
      }
      for (let i = 0; i < inDim; i++) dx[n * inDim + i] = acc[i]!;
    }
  }
  if (dw) {
    need('linear dW', dw, outDim * inDim);
    const acc = new Float64Array(outDim * inDim);
    for (let n = 0; n < rows; n++) {
      const xn = n * inDim;
      for (let o = 0; o < outDim; o++) {
        const d = dy[n * outDim + o]!;
        if (d === 0) continue;
        const wo = o * inDim;
        for (let i = 0; i < inDim; i++) acc[wo + i] += d * x[xn + i]!;
      }
    }
    for (let k = 0; k < acc.length; k++) dw[k] = dw[k]! + acc[k]!;
  }
  if (db) {
    need('linear db', db, outDim);
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let n = 0; n < rows; n++) s += dy[n * outDim + o]!;
      db[o] = db[o]! + s;
    }
  }
}

const phi = (x: number): number => 0.5 * erfc(-x * SQRT1_2);

function geluForward(x: Float32Array, y: Float32Array): void {
  need('gelu output', y, x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * phi(x[i]!);
}

function geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  need('gelu dY', dy, x.length);
  need('gelu dX', dx, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    dx[i] = dy[i]! * (phi(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
  }
}

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function bceWithLogits(
  logits: Float32Array,
  targets: Float32Array,
  mask: Float32Array | null,
  grad: Float32Array,
  rows: number,
  classes: number,
  uncertain: UncertainPolicyCode,
): LossResult {
  const size = rows * classes;
  need('BCE logits', logits, size);
  need('BCE targets', targets, size);
  need('BCE gradient', grad, size);
  if (mask) need('BCE mask', mask, size);
  let total = 0;
  let valid = 0;
  const target = new Float64Array(size).fill(NaN);
  for (let k = 0; k < size; k++) {
    let y = targets[k]!;
    if (mask && mask[k] === 0) continue;
    if (y === -1) {
      if (uncertain === 'ignore') continue;
      y = uncertain === 'ones' ? 1 : 0;
    }
    if (!(y >= 0 && y <= 1)) continue;
    target[k] = y;
    valid++;
  }
  for (let k = 0; k < size; k++) {
    const y = target[k]!;
    if (Number.isNaN(y)) {
      grad[k] = 0;
      continue;
    }
    const z = logits[k]!;
    total += (1 - y) * z + softplus(-z);
    grad[k] = valid > 0 ? (sigmoid(z) - y) / valid : 0;
  }
  return { loss: valid > 0 ? total / valid : 0, valid };
}

function contrastive(image: Float32Array, text: Float32Array, o: ContrastiveOptions): ContrastiveResult {
  const { batch: B, dim: D } = o;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(D) || D < 1)
    throw new ShapeError(`contrastive: batch ${B} and dim ${D} must be positive integers`);
  need('contrastive image', image, B * D);
  need('contrastive text', text, B * D);
  if (!(o.logitScale > 0) || !Number.isFinite(o.logitScale))
    throw new InvalidArgumentError(`contrastive: logitScale must be a positive finite number, got ${o.logitScale}`);
  if (o.groups) need('contrastive groups', o.groups, B);
  const normalize = o.normalize ?? true;
  const a = o.logitScale;
  const bias = o.bias ?? 0;
  const relax = o.relaxThreshold;
  const unit = (x: Float32Array): { u: Float64Array; inv: Float64Array } => {
    const u = new Float64Array(B * D);
    const inv = new Float64Array(B).fill(1);
    for (let i = 0; i < B; i++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += x[i * D + k]! ** 2;
      if (normalize) inv[i] = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let k = 0; k < D; k++) u[i * D + k] = x[i * D + k]! * inv[i]!;
    }
    return { u, inv };
  };
  const U = unit(image);
  const V = unit(text);
  const pos = (i: number, j: number): boolean => (o.groups ? o.groups[i] === o.groups[j] : i === j);
  const cos = new Float64Array(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += U.u[i * D + k]! * V.u[j * D + k]!;
      cos[i * B + j] = s;
    }
  // effective cosine and whether the gradient flows through it (not through a capped positive)
  const dCos = new Float64Array(B * B);
  let loss = 0;
  let gradA = 0;
  let gradBias = 0;
  if (o.kind === 'siglip') {
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        const c = cos[i * B + j]!;
        const z = pos(i, j) ? 1 : -1;
        const e = a * c + bias;
        loss += softplus(-z * e) / B;
        const de = (-z * sigmoid(-z * e)) / B;
        dCos[i * B + j] = de * a;
        gradA += de * c;
        gradBias += de;
      }
  } else {
    const groupSize = new Float64Array(B);
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) if (pos(i, j)) groupSize[i]! += 1;
    const eff = new Float64Array(B * B);
    const flows = new Uint8Array(B * B).fill(1);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        let c = cos[i * B + j]!;
        if (relax !== undefined && pos(i, j) && c > relax) {
          c = relax;
          flows[i * B + j] = 0;
        }
        eff[i * B + j] = c;
      }
    const dE = new Float64Array(B * B);
    // rows (image -> text) then columns (text -> image), each weighted 1/(2B)
    for (const byRow of [true, false]) {
      for (let r = 0; r < B; r++) {
        const at = (q: number): number => (byRow ? r * B + q : q * B + r);
        let max = -Infinity;
        for (let q = 0; q < B; q++) max = Math.max(max, a * eff[at(q)]!);
        let sum = 0;
        for (let q = 0; q < B; q++) sum += Math.exp(a * eff[at(q)]! - max);
        const lse = max + Math.log(sum);
        for (let q = 0; q < B; q++) {
          const p = Math.exp(a * eff[at(q)]! - lse);
          const y = pos(byRow ? r : q, byRow ? q : r) ? 1 / groupSize[r]! : 0;
          loss += (y > 0 ? -y * (a * eff[at(q)]! - lse) : 0) / (2 * B);
          dE[at(q)]! += (p - y) / (2 * B);
        }
      }
    }
    for (let k = 0; k < B * B; k++) {
      gradA += dE[k]! * eff[k]!;
      dCos[k] = flows[k] ? dE[k]! * a : 0;
    }
  }
  // dL/du_i = sum_j dCos_ij v_j ; dL/dv_j = sum_i dCos_ij u_i ; then through the normalisation
  const back = (own: { u: Float64Array; inv: Float64Array }, other: Float64Array, byRow: boolean): Float32Array => {
    const g = new Float32Array(B * D);
    const du = new Float64Array(D);
    for (let i = 0; i < B; i++) {
      du.fill(0);
      for (let j = 0; j < B; j++) {
        const d = byRow ? dCos[i * B + j]! : dCos[j * B + i]!;
        if (d === 0) continue;
        for (let k = 0; k < D; k++) du[k]! += d * other[j * D + k]!;
      }
      if (normalize) {
        let dot = 0;
        for (let k = 0; k < D; k++) dot += du[k]! * own.u[i * D + k]!;
        for (let k = 0; k < D; k++) g[i * D + k] = own.inv[i]! * (du[k]! - dot * own.u[i * D + k]!);
      } else for (let k = 0; k < D; k++) g[i * D + k] = du[k]!;
    }
    return g;
  };
  return {
    loss,
    gradImage: back(U, V.u, true),
    gradText: back(V, U.u, false),
    gradLogitScale: gradA,
    gradBias: o.kind === 'siglip' ? gradBias : 0,
  };
}

class ReferenceAdamW implements FlatOptimizer {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;

  constructor(
    readonly params: Float32Array,
    private readonly decayMask: Uint8Array | null,
  ) {
    if (decayMask) need('AdamW decay mask', decayMask, params.length);
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  update(grads: Float32Array, h: AdamWHyper): number {
    need('AdamW gradient', grads, this.params.length);
    let sq = 0;
    for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!;
    const norm = Math.sqrt(sq);
    if (!Number.isFinite(norm)) return norm;
    const clip = h.maxGradNorm > 0 ? Math.min(1, h.maxGradNorm / (norm + 1e-6)) : 1;
    const t = this.step + 1;
    const stepSize = h.lr / (1 - h.beta1 ** t);
    const sqrtBias2 = Math.sqrt(1 - h.beta2 ** t);
    const p = this.params;
    const decayMask = h.decayMask ?? this.decayMask;
    if (decayMask) need('AdamW decay mask', decayMask, p.length);
    for (let i = 0; i < p.length; i++) {
      const g = grads[i]! * clip;
      if (!decayMask || decayMask[i]) p[i] = p[i]! * (1 - h.lr * h.weightDecay);
      const m = (this.m[i] = h.beta1 * this.m[i]! + (1 - h.beta1) * g);
      const v = (this.v[i] = h.beta2 * this.v[i]! + (1 - h.beta2) * g * g);
      p[i] = p[i]! - (stepSize * m) / (Math.sqrt(v) / sqrtBias2 + h.eps);
    }
    this.step = t;
    return norm;
  }
}

function emaUpdate(ema: Float32Array, params: Float32Array, momentum: number): void {
  need('EMA buffer', ema, params.length);
  for (let i = 0; i < ema.length; i++) ema[i] = momentum * ema[i]! + (1 - momentum) * params[i]!;
}

/** The float64 references in the ops' contract: float32 gradients, the center replaced in place. */
function distillResult(r: LossRef, t?: TeacherTargets): DistillLossResult {
  if (t?.center && r.center && !t.keepCenter) t.center.set(r.center);
  return { loss: r.loss, grad: Float32Array.from(r.grad) };
}

const targetRef = (t: TeacherTargets): TargetRef => ({
  studentTemperature: t.studentTemperature,
  teacherTemperature: t.teacherTemperature,
  normalization: t.normalization,
  ...(t.center ? { center: Float64Array.from(t.center), centerMomentum: t.centerMomentum } : {}),
});

export const referenceOps: TrainOps = {
  backend: 'typescript-reference',
  linearForward,
  linearBackward,
  geluForward,
  geluBackward,
  bceWithLogits,
  contrastive,
  createOptimizer: (params, decayMask) => new ReferenceAdamW(params, decayMask),
  emaUpdate,
  dinoLoss: (student, teacher, s, t) =>
    distillResult(dinoLossRef(student, teacher, s.studentViews, s.teacherViews, s.batch, s.prototypes, targetRef(t)), t),
  ibotLoss: (student, teacher, masks, s, t) =>
    distillResult(ibotLossRef(student, teacher, masks, s.batch, s.patches, s.prototypes, targetRef(t)), t),
  koleoLoss: (x, rows, dim) => distillResult(koleoLossRef(x, rows, dim)),
};
