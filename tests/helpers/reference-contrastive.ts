/**
 * float64 reference of the contrastive losses (docs/kernels-contrastive.md, radlearn/contrastive.h),
 * written the direct way: the B x B logit matrix is materialised, LSEs taken with a max shift,
 * gradients by the analytic backward. Tests compare the fused kernels against it and check it
 * against finite differences of its own loss.
 */
export interface ContrastiveRefOptions {
  batch: number;
  dim: number;
  kind?: 'infonce' | 'siglip';
  logitScale: number;
  bias?: number;
  normalize?: boolean;
  groups?: ArrayLike<number>;
  relaxThreshold?: number;
}

export interface ContrastiveRefResult {
  loss: number;
  gradImage: Float64Array;
  gradText: Float64Array;
  gradLogitScale: number;
  gradBias?: number;
  /** Natural scale of the input gradients (max of a / (B |x|) and |dL/du_i| / |x_i|): a floor for relative errors. */
  gradFloor: number;
  /** max(sum |dL/de_ij * ce_ij|, max |ce| / B): a floor for the relative error of gradLogitScale. */
  gradLogitScaleFloor: number;
}

const EPS = 1e-12;

function rows(x: ArrayLike<number>, batch: number, dim: number, normalize: boolean): { u: Float64Array; norms: Float64Array } {
  const u = new Float64Array(batch * dim);
  const norms = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += x[i * dim + k]! ** 2;
    norms[i] = Math.sqrt(sq);
    const inv = normalize ? 1 / Math.max(norms[i]!, EPS) : 1;
    for (let k = 0; k < dim; k++) u[i * dim + k] = x[i * dim + k]! * inv;
  }
  return { u, norms };
}

function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** dL/dx from dL/du through u = x / max(|x|, eps) (or identity without normalisation). */
function throughNormalize(
  x: ArrayLike<number>,
  u: Float64Array,
  norms: Float64Array,
  gu: Float64Array,
  batch: number,
  dim: number,
  normalize: boolean,
): Float64Array {
  if (!normalize) return gu;
  const gx = new Float64Array(batch * dim);
  for (let i = 0; i < batch; i++) {
    const norm = norms[i]!;
    if (norm < EPS) {
      for (let k = 0; k < dim; k++) gx[i * dim + k] = gu[i * dim + k]! / EPS;
      continue;
    }
    let dot = 0;
    for (let k = 0; k < dim; k++) dot += u[i * dim + k]! * gu[i * dim + k]!;
    for (let k = 0; k < dim; k++) gx[i * dim + k] = (gu[i * dim + k]! - u[i * dim + k]! * dot) / norm;
  }
  void x;
  return gx;
}

export function contrastiveRef(image: ArrayLike<number>, text: ArrayLike<number>, options: ContrastiveRefOptions): ContrastiveRefResult {
  const { batch: B, dim: D, logitScale: a } = options;
  const kind = options.kind ?? 'infonce';
  const normalize = options.normalize ?? true;
  const bias = options.bias ?? 0;
  const theta = options.relaxThreshold;
  const groups = options.groups;
  const X = rows(image, B, D, normalize);
  const T = rows(text, B, D, normalize);
  const positive = (i: number, j: number) => (groups ? groups[i] === groups[j] : i === j);
  const weight = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    let count = 0;
    for (let j = 0; j < B; j++) if (positive(i, j)) count++;
    weight[i] = 1 / count;
  }
  // cos, effective cos (capped positives) and the cap mask.
  const cos = new Float64Array(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += X.u[i * D + k]! * T.u[j * D + k]!;
      cos[i * B + j] = s;
    }
  const ce = new Float64Array(B * B);
  const capped = new Uint8Array(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      const c = cos[i * B + j]!;
      const cap = kind === 'infonce' && theta !== undefined && positive(i, j) && c > theta;
      capped[i * B + j] = cap ? 1 : 0;
      ce[i * B + j] = cap ? theta! : c;
    }
  const G = new Float64Array(B * B); // dL/de_ij
  let loss = 0;
  let gradBias: number | undefined;
  if (kind === 'infonce') {
    const lseRow = new Float64Array(B);
    const lseCol = new Float64Array(B);
    for (let i = 0; i < B; i++) {
      let m = -Infinity;
      for (let j = 0; j < B; j++) m = Math.max(m, a * ce[i * B + j]!);
      let s = 0;
      for (let j = 0; j < B; j++) s += Math.exp(a * ce[i * B + j]! - m);
      lseRow[i] = m + Math.log(s);
    }
    for (let j = 0; j < B; j++) {
      let m = -Infinity;
      for (let i = 0; i < B; i++) m = Math.max(m, a * ce[i * B + j]!);
      let s = 0;
      for (let i = 0; i < B; i++) s += Math.exp(a * ce[i * B + j]! - m);
      lseCol[j] = m + Math.log(s);
    }
    let rowTerm = 0;
    let colTerm = 0;
    for (let i = 0; i < B; i++) {
      rowTerm += lseRow[i]!;
      colTerm += lseCol[i]!;
      for (let j = 0; j < B; j++) {
        const y = positive(i, j) ? weight[i]! : 0;
        rowTerm -= y * a * ce[i * B + j]!;
        colTerm -= y * a * ce[i * B + j]!;
      }
    }
    loss = (rowTerm / B + colTerm / B) / 2;
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        const e = a * ce[i * B + j]!;
        const y = positive(i, j) ? weight[i]! : 0;
        G[i * B + j] = (Math.exp(e - lseRow[i]!) - y + Math.exp(e - lseCol[j]!) - y) / (2 * B);
      }
  } else {
    gradBias = 0;
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) {
        const z = positive(i, j) ? 1 : -1;
        const x = z * (a * ce[i * B + j]! + bias);
        loss += softplus(-x) / B;
        const g = (-z * sigmoid(-x)) / B;
        G[i * B + j] = g;
        gradBias += g;
      }
  }
  let gradLogitScale = 0;
  let gradLogitScaleFloor = 0;
  const gu = new Float64Array(B * D);
  const gv = new Float64Array(B * D);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      const g = G[i * B + j]!;
      gradLogitScale += g * ce[i * B + j]!;
      gradLogitScaleFloor += Math.abs(g * ce[i * B + j]!);
      if (capped[i * B + j]) continue;
      const k = g * a;
      for (let d = 0; d < D; d++) {
        gu[i * D + d] += k * T.u[j * D + d]!;
        gv[j * D + d] += k * X.u[i * D + d]!;
      }
    }
  // Natural scale of dL/dx: |dL/de| <= 1/B, times a, times |v| = 1, over |x| (or times |v| unnormalised).
  // Where the exact gradient vanishes (e.g. D = 1 with every cosine +-1) errors are measured against it.
  let maxNorm = 0;
  for (let i = 0; i < B; i++) maxNorm = Math.max(maxNorm, X.norms[i]!, T.norms[i]!);
  let gradFloor = normalize ? a / (B * Math.max(maxNorm, EPS)) : (a * maxNorm) / B;
  for (let i = 0; i < B; i++)
    for (let d = 0; d < D; d++) {
      const sx = normalize ? Math.max(X.norms[i]!, EPS) : 1;
      const st = normalize ? Math.max(T.norms[i]!, EPS) : 1;
      gradFloor = Math.max(gradFloor, Math.abs(gu[i * D + d]!) / sx, Math.abs(gv[i * D + d]!) / st);
    }
  // With every logit tied (degenerate inputs) the exact dL/da is 0; measure against max|ce| / B then.
  let maxCe = 0;
  for (let k = 0; k < B * B; k++) maxCe = Math.max(maxCe, Math.abs(ce[k]!));
  gradLogitScaleFloor = Math.max(gradLogitScaleFloor, maxCe / B);
  const result: ContrastiveRefResult = {
    loss,
    gradImage: throughNormalize(image, X.u, X.norms, gu, B, D, normalize),
    gradText: throughNormalize(text, T.u, T.norms, gv, B, D, normalize),
    gradLogitScale,
    gradFloor,
    gradLogitScaleFloor,
  };
  if (gradBias !== undefined) result.gradBias = gradBias;
  return result;
}
