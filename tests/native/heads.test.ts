import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ShapeError,
  createHead,
  gelu,
  geluBackward,
  geluBackwardSync,
  geluSync,
  linearBackward,
  linearBackwardSync,
  linearForward,
  linearForwardSync,
} from '../../src/index.js';
import { expectAllWritten, expectClose, poisoned } from '../helpers/check.js';
import { erf } from '../helpers/erf.js';
import { randomFloats } from '../helpers/random.js';
import { geluGradRef, geluRef, linearBackwardRef, linearForwardRef, mlpForwardRef } from '../helpers/reference-heads.js';

// float32 kernels vs float64 references: normwise relative error. GEMMs sum up to ~1000
// products in float32, so 1e-5 of the largest output; elementwise GELU 1e-6.
const GEMM_TOL = 1e-5;
const GELU_TOL = 1e-6;

// [rows, in, out]: 1, 7, 129 and 1000 in every position, plus tile-boundary straddlers.
const shapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [7, 1, 129],
  [1, 129, 7],
  [129, 7, 1],
  [1000, 7, 3],
  [7, 1000, 129],
  [129, 129, 129],
  [97, 257, 130],
  [3, 65, 1000],
];

describe('linear layer (CPU)', () => {
  for (const [rows, inF, outF] of shapes) {
    it(`forward and backward match float64 at rows=${rows} in=${inF} out=${outF}`, async () => {
      const x = randomFloats(rows * inF, rows * 7 + inF);
      const w = randomFloats(outF * inF, outF * 13 + inF, 0.5);
      const b = randomFloats(outF, outF + 99);
      const dy = randomFloats(rows * outF, rows + outF * 3);
      const shape = { rows, inFeatures: inF, outFeatures: outF, backend: 'cpu' as const };
      const y = linearForwardSync(x, w, b, { ...shape, out: poisoned(rows * outF) });
      expectAllWritten(y, 'y');
      expectClose(y, linearForwardRef(x, w, b, rows, inF, outF), GEMM_TOL, 'Y');
      const ref = linearBackwardRef(x, w, dy, rows, inF, outF);
      const g = await linearBackward(x, w, dy, { ...shape, dx: poisoned(rows * inF), dw: poisoned(outF * inF), db: poisoned(outF) });
      for (const [name, got, want] of [['dx', g.dx!, ref.dx], ['dw', g.dw!, ref.dw], ['db', g.db!, ref.db]] as const) {
        expectAllWritten(got, name);
        expectClose(got, want, GEMM_TOL, name);
      }
      // The Promise form gives identical bits; no bias means Y = X . W^T.
      expect(Array.from(await linearForward(x, w, b, shape))).toEqual(Array.from(y));
      expectClose(linearForwardSync(x, w, undefined, shape), linearForwardRef(x, w, undefined, rows, inF, outF), GEMM_TOL, 'Y no bias');
    });
  }

  it('accumulates dW and db into existing buffers and computes only what is asked', () => {
    const [rows, inF, outF] = [33, 17, 5];
    const x = randomFloats(rows * inF, 1);
    const w = randomFloats(outF * inF, 2);
    const dy = randomFloats(rows * outF, 3);
    const dw0 = randomFloats(outF * inF, 4);
    const db0 = randomFloats(outF, 5);
    const dw = dw0.slice();
    const db = db0.slice();
    const g = linearBackwardSync(x, w, dy, { rows, inFeatures: inF, outFeatures: outF, dw, db, accumulate: true, backend: 'cpu' });
    expect(g.dx).toBeUndefined();
    const ref = linearBackwardRef(x, w, dy, rows, inF, outF);
    expectClose(dw, ref.dw.map((v, i) => v + dw0[i]!), GEMM_TOL, 'dW accumulated');
    expectClose(db, ref.db.map((v, i) => v + db0[i]!), GEMM_TOL, 'db accumulated');
    const only = linearBackwardSync(x, w, dy, { rows, inFeatures: inF, outFeatures: outF, dx: true, backend: 'cpu' });
    expect(Object.keys(only)).toEqual(['dx']);
    expectClose(only.dx!, ref.dx, GEMM_TOL, 'dX alone');
  });

  it('gives bias-only outputs for in = 0 and zero gradients for rows = 0', () => {
    const b = randomFloats(3, 1);
    const y = linearForwardSync(new Float32Array(0), new Float32Array(0), b, { rows: 2, inFeatures: 0, outFeatures: 3, backend: 'cpu' });
    expect(Array.from(y)).toEqual([...b, ...b]);
    const g = linearBackwardSync(new Float32Array(0), randomFloats(6, 2), new Float32Array(0), {
      rows: 0, inFeatures: 2, outFeatures: 3, dw: poisoned(6), db: poisoned(3), backend: 'cpu',
    });
    expect(Array.from(g.dw!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(g.db!)).toEqual([0, 0, 0]);
  });

  it('the float64 backward agrees with central finite differences', () => {
    const [rows, inF, outF] = [3, 4, 2];
    const x = Array.from(randomFloats(rows * inF, 5));
    const w = Array.from(randomFloats(outF * inF, 6));
    const b = Array.from(randomFloats(outF, 7));
    const c = Array.from(randomFloats(rows * outF, 8)); // loss = sum(c * Y)
    const loss = (xv: number[], wv: number[], bv: number[]) => linearForwardRef(xv, wv, bv, rows, inF, outF).reduce((s, y, i) => s + c[i]! * y, 0);
    const ref = linearBackwardRef(x, w, c, rows, inF, outF);
    const h = 1e-6;
    const fd = (v: number[], i: number, f: (p: number[]) => number) => {
      const plus = v.slice(); plus[i]! += h;
      const minus = v.slice(); minus[i]! -= h;
      return (f(plus) - f(minus)) / (2 * h);
    };
    x.forEach((_, i) => expect(fd(x, i, (p) => loss(p, w, b))).toBeCloseTo(ref.dx[i]!, 7));
    w.forEach((_, i) => expect(fd(w, i, (p) => loss(x, p, b))).toBeCloseTo(ref.dw[i]!, 7));
    b.forEach((_, i) => expect(fd(b, i, (p) => loss(x, w, p))).toBeCloseTo(ref.db[i]!, 7));
  });

  it('the kernel gradient agrees with finite differences of the kernel forward (float32, loose)', () => {
    const [rows, inF, outF] = [4, 6, 3];
    const x = randomFloats(rows * inF, 9);
    const w = randomFloats(outF * inF, 10);
    const b = randomFloats(outF, 11);
    const c = randomFloats(rows * outF, 12);
    const shape = { rows, inFeatures: inF, outFeatures: outF, backend: 'cpu' as const };
    const loss = (xv: Float32Array, wv: Float32Array) => linearForwardSync(xv, wv, b, shape).reduce((s, y, i) => s + c[i]! * y, 0);
    const g = linearBackwardSync(x, w, c, { ...shape, dx: true, dw: true });
    const h = 1e-2; // the loss is linear in each input, so a large step has no truncation error
    for (const [v, grad] of [[x, g.dx!], [w, g.dw!]] as const) {
      for (let i = 0; i < v.length; i++) {
        const plus = v.slice(); plus[i]! += h;
        const minus = v.slice(); minus[i]! -= h;
        const fd = v === x ? (loss(plus, w) - loss(minus, w)) / (2 * h) : (loss(x, plus) - loss(x, minus)) / (2 * h);
        expect(Math.abs(fd - grad[i]!)).toBeLessThan(2e-4);
      }
    }
  });

  it('rejects bad shapes and inputs with typed errors', () => {
    const x = randomFloats(6, 1);
    const w = randomFloats(6, 2);
    const shape = { rows: 2, inFeatures: 3, outFeatures: 2, backend: 'cpu' as const };
    expect(() => linearForwardSync(x, w.subarray(0, 5), undefined, shape)).toThrow(ShapeError);
    expect(() => linearForwardSync(x, w, randomFloats(3, 3), shape)).toThrow(/b has 3 elements, but \[outFeatures\] = \[2\] needs 2/);
    expect(() => linearForwardSync(x, w, undefined, { ...shape, rows: -1 })).toThrow(InvalidArgumentError);
    const bad = x.slice();
    bad[2] = Number.POSITIVE_INFINITY;
    expect(() => linearForwardSync(bad, w, undefined, shape)).toThrow(/x\[2\] is Infinity/);
    expect(() => linearBackwardSync(x, w, randomFloats(4, 4), { ...shape, dw: true, accumulate: true })).toThrow(/accumulate needs existing/);
    expect(() => linearBackwardSync(x, w, randomFloats(3, 4), { ...shape, dw: true })).toThrow(ShapeError);
  });

  it('rejects a bad shape and aliasing at the native boundary too', async () => {
    const { addon } = await import('../../src/native/addon.js');
    const shape = { rows: 2, inFeatures: 3, outFeatures: 2, backend: 'cpu' as const, async: false };
    expect(() => addon().linearForward(new Float32Array(5), new Float32Array(6), shape)).toThrow(
      /x has 5 elements but shape \[rows, in\] = \[2, 3\] needs 6/,
    );
    const x = new Float32Array(6);
    expect(() => addon().linearBackward(x, new Float32Array(6), new Float32Array(4), { ...shape, dx: x, accumulate: false })).toThrow(/x and dx share memory, and the op writes dx/);
    // Overlapping views of one buffer (gradients packed next to their inputs) are caught too.
    const flat = new Float32Array(20);
    expect(() => addon().linearBackward(flat.subarray(0, 6), flat.subarray(6, 12), flat.subarray(12, 16), { ...shape, dw: flat.subarray(10, 16), accumulate: false })).toThrow(/w and dw share memory, and the op writes dw/);
    expect(() => addon().linearForward(flat.subarray(0, 6), flat.subarray(6, 12), { ...shape, out: flat.subarray(4, 8) })).toThrow(/x and out share memory, and the op writes out/);
    // Disjoint views are fine.
    expect(() => addon().linearBackward(flat.subarray(0, 6), flat.subarray(6, 12), flat.subarray(12, 16), { ...shape, dw: new Float32Array(6), db: flat.subarray(16, 18), accumulate: false })).not.toThrow();
  });
});

describe('GELU (CPU)', () => {
  it('the float64 erf is accurate', () => {
    // Reference values of erf (Abramowitz & Stegun table 7.1 / high-precision tables).
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
    expect(erf(-1.5)).toBeCloseTo(-0.9661051464753108, 14);
  });

  for (const length of [1, 7, 129, 1000, 100_003]) {
    it(`forward and backward match float64 at length ${length}`, async () => {
      const x = randomFloats(length, length, 4);
      const dy = randomFloats(length, length + 1);
      const y = geluSync(x, { out: poisoned(length), backend: 'cpu' });
      expectAllWritten(y, 'y');
      expectClose(y, geluRef(x), GELU_TOL, 'gelu');
      const dx = await geluBackward(x, dy, { out: poisoned(length), backend: 'cpu' });
      expectAllWritten(dx, 'dx');
      expectClose(dx, geluGradRef(x, dy), GELU_TOL, 'geluBackward');
      expect(Array.from(await gelu(x, { backend: 'cpu' }))).toEqual(Array.from(y));
    });
  }

  it('the GELU derivative agrees with finite differences (reference and kernel)', () => {
    const x = randomFloats(50, 3, 4);
    const ones = new Float64Array(50).fill(1);
    const grad = geluGradRef(x, ones);
    const h = 1e-5;
    for (let i = 0; i < x.length; i++) {
      const fd = (geluRef([x[i]! + h])[0]! - geluRef([x[i]! - h])[0]!) / (2 * h);
      expect(fd).toBeCloseTo(grad[i]!, 8);
    }
    const kernelGrad = geluBackwardSync(x, new Float32Array(50).fill(1), { backend: 'cpu' });
    const hf = 1e-2;
    for (let i = 0; i < x.length; i++) {
      const up = geluSync(Float32Array.of(x[i]! + hf), { backend: 'cpu' })[0]!;
      const down = geluSync(Float32Array.of(x[i]! - hf), { backend: 'cpu' })[0]!;
      // Central difference error ~ h^2 |f'''| / 6 < 1e-4 here.
      expect(Math.abs((up - down) / (2 * hf) - kernelGrad[i]!)).toBeLessThan(2e-4);
    }
  });

  it('rejects mismatched lengths', () => {
    expect(() => geluBackwardSync(randomFloats(3, 1), randomFloats(4, 2), { backend: 'cpu' })).toThrow(ShapeError);
  });
});

describe('heads (createHead: the Head the trainer uses, with parameters of its own)', () => {
  it('MLP head: layout, views, deterministic init, forward matches float64', () => {
    const [inF, hidden, outF, n] = [13, 33, 5, 9];
    const head = createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: outF, seed: 7 });
    const params = head.params;
    expect(params.length).toBe(hidden * inF + hidden + outF * hidden + outF);
    expect(params.entries.map((e) => [e.name, e.offset, e.length])).toEqual([
      ['head.fc1.weight', 0, hidden * inF], ['head.fc1.bias', hidden * inF, hidden],
      ['head.fc2.weight', hidden * inF + hidden, outF * hidden], ['head.fc2.bias', hidden * inF + hidden + outF * hidden, outF],
    ]);
    const w1 = params.view('head.fc1.weight');
    expect(w1.buffer).toBe(params.data.buffer);
    expect(w1.every((v) => Math.abs(v) <= 1 / Math.sqrt(inF))).toBe(true);
    expect(new Set(w1).size).toBeGreaterThan(hidden * inF - 5);
    expect(params.view('head.fc1.bias').every((v) => v === 0)).toBe(true);
    expect(Array.from(createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: outF, seed: 7 }).params.data)).toEqual(Array.from(params.data));
    expect(Array.from(createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: outF, seed: 8 }).params.data)).not.toEqual(Array.from(params.data));
    expect(params.decayMask('main').reduce((a, b) => a + b, 0)).toBe(hidden * inF + outF * hidden);
    params.data.set(randomFloats(params.length, 2)); // non-zero biases too
    const x = randomFloats(n * inF, 3);
    expectClose(head.forward(x, n), mlpForwardRef(params.data, x, n, inF, hidden, outF), GEMM_TOL, 'MLP forward');
  });

  it('MLP head backward matches finite differences of the float64 forward (every parameter and the input)', () => {
    const [inF, hidden, outF, n] = [4, 6, 3, 5];
    const head = createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: outF, seed: 3 });
    head.params.data.set(randomFloats(head.params.length, 9));
    const x = randomFloats(n * inF, 4);
    const c = randomFloats(n * outF, 5); // loss = sum(c * Y)
    head.forward(x, n);
    head.params.zeroGrad();
    const dx = head.backward(c, { inputGrad: true });
    const params = Array.from(head.params.data);
    const xs = Array.from(x);
    const loss = (p: number[], xv: number[]) => mlpForwardRef(p, xv, n, inF, hidden, outF).reduce((s, y, i) => s + c[i]! * y, 0);
    const h = 1e-6;
    const fdParams = params.map((_, i) => {
      const plus = params.slice(); plus[i]! += h;
      const minus = params.slice(); minus[i]! -= h;
      return (loss(plus, xs) - loss(minus, xs)) / (2 * h);
    });
    expectClose(head.params.grad, fdParams, 1e-5, 'MLP parameter gradients');
    const fdX = xs.map((_, i) => {
      const plus = xs.slice(); plus[i]! += h;
      const minus = xs.slice(); minus[i]! -= h;
      return (loss(params, plus) - loss(params, minus)) / (2 * h);
    });
    expectClose(dx, fdX, 1e-5, 'MLP input gradient');
    // backward accumulates
    const before = head.params.grad.slice();
    head.forward(x, n);
    head.backward(c);
    expectClose(head.params.grad, before.map((v) => 2 * v), 1e-6, 'accumulated gradients');
  });

  it('linear head, and bad input', () => {
    const head = createHead({ inFeatures: 7, outFeatures: 3, seed: 1 });
    expect(head.params.length).toBe(24);
    head.params.data.set(randomFloats(24, 6));
    const x = randomFloats(14, 2);
    const y = head.forward(x, 2);
    expectClose(y, linearForwardRef(x, head.params.view('head.fc.weight'), head.params.view('head.fc.bias'), 2, 7, 3), GEMM_TOL, 'linear head');
    head.backward(randomFloats(6, 3));
    expect(head.params.grad.some((v) => v !== 0)).toBe(true);
    expect(() => head.forward(x, 3)).toThrow(/x has 14 elements, but \[rows, inFeatures\] = \[3, 7\] needs 21/);
    head.forward(x, 2);
    expect(() => head.backward(randomFloats(3, 4))).toThrow(ShapeError);
    expect(() => createHead({ inFeatures: 0, outFeatures: 3, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => createHead({ kind: 'mlp', inFeatures: 4, outFeatures: 3, seed: 1 })).toThrow(/hidden must be a positive integer/);
    expect(() => createHead({ inFeatures: 2 ** 20, outFeatures: 2 ** 20, seed: 1 })).toThrow(ShapeError);
    expect(() => createHead({ kind: 'mlp', inFeatures: 2, hidden: 2, outFeatures: 2, seed: 1 }).backward(new Float32Array(2))).toThrow(/before forward/);
  });
});
