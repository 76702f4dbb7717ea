import type { TensorLike } from '../onnx/tensor.js';
import { EncoderInputError } from './errors.js';

/** How an encoder output with more than two dimensions becomes one vector per item. */
export type Pooling = 'none' | 'cls' | 'mean';

/** Throws unless `pooling` is one of the Pooling values (it may come from untyped config). */
export function checkPooling(pooling: string): asserts pooling is Pooling {
  if (!['none', 'cls', 'mean'].includes(pooling))
    throw new EncoderInputError(`pooling must be 'none', 'cls' or 'mean', got ${String(pooling)}`);
}

/**
 * Pools a float32 model output per item:
 * [n, D] passes through; [n, T, D] takes token 0 ('cls') or the mean over tokens ('mean', over
 * positions where `mask` is non-zero when a mask [n, T] is given); [n, C, ...spatial] takes the
 * spatial mean ('mean'). 'none' returns the output unchanged.
 */
export function poolOutput(
  out: TensorLike,
  pooling: Pooling,
  outputName: string,
  mask?: BigInt64Array,
): { data: Float32Array; dims: number[] } {
  if (out.type !== 'float32')
    throw new EncoderInputError(`output ${outputName} is ${out.type}; encoders return float32 embeddings`, { outputName });
  const data = out.data as Float32Array;
  const dims = [...out.dims];
  if (pooling === 'none' || dims.length <= 2) return { data, dims };
  const n = dims[0]!;
  if (dims.length === 3) {
    const [, t, d] = dims as [number, number, number];
    const pooled = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      if (pooling === 'cls') {
        pooled.set(data.subarray(i * t * d, i * t * d + d), i * d);
        continue;
      }
      let count = 0;
      for (let j = 0; j < t; j++) {
        if (mask && mask[i * t + j] === 0n) continue;
        count++;
        const row = (i * t + j) * d;
        for (let k = 0; k < d; k++) pooled[i * d + k]! += data[row + k]!;
      }
      const inv = 1 / Math.max(count, 1);
      for (let k = 0; k < d; k++) pooled[i * d + k]! *= inv;
    }
    return { data: pooled, dims: [n, d] };
  }
  if (pooling === 'cls')
    throw new EncoderInputError(
      `output ${outputName} has dims ${JSON.stringify(dims)} (a feature map); use pooling 'mean' or 'none', not 'cls'`,
      { outputName, dims },
    );
  const c = dims[1]!;
  const spatial = dims.slice(2).reduce((a, b) => a * b, 1);
  const pooled = new Float32Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let s = 0;
    for (let j = 0; j < spatial; j++) s += data[p * spatial + j]!;
    pooled[p] = s / spatial;
  }
  return { data: pooled, dims: [n, c] };
}

/** Per-item dims of the pooled output from the model's declared output shape, when they are static. */
export function pooledItemDims(shape: readonly (number | string)[], pooling: Pooling): number[] | undefined {
  let item = shape.slice(1);
  if (pooling !== 'none' && shape.length === 3) item = item.slice(1);
  else if (pooling === 'mean' && shape.length > 3) item = item.slice(0, 1);
  return item.every((d): d is number => typeof d === 'number' && d >= 0) ? item : undefined;
}
