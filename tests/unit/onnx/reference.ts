/** Plain float64 references for the ONNX ops the builder emits (naive loops, written for clarity). */
import { type Nd, strides, unravel } from './helpers.js';

export function conv2d(x: Nd, w: Nd, b: Nd | null, o: { strides: number[]; pads: number[]; dilations: number[]; group: number }): Nd {
  const [n, c, h, wd] = x.dims as [number, number, number, number];
  const [m, cg, kh, kw] = w.dims as [number, number, number, number];
  const [sh, sw] = o.strides as [number, number];
  const [pt, pl, pb, pr] = o.pads as [number, number, number, number];
  const [dh, dw] = o.dilations as [number, number];
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const mg = m / o.group;
  const out = new Float64Array(n * m * oh * ow);
  for (let ni = 0; ni < n; ni++)
    for (let mi = 0; mi < m; mi++) {
      const gi = Math.floor(mi / mg);
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          let s = b ? b.data[mi]! : 0;
          for (let ci = 0; ci < cg; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * sh - pt + ky * dh;
                const ix = xo * sw - pl + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const cIn = gi * cg + ci;
                s += x.data[((ni * c + cIn) * h + iy) * wd + ix]! * w.data[((mi * cg + ci) * kh + ky) * kw + kx]!;
              }
          out[((ni * m + mi) * oh + y) * ow + xo] = s;
        }
    }
  void c;
  return { data: out, dims: [n, m, oh, ow] };
}

export function pool2d(
  x: Nd,
  kind: 'max' | 'avg',
  o: { kernel: number[]; strides: number[]; pads: number[]; countIncludePad?: boolean },
): Nd {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const [kh, kw] = o.kernel as [number, number];
  const [sh, sw] = o.strides as [number, number];
  const [pt, pl, pb, pr] = o.pads as [number, number, number, number];
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1;
  const ow = Math.floor((w + pl + pr - kw) / sw) + 1;
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = y * sh - pt + ky;
            const ix = xo * sw - pl + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              if (o.countIncludePad) count++;
              continue;
            }
            const v = x.data[(p * h + iy) * w + ix]!;
            best = Math.max(best, v);
            sum += v;
            count++;
          }
        out[(p * oh + y) * ow + xo] = kind === 'max' ? best : sum / count;
      }
  return { data: out, dims: [n, c, oh, ow] };
}

/** Batched matmul with broadcasting over leading dims (NumPy matmul semantics, rank >= 2). */
export function matmul(a: Nd, b: Nd): Nd {
  const ar = a.dims.length;
  const br = b.dims.length;
  const [m, k] = [a.dims[ar - 2]!, a.dims[ar - 1]!];
  const nn = b.dims[br - 1]!;
  const batchA = a.dims.slice(0, -2);
  const batchB = b.dims.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pa = [...new Array<number>(rank - batchA.length).fill(1), ...batchA];
  const pb = [...new Array<number>(rank - batchB.length).fill(1), ...batchB];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const nb = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(nb * m * nn);
  const sa = strides(pa);
  const sb = strides(pb);
  for (let bi = 0; bi < nb; bi++) {
    const idx = unravel(bi, batch);
    let oa = 0;
    let ob = 0;
    idx.forEach((v, i) => {
      oa += (pa[i] === 1 ? 0 : v) * sa[i]!;
      ob += (pb[i] === 1 ? 0 : v) * sb[i]!;
    });
    for (let i = 0; i < m; i++)
      for (let j = 0; j < nn; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[oa * m * k + i * k + t]! * b.data[ob * k * nn + t * nn + j]!;
        out[(bi * m + i) * nn + j] = s;
      }
  }
  return { data: out, dims: [...batch, m, nn] };
}

export function transpose(a: Nd, perm: number[]): Nd {
  const dims = perm.map((p) => a.dims[p]!);
  const s = strides(a.dims);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, dims);
    let src = 0;
    idx.forEach((v, k) => (src += v * s[perm[k]!]!));
    out[i] = a.data[src]!;
  }
  return { data: out, dims };
}

/** Applies f to every 1-D line along `axis` (in place on a copy). */
export function alongAxis(a: Nd, axis: number, f: (line: number[]) => number[]): Nd {
  const ax = axis < 0 ? a.dims.length + axis : axis;
  const s = strides(a.dims);
  const out = Float64Array.from(a.data);
  const len = a.dims[ax]!;
  for (let i = 0; i < a.data.length; i++) {
    if (unravel(i, a.dims)[ax] !== 0) continue;
    const line = Array.from({ length: len }, (_, j) => a.data[i + j * s[ax]!]!);
    f(line).forEach((v, j) => (out[i + j * s[ax]!] = v));
  }
  return { data: out, dims: [...a.dims] };
}

export function softmaxLine(line: number[]): number[] {
  const m = Math.max(...line);
  const e = line.map((v) => Math.exp(v - m));
  const z = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / z);
}

/** Mean (or sum) over `axes`, keeping them as size 1 when keepdims. */
export function reduce(a: Nd, axes: number[], kind: 'mean' | 'sum', keepdims: boolean): Nd {
  const ax = new Set(axes.map((x) => (x < 0 ? a.dims.length + x : x)));
  const kd = a.dims.map((d, i) => (ax.has(i) ? 1 : d));
  const n = kd.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  const ks = strides(kd);
  let count = 1;
  ax.forEach((i) => (count *= a.dims[i]!));
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.dims);
    let o = 0;
    idx.forEach((v, k) => (o += (ax.has(k) ? 0 : v) * ks[k]!));
    out[o]! += a.data[i]!;
  }
  if (kind === 'mean') for (let i = 0; i < n; i++) out[i]! /= count;
  return { data: out, dims: keepdims ? kd : a.dims.filter((_, i) => !ax.has(i)) };
}
