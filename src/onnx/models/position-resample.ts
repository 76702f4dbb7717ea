/**
 * Learned ViT position embeddings at another patch grid: the embeddings stay a parameter of the
 * reference grid and are resampled inside the graph by a constant matrix, so one flat parameter
 * buffer serves graphs of several input sizes (DINO's local crops). The resampling is bilinear with
 * torch's F.interpolate(mode='bilinear', align_corners=False, antialias=False) semantics when the
 * output size is given (DINOv2 uses bicubic; bilinear keeps every weight non-negative, so a
 * resampled embedding never overshoots the reference values).
 */
import { InvalidArgumentError } from '../../errors.js';
import type { GraphBuilder, Value } from '../graph-builder.js';

export type Grid = readonly [height: number, width: number];

/** 1-D linear interpolation weights [outSize, inSize], half-pixel centres, source clamped at 0. */
export function linearResampleWeights(inSize: number, outSize: number): Float64Array {
  const w = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    // torch: src = scale * (dst + 0.5) - 0.5, negative sources clamp to 0 for the linear modes
    const src = Math.max(0, scale * (o + 0.5) - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const t = src - i0;
    w[o * inSize + i0] += 1 - t;
    w[o * inSize + i1] += t;
  }
  return w;
}

/**
 * M [to.h * to.w, from.h * from.w] with resampled = M @ grid for a row-major grid of vectors:
 * the outer product of the row and column weights.
 */
export function bilinearResampleMatrix(from: Grid, to: Grid): Float64Array {
  for (const [v, name] of [
    [from[0], 'from height'],
    [from[1], 'from width'],
    [to[0], 'to height'],
    [to[1], 'to width'],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new InvalidArgumentError(`position resampling: ${name} must be a positive integer, got ${v}`, { field: name, value: v });
  }
  const wy = linearResampleWeights(from[0], to[0]);
  const wx = linearResampleWeights(from[1], to[1]);
  const inCount = from[0] * from[1];
  const m = new Float64Array(to[0] * to[1] * inCount);
  for (let oy = 0; oy < to[0]; oy++) {
    for (let ox = 0; ox < to[1]; ox++) {
      const row = (oy * to[1] + ox) * inCount;
      for (let iy = 0; iy < from[0]; iy++) {
        const a = wy[oy * from[0] + iy]!;
        if (a === 0) continue;
        for (let ix = 0; ix < from[1]; ix++) m[row + iy * from[1] + ix] = a * wx[ox * from[1] + ix]!;
      }
    }
  }
  return m;
}

/**
 * `pos` [1, 1 + from.h * from.w, dim] (CLS first) -> [1, 1 + to.h * to.w, dim]: the CLS position
 * unchanged, the patch positions multiplied by the constant bilinear matrix (so the gradient
 * reaches `pos` through an ordinary MatMul).
 */
export function resamplePositions(g: GraphBuilder, pos: Value, dim: number, from: Grid, to: Grid): Value {
  const fromCount = from[0] * from[1];
  const toCount = to[0] * to[1];
  const m = g.constant(Float32Array.from(bilinearResampleMatrix(from, to)), [toCount, fromCount], 'pos_resample');
  const cls = g.slice(pos, [0], [1], [1]);
  const patches = g.reshape(g.slice(pos, [1], [fromCount + 1], [1]), [fromCount, dim]);
  const resampled = g.reshape(g.matMul(m, patches), [1, toCount, dim]);
  return g.concat([cls, resampled], 1);
}
