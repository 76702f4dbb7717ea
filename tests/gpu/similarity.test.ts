import { afterAll, describe, expect, it } from 'vitest';
import { DeviceTensor, l2Normalize, l2NormalizeBackward, similarity, similaritySync, TensorInUseError } from '../../src/index.js';
import { expectAllWritten, expectClose } from '../helpers/check.js';
import { cuda } from '../helpers/gpu.js';
import { randomFloats } from '../helpers/random.js';
import { l2NormalizeBackwardRef, l2NormalizeRef, similarityRef } from '../helpers/reference.js';

// CUDA float32 (FFMA, different summation order) against float64 and against the CPU kernel.
const FLOAT32_TOLERANCE = 1e-5;

describe.skipIf(!cuda.available)('similarity on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  afterAll(() => tensors.forEach((t) => t.dispose()));

  for (const [n, m, d] of [
    [1, 1, 1],
    [7, 129, 3],
    [129, 7, 257],
    [1000, 1000, 64],
    [1000, 33, 257],
  ] as const) {
    it(`matches CPU and float64 at n=${n} m=${m} d=${d} (device tensors and staged host arrays)`, async () => {
      const a = randomFloats(n * d, n + d);
      const b = randomFloats(m * d, m + 2 * d);
      const reference = similarityRef(a, b, n, m, d, 0.5);
      const cpu = similaritySync(a, b, { n, m, d, scale: 0.5, backend: 'cpu' });
      const staged = await similarity(a, b, { n, m, d, scale: 0.5, backend: 'cuda' });
      const da = DeviceTensor.upload(a, [n, d]);
      const db = DeviceTensor.upload(b, [m, d]);
      const out = DeviceTensor.upload(new Float32Array(n * m).fill(Number.NaN), [n, m]);
      tensors.push(da, db, out);
      const onDevice = await similarity(da, db, { n, m, d, scale: 0.5, out });
      expect(onDevice).toBe(out);
      const downloaded = out.download() as Float32Array;
      expectAllWritten(downloaded, 'S');
      expectClose(downloaded, reference, FLOAT32_TOLERANCE, 'cuda vs float64');
      expectClose(staged, cpu, FLOAT32_TOLERANCE, 'cuda (staged) vs cpu');
    });
  }

  it('l2Normalize forward and backward on the device match float64', async () => {
    const [rows, dim] = [1000, 257];
    const x = randomFloats(rows * dim, 3, 2);
    const g = randomFloats(rows * dim, 4);
    const dx = DeviceTensor.upload(x, [rows, dim]);
    const dg = DeviceTensor.upload(g, [rows, dim]);
    tensors.push(dx, dg);
    const y = await l2Normalize(dx, { rows, dim });
    const grad = await l2NormalizeBackward(dx, dg, { rows, dim });
    tensors.push(y, grad);
    expectClose(y.download() as Float32Array, l2NormalizeRef(x, rows, dim), FLOAT32_TOLERANCE, 'l2Normalize');
    expectClose(grad.download() as Float32Array, l2NormalizeBackwardRef(x, g, rows, dim), FLOAT32_TOLERANCE, 'backward', 1);
  });

  it('dispose() refuses while an async op holds the tensor, and works once it has finished', async () => {
    const [n, d] = [2048, 512];
    const da = DeviceTensor.upload(randomFloats(n * d, 21), [n, d]);
    const db = DeviceTensor.upload(randomFloats(n * d, 22), [n, d]);
    const pending = similarity(da, db, { n, m: n, d, scale: 1 });
    expect(() => da.dispose()).toThrow(TensorInUseError);
    expect(da.disposed).toBe(false);
    const out = await pending;
    // the result was an operand of the op too; all three are free now
    for (const t of [da, db, out]) t.dispose();
    expect(da.disposed && db.disposed && out.disposed).toBe(true);
    // a synchronous op releases its operands before it returns
    const dc = DeviceTensor.upload(randomFloats(64 * 8, 23), [64, 8]);
    const s = similaritySync(dc, dc, { n: 64, m: 64, d: 8, scale: 1 });
    dc.dispose();
    s.dispose();
  });

  it('half-precision uploads round-trip within their precision', () => {
    const x = randomFloats(1001, 9);
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const t = DeviceTensor.upload(x, [1001], dtype);
      tensors.push(t);
      expectClose(t.download() as Float32Array, x, dtype === 'float16' ? 1e-3 : 1e-2, dtype);
    }
  });
});
