/**
 * Separable antialiased resampling of float images (H×W×C interleaved).
 * Downscaling widens the kernel by the scale factor (as PIL and libvips do), so
 * each output pixel averages the whole input footprint it covers: plain bilinear
 * sampling on 3000→512 would skip most pixels and alias fine structure.
 *
 * Filters: 'area' (box over the footprint, i.e. pixel averaging), 'triangle'
 * (antialiased bilinear), 'lanczos3'. Weights are precomputed once per axis.
 */
import { InvalidArgumentError, ShapeError } from '../../errors.js';

export type ResizeFilter = 'area' | 'triangle' | 'lanczos3';

interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
}

const FILTERS: Record<ResizeFilter, { support: number; fn: (x: number) => number }> = {
  area: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  triangle: { support: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
  lanczos3: {
    support: 3,
    fn: (x) => {
      if (x === 0) return 1;
      if (x <= -3 || x >= 3) return 0;
      const px = Math.PI * x;
      return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    },
  },
};

function axisWeights(inSize: number, outSize: number, filter: ResizeFilter): AxisWeights {
  const { support, fn } = FILTERS[filter];
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const radius = support * stretch;
  const taps = Math.ceil(radius) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - radius));
    const hi = Math.min(inSize, Math.ceil(center + radius));
    let sum = 0;
    const n = Math.min(taps, hi - lo);
    for (let k = 0; k < n; k++) {
      const w = fn((lo + k + 0.5 - center) / stretch);
      weights[o * taps + k] = w;
      sum += w;
    }
    if (sum === 0) {
      weights[o * taps] = 1;
      sum = 1;
    } // degenerate box edge: nearest
    for (let k = 0; k < n; k++) weights[o * taps + k]! /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, taps };
}

/** Resizes `src` (rows×columns×channels, interleaved) to outRows×outColumns. */
export function resizeImage(
  src: Float32Array,
  rows: number,
  columns: number,
  channels: number,
  outRows: number,
  outColumns: number,
  filter: ResizeFilter = 'triangle',
): Float32Array {
  if (src.length !== rows * columns * channels) {
    throw new ShapeError(`resize input has ${src.length} values, expected ${rows}x${columns}x${channels}`);
  }
  if (!(outRows >= 1 && outColumns >= 1 && Number.isInteger(outRows) && Number.isInteger(outColumns))) {
    throw new InvalidArgumentError(`resize output must be positive integers, got ${outRows}x${outColumns}`);
  }
  if (!(filter in FILTERS)) throw new InvalidArgumentError(`unknown resize filter '${filter}'`);
  if (outRows === rows && outColumns === columns) return src.slice();
  // Horizontal pass first: it shrinks every row before the vertical pass touches it.
  const h = axisWeights(columns, outColumns, filter);
  const mid = new Float32Array(rows * outColumns * channels);
  for (let r = 0; r < rows; r++) {
    const rowIn = r * columns * channels;
    const rowOut = r * outColumns * channels;
    for (let o = 0; o < outColumns; o++) {
      const s = h.start[o]!,
        n = h.count[o]!,
        wBase = o * h.taps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += src[rowIn + (s + k) * channels + c]! * h.weights[wBase + k]!;
        mid[rowOut + o * channels + c] = acc;
      }
    }
  }
  const v = axisWeights(rows, outRows, filter);
  const out = new Float32Array(outRows * outColumns * channels);
  const rowLength = outColumns * channels;
  for (let o = 0; o < outRows; o++) {
    const s = v.start[o]!,
      n = v.count[o]!,
      wBase = o * v.taps;
    const dst = o * rowLength;
    for (let k = 0; k < n; k++) {
      const w = v.weights[wBase + k]!;
      const srcRow = (s + k) * rowLength;
      for (let i = 0; i < rowLength; i++) out[dst + i]! += mid[srcRow + i]! * w;
    }
  }
  return out;
}

export type ResizeFit = 'shortSide' | 'squarePad' | 'squareStretch';

/** Output shape for a target size: short side = size keeping aspect, or size×size. */
export function targetShape(rows: number, columns: number, size: number, fit: ResizeFit): [number, number] {
  if (fit === 'squareStretch') return [size, size];
  if (fit === 'squarePad') {
    const scale = size / Math.max(rows, columns);
    return [Math.max(1, Math.round(rows * scale)), Math.max(1, Math.round(columns * scale))];
  }
  const scale = size / Math.min(rows, columns);
  return [Math.max(1, Math.round(rows * scale)), Math.max(1, Math.round(columns * scale))];
}

/** Centers `img` on a size×size canvas of zeros (letterbox), keeping aspect. */
export function padToSquare(img: Float32Array, rows: number, columns: number, channels: number, size: number): Float32Array {
  const out = new Float32Array(size * size * channels);
  const top = Math.floor((size - rows) / 2);
  const left = Math.floor((size - columns) / 2);
  for (let r = 0; r < rows; r++) {
    out.set(img.subarray(r * columns * channels, (r + 1) * columns * channels), ((top + r) * size + left) * channels);
  }
  return out;
}
