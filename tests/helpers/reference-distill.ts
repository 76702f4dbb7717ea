/**
 * Float64 references of the self-distillation kernels (contract in native/include/radlearn/distill.h),
 * written the straightforward way (Sinkhorn in the exp domain exactly as DINOv2's code, not the
 * kernel's log-domain form), so they check the kernels independently.
 */

type Values = ArrayLike<number>;

export type Normalization = 'center' | 'sinkhorn';

function logSoftmaxRow(x: Values, offset: number, k: number, scale: number): Float64Array {
  let mx = -Infinity;
  for (let i = 0; i < k; i++) mx = Math.max(mx, x[offset + i]! * scale);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.exp(x[offset + i]! * scale - mx);
  const lse = mx + Math.log(sum);
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) out[i] = x[offset + i]! * scale - lse;
  return out;
}

/** softmax((t - c) / tau) per row; rows picked by rowIndex (identity when omitted). */
export function centeredSoftmaxRef(teacher: Values, center: Values, rows: number[], k: number, tau: number): Float64Array {
  const out = new Float64Array(rows.length * k);
  rows.forEach((row, n) => {
    const shifted = new Float64Array(k);
    for (let i = 0; i < k; i++) shifted[i] = teacher[row * k + i]! - center[i]!;
    const log = logSoftmaxRow(shifted, 0, k, 1 / tau);
    for (let i = 0; i < k; i++) out[n * k + i] = Math.exp(log[i]!);
  });
  return out;
}

/**
 * DINOv2's sinkhorn_knopp_teacher, line by line: Q = exp(t / tau)^T [K, N]; Q /= sum(Q);
 * `iterations` x (rows of Q /= their sums, /= K; columns /= their sums, /= N); Q *= N.
 * The global max is subtracted first (it cancels in the first normalisation).
 */
export function sinkhornRef(logits: Values, rows: number[], k: number, tau: number, iterations: number): Float64Array {
  const n = rows.length;
  let mx = -Infinity;
  for (const row of rows) for (let i = 0; i < k; i++) mx = Math.max(mx, logits[row * k + i]! / tau);
  const q = new Float64Array(n * k); // stored [n][k]; "rows of Q" are prototypes
  let total = 0;
  rows.forEach((row, r) => {
    for (let i = 0; i < k; i++) total += q[r * k + i] = Math.exp(logits[row * k + i]! / tau - mx);
  });
  for (let e = 0; e < q.length; e++) q[e]! /= total;
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += q[r * k + i]!;
      for (let r = 0; r < n; r++) q[r * k + i] = q[r * k + i]! / s / k;
    }
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += q[r * k + i]!;
      for (let i = 0; i < k; i++) q[r * k + i] = q[r * k + i]! / s / n;
    }
  }
  for (let e = 0; e < q.length; e++) q[e]! *= n;
  return q;
}

export interface TargetRef {
  studentTemperature: number;
  teacherTemperature: number;
  normalization: Normalization;
  iterations?: number;
  center?: Values;
  centerMomentum?: number;
}

function teacherProbs(teacher: Values, rows: number[], k: number, options: TargetRef): Float64Array {
  return options.normalization === 'center'
    ? centeredSoftmaxRef(teacher, options.center!, rows, k, options.teacherTemperature)
    : sinkhornRef(teacher, rows, k, options.teacherTemperature, options.iterations ?? 3);
}

export function updateCenterRef(center: Values, teacher: Values, rows: number[], k: number, momentum: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    if (rows.length === 0) {
      out[i] = center[i]!;
      continue;
    }
    let s = 0;
    for (const row of rows) s += teacher[row * k + i]!;
    out[i] = momentum * center[i]! + ((1 - momentum) * s) / rows.length;
  }
  return out;
}

export interface LossRef {
  loss: number;
  grad: Float64Array;
  center?: Float64Array;
}

/** Adds weight * CE(p, softmax(s_row / tau)) to the loss and its gradient to grad. */
function addCrossEntropy(
  student: Values,
  row: number,
  p: Float64Array,
  prow: number,
  k: number,
  tau: number,
  weight: number,
  grad: Float64Array,
): number {
  const logq = logSoftmaxRow(student, row * k, k, 1 / tau);
  let loss = 0;
  for (let i = 0; i < k; i++) {
    const pi = p[prow * k + i]!;
    loss -= pi * logq[i]!;
    grad[row * k + i] += (weight / tau) * (Math.exp(logq[i]!) - pi);
  }
  return weight * loss;
}

/** DINO loss over pairs (teacher view i < Vt, student view j != i), mean over pairs and batch. */
export function dinoLossRef(student: Values, teacher: Values, vs: number, vt: number, b: number, k: number, options: TargetRef): LossRef {
  const rows = Array.from({ length: vt * b }, (_, i) => i);
  const p = teacherProbs(teacher, rows, k, options);
  const grad = new Float64Array(vs * b * k);
  const weight = 1 / (vt * (vs - 1) * b);
  let loss = 0;
  for (let i = 0; i < vt; i++)
    for (let j = 0; j < vs; j++) {
      if (i === j) continue;
      for (let n = 0; n < b; n++) loss += addCrossEntropy(student, j * b + n, p, i * b + n, k, options.studentTemperature, weight, grad);
    }
  const result: LossRef = { loss, grad };
  if (options.center) result.center = updateCenterRef(options.center, teacher, rows, k, options.centerMomentum ?? 0.9);
  return result;
}

/** iBOT: per image mean over masked tokens, then mean over images with a masked token. */
export function ibotLossRef(
  student: Values,
  teacher: Values,
  masks: Values,
  b: number,
  patches: number,
  k: number,
  options: TargetRef,
): LossRef {
  const rows: number[] = [];
  for (let e = 0; e < b * patches; e++) if (masks[e]) rows.push(e);
  const p = rows.length > 0 ? teacherProbs(teacher, rows, k, options) : new Float64Array(0);
  const grad = new Float64Array(b * patches * k);
  const counts = Array.from({ length: b }, (_, n) => {
    let c = 0;
    for (let q = 0; q < patches; q++) c += masks[n * patches + q] ? 1 : 0;
    return c;
  });
  const images = counts.filter((c) => c > 0).length;
  let loss = 0;
  rows.forEach((row, m) => {
    const image = Math.floor(row / patches);
    loss += addCrossEntropy(student, row, p, m, k, options.studentTemperature, 1 / (images * counts[image]!), grad);
  });
  const result: LossRef = { loss, grad };
  if (options.center) result.center = updateCenterRef(options.center, teacher, rows, k, options.centerMomentum ?? 0.9);
  return result;
}

export const KOLEO_EPS = 1e-8;

/** KoLeo on rows normalised with eps 1e-8; neighbours by float64 dot products (first max). */
export function koleoLossRef(x: Values, rows: number, dim: number): LossRef & { neighbors: number[] } {
  const norms: number[] = [];
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let c = 0; c < dim; c++) sq += x[r * dim + c]! ** 2;
    norms.push(Math.sqrt(sq));
    const denom = Math.max(Math.sqrt(sq), KOLEO_EPS);
    for (let c = 0; c < dim; c++) y[r * dim + c] = x[r * dim + c]! / denom;
  }
  const neighbors: number[] = [];
  for (let i = 0; i < rows; i++) {
    let best = -Infinity;
    let arg = -1;
    for (let j = 0; j < rows; j++) {
      if (j === i) continue;
      let dot = 0;
      for (let c = 0; c < dim; c++) dot += y[i * dim + c]! * y[j * dim + c]!;
      if (dot > best) [best, arg] = [dot, j];
    }
    neighbors.push(arg);
  }
  const gy = new Float64Array(rows * dim);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const n = neighbors[i]!;
    let sq = 0;
    for (let c = 0; c < dim; c++) sq += (y[i * dim + c]! - y[n * dim + c]!) ** 2;
    const d = Math.sqrt(sq);
    loss -= Math.log(d + KOLEO_EPS) / rows;
    if (d === 0) continue;
    const coef = -1 / (rows * d * (d + KOLEO_EPS));
    for (let c = 0; c < dim; c++) {
      const diff = y[i * dim + c]! - y[n * dim + c]!;
      gy[i * dim + c] += coef * diff;
      gy[n * dim + c] -= coef * diff;
    }
  }
  // Through the normalisation: dx = (g - y (y . g)) / ||x||, or g / eps below eps.
  const grad = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const norm = norms[r]!;
    let yg = 0;
    for (let c = 0; c < dim; c++) yg += y[r * dim + c]! * gy[r * dim + c]!;
    for (let c = 0; c < dim; c++) {
      const e = r * dim + c;
      grad[e] = norm < KOLEO_EPS ? gy[e]! / KOLEO_EPS : (gy[e]! - y[e]! * yg) / norm;
    }
  }
  return { loss, grad, neighbors };
}

export function emaRef(teacher: Values, student: Values, momentum: number): Float64Array {
  return Float64Array.from({ length: teacher.length }, (_, i) => momentum * teacher[i]! + (1 - momentum) * student[i]!);
}

/** Central differences of `loss` at x for the listed indices. */
export function finiteDifferences(loss: (x: Float64Array) => number, x: Values, indices: number[], h: number): number[] {
  const base = Float64Array.from(x);
  return indices.map((i) => {
    const plus = Float64Array.from(base);
    const minus = Float64Array.from(base);
    plus[i] += h;
    minus[i] -= h;
    return (loss(plus) - loss(minus)) / (2 * h);
  });
}
