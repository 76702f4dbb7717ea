import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { PrivateFeeds } from '../../../src/onnx/autodiff/training-io.js';
import type { TensorLike } from '../../../src/onnx/tensor.js';

const sharedOf = <T extends Float32Array | BigInt64Array>(Typed: new (b: SharedArrayBuffer) => T, values: T): T => {
  const out = new Typed(new SharedArrayBuffer(values.byteLength));
  (out as Float32Array).set(values as Float32Array);
  return out;
};

describe('PrivateFeeds (what onnxruntime is fed from shared memory)', () => {
  it('copies a shared feed into a private buffer it reuses, and passes other feeds through untouched', () => {
    const feeds = new PrivateFeeds();
    const batch = sharedOf(
      Float32Array,
      Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3),
    );
    const plain: TensorLike = { type: 'float32', data: Float32Array.of(1, 2), dims: [2] };
    const tensor = new ort.Tensor('float32', Float32Array.of(4), [1]);
    const first = feeds.of({ image: { type: 'float32', data: batch.subarray(12, 24), dims: [3, 4] }, plain, tensor });
    const image = first.image as TensorLike;
    expect(image.data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(Array.from(image.data as Float32Array)).toEqual(Array.from(batch.subarray(12, 24)));
    expect(image.dims).toEqual([3, 4]);
    expect(first.plain).toBe(plain);
    expect(first.tensor).toBe(tensor);
    // the next chunk of the same input lands in the same buffer; a smaller one in a view of it
    const second = feeds.of({ image: { type: 'float32', data: batch.subarray(0, 8), dims: [2, 4] } }).image as TensorLike;
    expect(second.data.buffer).toBe(image.data.buffer);
    expect(Array.from(second.data as Float32Array)).toEqual(Array.from(batch.subarray(0, 8)));
    // a larger one, or another element type under the same name, gets a new buffer
    const larger = feeds.of({ image: { type: 'float32', data: batch, dims: [6, 4] } }).image as TensorLike;
    expect(larger.data.length).toBe(24);
    expect(Array.from(larger.data as Float32Array)).toEqual(Array.from(batch));
    const ids = sharedOf(BigInt64Array, BigInt64Array.of(5n, 6n, 7n));
    const tokens = feeds.of({ image: { type: 'int64', data: ids, dims: [3] } }).image as TensorLike;
    expect(tokens.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(tokens.data as BigInt64Array)).toEqual([5n, 6n, 7n]);
  });
});
