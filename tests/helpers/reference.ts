/** Float64 references of the kernels' contracts (the formulas in the kernel headers). */

export function similarityRef(a: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, d: number, scale: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += a[i * d + k]! * b[j * d + k]!;
      out[i * m + j] = scale * sum;
    }
  }
  return out;
}

export const L2_EPS = 1e-12;

export function l2NormalizeRef(x: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += x[r * dim + k]! ** 2;
    const denom = Math.max(Math.sqrt(sq), L2_EPS);
    for (let k = 0; k < dim; k++) out[r * dim + k] = x[r * dim + k]! / denom;
  }
  return out;
}

export function l2NormalizeBackwardRef(x: ArrayLike<number>, g: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    let xg = 0;
    for (let k = 0; k < dim; k++) {
      sq += x[r * dim + k]! ** 2;
      xg += x[r * dim + k]! * g[r * dim + k]!;
    }
    const norm = Math.sqrt(sq);
    for (let k = 0; k < dim; k++) {
      const i = r * dim + k;
      out[i] = norm < L2_EPS ? g[i]! / L2_EPS : (g[i]! - (x[i]! * xg) / (norm * norm)) / norm;
    }
  }
  return out;
}
