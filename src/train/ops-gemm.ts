/**
 * Interim acceleration while the fused head/contrastive kernels are not in the build: the
 * matrix products of the reference operations run on radlearn's native similarity kernel
 * (S = A . B^T, a packed, register-blocked GEMM with a fixed summation order per element), and
 * everything else (bias, GELU, BCE, softmax statistics, AdamW) stays in the reference code.
 */
import type { ContrastiveOptions, ContrastiveResult, TrainOps } from './ops.js';
import { InvalidArgumentError, ShapeError } from '../errors.js';

/** C[n, m] = A[n, d] . B[m, d]^T. */
export type GemmNT = (a: Float32Array, b: Float32Array, n: number, m: number, d: number) => Float32Array;

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function normalizeRows(x: Float32Array, B: number, D: number, normalize: boolean): { u: Float32Array; inv: Float64Array } {
  const u = new Float32Array(B * D);
  const inv = new Float64Array(B).fill(1);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += x[i * D + k]! ** 2;
    if (normalize) inv[i] = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < D; k++) u[i * D + k] = x[i * D + k]! * inv[i]!;
  }
  return { u, inv };
}

/** The contrastive loss of ops-reference.ts with its three B x B x D products on `gemm`. */
function contrastiveWithGemm(gemm: GemmNT, image: Float32Array, text: Float32Array, o: ContrastiveOptions): ContrastiveResult {
  const { batch: B, dim: D } = o;
  if (image.length !== B * D || text.length !== B * D) throw new ShapeError(`contrastive: image ${image.length} / text ${text.length} values, expected [${B}, ${D}]`);
  if (!(o.logitScale > 0) || !Number.isFinite(o.logitScale)) throw new InvalidArgumentError(`contrastive: logitScale must be a positive finite number, got ${o.logitScale}`);
  const normalize = o.normalize ?? true;
  const a = o.logitScale;
  const bias = o.bias ?? 0;
  const U = normalizeRows(image, B, D, normalize);
  const V = normalizeRows(text, B, D, normalize);
  const cos = gemm(U.u, V.u, B, B, D);
  const pos = (i: number, j: number): boolean => (o.groups ? o.groups[i] === o.groups[j] : i === j);
  const dCos = new Float32Array(B * B);
  let loss = 0;
  let gradA = 0;
  let gradBias = 0;
  if (o.kind === 'siglip') {
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) {
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
    // positives and their target weights y_ij = 1/|group(i)| (rows and columns share group sizes)
    const y = new Float64Array(B * B);
    for (let i = 0; i < B; i++) {
      let size = 0;
      for (let j = 0; j < B; j++) if (pos(i, j)) size++;
      for (let j = 0; j < B; j++) if (pos(i, j)) y[i * B + j] = 1 / size;
    }
    const logits = new Float64Array(B * B);
    const flows = new Uint8Array(B * B).fill(1);
    for (let k = 0; k < B * B; k++) {
      let c = cos[k]!;
      if (o.relaxThreshold !== undefined && y[k]! > 0 && c > o.relaxThreshold) {
        c = o.relaxThreshold;
        flows[k] = 0;
      }
      logits[k] = a * c;
    }
    const dE = new Float64Array(B * B);
    const scale = 1 / (2 * B);
    // image -> text (rows) and text -> image (columns), each a mean of cross-entropies, halved
    for (let pass = 0; pass < 2; pass++) {
      const stride = pass === 0 ? 1 : B;
      for (let r = 0; r < B; r++) {
        const base = pass === 0 ? r * B : r;
        let max = -Infinity;
        for (let q = 0; q < B; q++) max = Math.max(max, logits[base + q * stride]!);
        let sum = 0;
        for (let q = 0; q < B; q++) sum += Math.exp(logits[base + q * stride]! - max);
        const lse = max + Math.log(sum);
        for (let q = 0; q < B; q++) {
          const k = base + q * stride;
          const target = y[k]!;
          if (target > 0) loss -= target * (logits[k]! - lse) * scale;
          dE[k]! += (Math.exp(logits[k]! - lse) - target) * scale;
        }
      }
    }
    for (let k = 0; k < B * B; k++) {
      gradA += (dE[k]! * logits[k]!) / a;
      dCos[k] = flows[k] ? dE[k]! * a : 0;
    }
  }
  // dU = dCos . V, dV = dCos^T . U, as A . B^T products with transposed right operands
  const dU = gemm(dCos, transpose(V.u, B, D), B, D, B);
  const dV = gemm(transpose(dCos, B, B), transpose(U.u, B, D), B, D, B);
  const back = (own: { u: Float32Array; inv: Float64Array }, du: Float32Array): Float32Array => {
    if (!normalize) return du;
    const g = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      let dot = 0;
      for (let k = 0; k < D; k++) dot += du[i * D + k]! * own.u[i * D + k]!;
      for (let k = 0; k < D; k++) g[i * D + k] = own.inv[i]! * (du[i * D + k]! - dot * own.u[i * D + k]!);
    }
    return g;
  };
  return { loss, gradImage: back(U, dU), gradText: back(V, dV), gradLogitScale: gradA, gradBias: o.kind === 'siglip' ? gradBias : 0 };
}

/** `base` with its linear layers and contrastive loss computed through `gemm`. */
export function withGemm(base: TrainOps, gemm: GemmNT, name: string): TrainOps {
  return {
    ...base,
    backend: `${base.backend} + ${name}`,
    linearForward: (x, w, b, y, rows, inDim, outDim) => {
      if (y.length !== rows * outDim) throw new ShapeError(`linear output has ${y.length} values, expected ${rows * outDim}`);
      y.set(gemm(x, w, rows, outDim, inDim));
      if (b) for (let n = 0; n < rows; n++) for (let o = 0; o < outDim; o++) y[n * outDim + o]! += b[o]!;
    },
    linearBackward: (x, w, dy, dx, dw, db, rows, inDim, outDim) => {
      if (dx) dx.set(gemm(dy, transpose(w, outDim, inDim), rows, inDim, outDim));
      if (dw) {
        const g = gemm(transpose(dy, rows, outDim), transpose(x, rows, inDim), outDim, inDim, rows);
        for (let k = 0; k < g.length; k++) dw[k]! += g[k]!;
      }
      if (db) for (let o = 0; o < outDim; o++) {
        let s = 0;
        for (let n = 0; n < rows; n++) s += dy[n * outDim + o]!;
        db[o]! += s;
      }
    },
    contrastive: (image, text, o) => contrastiveWithGemm(gemm, image, text, o),
  };
}
