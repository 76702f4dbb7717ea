/**
 * Float64 TypeScript reference of the augmentation renderer and of Philox-4x32-10, written
 * from the definitions in docs/kernels-augment.md (not from the C++): given the parameters a
 * view drew, it recomputes the view's pixels. Also an independent antialiased resize, a
 * two-sample Kolmogorov-Smirnov statistic against a CDF, and 16-bit decoders.
 */
import type { AugmentViewParams } from '../../src/index.js';

export type SourceArray = Uint8Array | Uint16Array | Float32Array;

const TWO32 = 4294967296;

function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const low = al * b; // < 2^48, exact
  const high = ah * b; // < 2^48, exact; product = high * 2^16 + low
  return (Math.floor(high / 65536) + Math.floor(((high % 65536) * 65536 + low) / TWO32)) >>> 0;
}

/** Philox-4x32-10 (Salmon et al. 2011). */
export function philox(counter: [number, number, number, number], key0: number, key1: number): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let k0 = key0 >>> 0;
  let k1 = key1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(0xd2511f53, c0);
    const lo0 = Math.imul(0xd2511f53, c0) >>> 0;
    const hi1 = mulhi(0xcd9e8d57, c2);
    const lo1 = Math.imul(0xcd9e8d57, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

export function reflect(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

export function bilinear(src: ArrayLike<number>, height: number, width: number, fx: number, fy: number): number {
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const tx = fx - x0;
  const ty = fy - y0;
  const at = (y: number, x: number) => src[reflect(y, height) * width + reflect(x, width)]!;
  const top = at(y0, x0) * (1 - tx) + at(y0, x0 + 1) * tx;
  const bottom = at(y0 + 1, x0) * (1 - tx) + at(y0 + 1, x0 + 1) * tx;
  return top * (1 - ty) + bottom * ty;
}

/** Footprint taps along an axis whose output pixel spans `extent` source pixels. */
export function tapsFor(extent: number): number {
  return extent > 2 ? Math.min(8, Math.ceil(extent / 2)) : 1;
}

/** Mean of taps x taps bilinear samples evenly spread over the footprint of an output pixel. */
function footprint(
  src: ArrayLike<number>,
  height: number,
  width: number,
  a: readonly number[],
  x: number,
  y: number,
  nx: number,
  ny: number,
): number {
  let sum = 0;
  for (let j = 0; j < ny; j++) {
    const sy = y + (j + 0.5) / ny - 0.5;
    for (let i = 0; i < nx; i++) {
      const sx = x + (i + 0.5) / nx - 0.5;
      sum += bilinear(src, height, width, a[0]! * sx + a[1]! * sy + a[2]!, a[3]! * sx + a[4]! * sy + a[5]!);
    }
  }
  return sum / (nx * ny);
}

/**
 * Antialiased resize of a whole H x W image to size x size, from first principles: output
 * pixel centre (x + 0.5) maps to source (x + 0.5) * W / size, pixel centres at i + 0.5.
 */
export function resizeReference(src: ArrayLike<number>, height: number, width: number, size: number): Float64Array {
  const sx = width / size;
  const sy = height / size;
  const a = [sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5];
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) out[y * size + x] = footprint(src, height, width, a, x, y, tapsFor(sx), tapsFor(sy));
  return out;
}

export interface ReferenceSettings {
  /** raw -> display: v * valueScale + valueOffset, clamped to [0, 1] when `clamp`. */
  valueScale: number;
  valueOffset: number;
  clamp: boolean;
  mean: number;
  std: number;
  seed: number;
  step: number;
}

export function gaussianWeights(sigma: number): Float64Array {
  const radius = Math.max(1, Math.min(24, Math.ceil(3 * sigma)));
  const w = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += w[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  return w.map((v) => v / total);
}

/** Standard normal of pixel `index` of a view, as the kernels draw it. */
export function pixelNormal(seed: number, step: number, key: number, view: number, index: number): number {
  const [a, b] = philox([index, view | (2 << 24), key, step], seed % TWO32, Math.floor(seed / TWO32));
  const u1 = ((a >>> 8) + 1) / 16777216;
  const u2 = (b >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** The view's output (before the output dtype cast) in float64, given its drawn parameters. */
export function renderViewReference(
  src: SourceArray,
  height: number,
  width: number,
  size: number,
  p: AugmentViewParams,
  s: ReferenceSettings,
): Float64Array {
  const shaded = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = footprint(src, height, width, p.affine, x, y, p.taps[0], p.taps[1]) * s.valueScale + s.valueOffset;
      if (s.clamp) v = Math.min(1, Math.max(0, v));
      if (p.intensity) {
        v = Math.min(1, Math.max(0, v * p.brightness));
        v = Math.min(1, Math.max(0, (v - 0.5) * p.contrast + 0.5));
        v = v ** p.gamma;
      }
      shaded[y * size + x] = v;
    }
  }
  let blurred = shaded;
  if (p.blurSigma > 0) {
    const w = gaussianWeights(p.blurSigma);
    const r = (w.length - 1) / 2;
    const rows = new Float64Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += w[k + r]! * shaded[y * size + reflect(x + k, size)]!;
        rows[y * size + x] = acc;
      }
    blurred = new Float64Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += w[k + r]! * rows[reflect(y + k, size) * size + x]!;
        blurred[y * size + x] = acc;
      }
  }
  const out = new Float64Array(size * size);
  for (let i = 0; i < out.length; i++) {
    let v = blurred[i]!;
    if (p.noiseStd > 0) v += p.noiseStd * pixelNormal(s.seed, s.step, p.key, p.view, i);
    out[i] = (v - s.mean) / s.std;
  }
  return out;
}

/** One-sample Kolmogorov-Smirnov statistic D of `samples` against `cdf`. */
export function ksStatistic(samples: readonly number[], cdf: (x: number) => number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]!);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Critical value of D at significance alpha for n samples (asymptotic Kolmogorov distribution). */
export function ksCritical(n: number, alpha = 0.001): number {
  return Math.sqrt(-0.5 * Math.log(alpha / 2)) / Math.sqrt(n);
}
