import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ShapeError,
  l2Normalize,
  l2NormalizeBackward,
  l2NormalizeBackwardSync,
  l2NormalizeSync,
  similarity,
  similaritySync,
} from '../../src/index.js';
import { expectAllWritten, expectClose, poisoned } from '../helpers/check.js';
import { randomFloats } from '../helpers/random.js';
import { l2NormalizeBackwardRef, l2NormalizeRef, similarityRef } from '../helpers/reference.js';

// float32 kernels against float64 references: normwise relative error <= 1e-5.
const FLOAT32_TOLERANCE = 1e-5;

const shapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 7, 3],
  [7, 1, 64],
  [7, 129, 257],
  [129, 7, 3],
  [129, 129, 1],
  [1000, 7, 257],
  [1000, 1000, 3],
  [33, 1000, 65],
  [130, 67, 129],
];

describe('similarity (CPU)', () => {
  for (const [n, m, d] of shapes) {
    it(`matches the float64 reference at n=${n} m=${m} d=${d}`, () => {
      const a = randomFloats(n * d, n * 31 + d);
      const b = randomFloats(m * d, m * 17 + d + 1);
      const scale = 1.7;
      const out = poisoned(n * m);
      const s = similaritySync(a, b, { n, m, d, scale, out, backend: 'cpu' });
      expect(s).toBe(out);
      expectAllWritten(s, 'S');
      expectClose(s, similarityRef(a, b, n, m, d, scale), FLOAT32_TOLERANCE, `similarity ${n}x${m}x${d}`);
    });
  }

  it('runs off the event loop and gives the same numbers', async () => {
    const [n, m, d] = [129, 257, 64];
    const a = randomFloats(n * d, 5);
    const b = randomFloats(m * d, 6);
    const sync = similaritySync(a, b, { n, m, d, backend: 'cpu' });
    const async = await similarity(a, b, { n, m, d, backend: 'cpu' });
    expect(Array.from(async)).toEqual(Array.from(sync));
  });

  it('gives an empty matrix for empty inputs and zeros for d = 0', () => {
    expect(similaritySync(new Float32Array(0), new Float32Array(6), { n: 0, m: 2, d: 3, backend: 'cpu' }).length).toBe(0);
    const s = similaritySync(new Float32Array(0), new Float32Array(0), { n: 2, m: 3, d: 0, backend: 'cpu' });
    expect(Array.from(s)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects wrong lengths with a ShapeError naming both shapes', () => {
    const a = randomFloats(10, 1);
    const b = randomFloats(12, 2);
    let error: unknown;
    try {
      similaritySync(a, b, { n: 2, m: 3, d: 5, backend: 'cpu' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as ShapeError).code).toBe('ERR_SHAPE');
    expect((error as Error).message).toMatch(/b has 12 elements, but \[m, d\] = \[3, 5\] needs 15/);
    expect(() => similaritySync(a, b.subarray(0, 10), { n: 2, m: 2, d: 5, out: new Float32Array(3), backend: 'cpu' })).toThrow(
      /out has 3 elements/,
    );
  });

  it('rejects negative or fractional sizes, NaN scale and NaN inputs', () => {
    const a = randomFloats(6, 1);
    expect(() => similaritySync(a, a, { n: -2, m: 2, d: 3, backend: 'cpu' })).toThrow(InvalidArgumentError);
    expect(() => similaritySync(a, a, { n: 2.5, m: 2, d: 3, backend: 'cpu' })).toThrow(InvalidArgumentError);
    expect(() => similaritySync(a, a, { n: 2, m: 2, d: 3, scale: Number.NaN, backend: 'cpu' })).toThrow(/scale must be a finite number/);
    const bad = randomFloats(6, 2);
    bad[4] = Number.NaN;
    expect(() => similaritySync(bad, a, { n: 2, m: 2, d: 3, backend: 'cpu' })).toThrow(/a\[4\] is NaN/);
    expect(() => similaritySync([1, 2] as unknown as Float32Array, a, { n: 2, m: 2, d: 1, backend: 'cpu' })).toThrow(
      /must be a Float32Array/,
    );
  });

  it('rejects a bad shape at the native boundary too (typed error, no crash)', async () => {
    const { addon } = await import('../../src/native/addon.js');
    const options = { n: 2, m: 2, d: 3, scale: 1, backend: 'cpu' as const, async: false };
    expect(() => addon().similarity(new Float32Array(4), new Float32Array(4), options)).toThrow(
      /a has 4 elements but shape \[n, d\] = \[2, 3\] needs 6/,
    );
    expect(() => addon().similarity(new Float32Array(6), new Float32Array(6), { ...options, n: -1 })).toThrow(/n must be a non-negative integer/);
    expect(() => addon().similarity(new Float32Array(6), new Float32Array(6), { ...options, backend: 'gpu' as 'cpu' })).toThrow(/backend must be 'cpu' or 'cuda'/);
  });

  it('reads every option before touching an operand: a getter that detaches one is refused, not read after it is freed', async () => {
    const { addon } = await import('../../src/native/addon.js');
    const a = new Float32Array(6);
    const options = {
      n: 2, m: 2, d: 3, scale: 1, backend: 'cpu' as const, async: false,
      get out() {
        structuredClone(a.buffer, { transfer: [a.buffer] });
        return undefined;
      },
    };
    expect(() => addon().similarity(a, new Float32Array(6), options)).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_DETACHED' }));
  });
});

describe('l2Normalize (CPU)', () => {
  for (const [rows, dim] of [[1, 1], [7, 3], [129, 257], [1000, 64], [3, 1000]] as const) {
    it(`forward and backward match float64 at rows=${rows} dim=${dim}`, async () => {
      const x = randomFloats(rows * dim, rows + dim, 3);
      const g = randomFloats(rows * dim, rows * dim + 7);
      const y = l2NormalizeSync(x, { rows, dim, out: poisoned(rows * dim), backend: 'cpu' });
      expectAllWritten(y, 'y');
      expectClose(y, l2NormalizeRef(x, rows, dim), FLOAT32_TOLERANCE, 'l2Normalize');
      const dx = await l2NormalizeBackward(x, g, { rows, dim, out: poisoned(rows * dim), backend: 'cpu' });
      expectAllWritten(dx, 'dx');
      // The gradient's scale is |g| / |x| (|x| >= 1e-3 here); with dim = 1 it cancels to ~0.
      expectClose(dx, l2NormalizeBackwardRef(x, g, rows, dim), FLOAT32_TOLERANCE, 'l2NormalizeBackward', 1);
      expect(Array.from(await l2Normalize(x, { rows, dim, backend: 'cpu' }))).toEqual(Array.from(y));
    });
  }

  it('the float64 backward formula agrees with central finite differences', () => {
    const rows = 3;
    const dim = 5;
    const x = Array.from(randomFloats(rows * dim, 11));
    const w = Array.from(randomFloats(rows * dim, 12));
    const loss = (v: number[]) => l2NormalizeRef(v, rows, dim).reduce((s, y, i) => s + y * w[i]!, 0);
    const analytic = l2NormalizeBackwardRef(x, w, rows, dim);
    const h = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const plus = [...x];
      const minus = [...x];
      plus[i]! += h;
      minus[i]! -= h;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
    }
  });

  it('maps zero rows to zero and scales their gradient by 1/eps (torch semantics)', () => {
    const x = new Float32Array([0, 0, 0, 3, 4, 0]);
    const y = l2NormalizeSync(x, { rows: 2, dim: 3, backend: 'cpu' });
    expect(Array.from(y)).toEqual([0, 0, 0, 0.6000000238418579, 0.800000011920929, 0]);
    const g = new Float32Array([1e-12, -2e-12, 0, 1, 1, 1]);
    const dx = l2NormalizeBackwardSync(x, g, { rows: 2, dim: 3, backend: 'cpu' });
    expect(dx[0]).toBeCloseTo(1, 5);
    expect(dx[1]).toBeCloseTo(-2, 5);
    expect(dx[2]).toBe(0);
  });

  it('rejects mismatched gradient shapes', () => {
    expect(() => l2NormalizeBackwardSync(randomFloats(6, 1), randomFloats(5, 2), { rows: 2, dim: 3, backend: 'cpu' })).toThrow(
      ShapeError,
    );
  });
});
