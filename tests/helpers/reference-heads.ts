/** Float64 references for the dense-layer kernels (contracts in native/include/radlearn/linear.h). */
import { erf } from './erf.js';

export function linearForwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | undefined,
  rows: number,
  inF: number,
  outF: number,
): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let n = 0; n < rows; n++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += x[n * inF + i]! * w[o * inF + i]!;
      y[n * outF + o] = s;
    }
  return y;
}

export function linearBackwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  inF: number,
  outF: number,
) {
  const dx = new Float64Array(rows * inF);
  const dw = new Float64Array(outF * inF);
  const db = new Float64Array(outF);
  for (let n = 0; n < rows; n++)
    for (let o = 0; o < outF; o++) {
      const g = dy[n * outF + o]!;
      db[o]! += g;
      for (let i = 0; i < inF; i++) {
        dx[n * inF + i]! += g * w[o * inF + i]!;
        dw[o * inF + i]! += g * x[n * inF + i]!;
      }
    }
  return { dx, dw, db };
}

export function geluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x as ArrayLike<number>, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
}

export function geluGradRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const cdf = 0.5 * (1 + erf(v / Math.SQRT2));
    const pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    out[i] = dy[i]! * (cdf + v * pdf);
  }
  return out;
}

/** MLP head forward in float64 from a flat parameter buffer laid out W1, b1, W2, b2. */
export function mlpForwardRef(
  params: ArrayLike<number>,
  x: ArrayLike<number>,
  rows: number,
  inF: number,
  hidden: number,
  outF: number,
): Float64Array {
  const p = Array.from(params);
  const w1 = p.slice(0, hidden * inF);
  const b1 = p.slice(hidden * inF, hidden * inF + hidden);
  const o2 = hidden * inF + hidden;
  const w2 = p.slice(o2, o2 + outF * hidden);
  const b2 = p.slice(o2 + outF * hidden, o2 + outF * hidden + outF);
  const h = linearForwardRef(x, w1, b1, rows, inF, hidden);
  return linearForwardRef(geluRef(h), w2, b2, rows, hidden, outF);
}
