import { describe, expect, it } from 'vitest';
import { Sfc32 } from '../../../src/random/index.js';
import { type Nd, broadcast, erf, expectClose, map, randn, runGraph, strides, unravel } from './helpers.js';
import { alongAxis, conv2d, matmul, pool2d, reduce, softmaxLine, transpose } from './reference.js';

// Every op helper of GraphBuilder, run in onnxruntime-node, against a float64 TypeScript reference
// on seeded random inputs with awkward sizes.
const rng = new Sfc32(20261123);

describe('elementwise ops', () => {
  const a = randn(rng, [3, 1, 5]);
  const b = randn(rng, [4, 1]);
  const cases: [string, (x: number, y: number) => number][] = [
    ['add', (x, y) => x + y],
    ['sub', (x, y) => x - y],
    ['mul', (x, y) => x * y],
    ['div', (x, y) => x / y],
  ];
  for (const [op, f] of cases) {
    it(`${op} broadcasts [3,1,5] with [4,1]`, async () => {
      const [y] = await runGraph({ a, b }, (g, v) =>
        (g as unknown as Record<string, (p: unknown, q: unknown) => never>)[op]!.call(g, v.a, v.b),
      );
      expectClose(y!, broadcast(a, b, f));
    });
  }

  it('pow with a positive base', async () => {
    const base = map(randn(rng, [2, 7]), (v) => Math.abs(v) + 0.1);
    const e = randn(rng, [7]);
    const [y] = await runGraph({ base, e }, (g, v) => g.pow(v.base!, v.e!));
    expectClose(y!, broadcast(base, e, Math.pow), 2e-5);
  });

  const unary: [string, (x: number) => number, (x: number) => number][] = [
    ['relu', (x) => Math.max(0, x), (x) => x],
    ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), (x) => x],
    ['tanh', Math.tanh, (x) => x],
    ['erf', erf, (x) => x],
    ['exp', Math.exp, (x) => x],
    ['neg', (x) => -x, (x) => x],
    ['identity', (x) => x, (x) => x],
    ['sqrt', Math.sqrt, (x) => Math.abs(x) + 0.01],
    ['log', Math.log, (x) => Math.abs(x) + 0.01],
    ['gelu', (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), (x) => 3 * x],
  ];
  for (const [op, f, domain] of unary) {
    it(`${op} on [2,3,7]`, async () => {
      const x = map(randn(rng, [2, 3, 7]), domain);
      const [y] = await runGraph({ x }, (g, v) => (g as unknown as Record<string, (p: unknown) => never>)[op]!.call(g, v.x));
      expectClose(y!, map(x, f), 2e-6);
    });
  }

  it('where/equal/cast select by a computed condition', async () => {
    const x = randn(rng, [4, 5]);
    const [y] = await runGraph({ x }, (g, v) => {
      const positive = g.cast(g.cast(g.relu(g.sigmoid(v.x!)), 'bool'), 'bool');
      const isZero = g.equal(g.relu(v.x!), g.scalar(0));
      return g.where(isZero, g.neg(v.x!), g.mul(v.x!, g.cast(positive, 'float32')));
    });
    expectClose(
      y!,
      map(x, (v) => Math.abs(v)),
    );
  });
});

describe('linear algebra', () => {
  it('matMul with batch broadcasting [2,3,4,5] x [5,6]', async () => {
    const a = randn(rng, [2, 3, 4, 5]);
    const b = randn(rng, [5, 6]);
    const [y] = await runGraph({ a, b }, (g, v) => g.matMul(v.a!, v.b!));
    expectClose(y!, matmul(a, b));
  });

  it('gemm with transA, transB, alpha, beta and a broadcast bias', async () => {
    const a = randn(rng, [5, 3]);
    const b = randn(rng, [7, 5]);
    const c = randn(rng, [7]);
    const [y] = await runGraph({ a, b, c }, (g, v) => g.gemm(v.a!, v.b!, v.c!, { transA: true, transB: true, alpha: 0.7, beta: -1.3 }));
    const ab = matmul(transpose(a, [1, 0]), transpose(b, [1, 0]));
    expectClose(
      y!,
      broadcast(ab, c, (p, q) => 0.7 * p - 1.3 * q),
    );
  });
});

describe('convolution, normalisation, pooling', () => {
  it('conv with groups, strides, asymmetric pads and dilations', async () => {
    const x = randn(rng, [2, 4, 11, 9]);
    const w = randn(rng, [6, 2, 3, 2]);
    const b = randn(rng, [6]);
    const o = { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2 };
    const [y] = await runGraph({ x, w, b }, (g, v) => g.conv(v.x!, v.w!, v.b!, o));
    expectClose(y!, conv2d(x, w, b, o), 1e-5);
  });

  it('conv without bias', async () => {
    const x = randn(rng, [1, 3, 7, 7]);
    const w = randn(rng, [5, 3, 3, 3]);
    const o = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 };
    const [y] = await runGraph({ x, w }, (g, v) => g.conv(v.x!, v.w!, null, { kernelShape: [3, 3], strides: o.strides, pads: o.pads }));
    expectClose(y!, conv2d(x, w, null, o), 1e-5);
  });

  it('batchNormalization (inference form)', async () => {
    const x = randn(rng, [3, 5, 4, 6]);
    const scale = randn(rng, [5]);
    const bias = randn(rng, [5]);
    const mean = randn(rng, [5]);
    const variance = map(randn(rng, [5]), (v) => v * v + 0.2);
    const [y] = await runGraph({ x, scale, bias, mean, variance }, (g, v) =>
      g.batchNormalization(v.x!, v.scale!, v.bias!, v.mean!, v.variance!, { epsilon: 1e-3 }),
    );
    const expected = map(x, (v) => v);
    for (let i = 0; i < x.data.length; i++) {
      const c = unravel(i, x.dims)[1]!;
      expected.data[i] = ((x.data[i]! - mean.data[c]!) / Math.sqrt(variance.data[c]! + 1e-3)) * scale.data[c]! + bias.data[c]!;
    }
    expectClose(y!, expected);
  });

  it('layerNormalization over the last axis with scale and bias', async () => {
    const x = randn(rng, [2, 3, 10], 3);
    const scale = randn(rng, [10]);
    const bias = randn(rng, [10]);
    const [y] = await runGraph({ x, scale, bias }, (g, v) => g.layerNormalization(v.x!, v.scale!, v.bias!, { epsilon: 1e-5 }));
    const expected = alongAxis(x, -1, (line) => {
      const mu = line.reduce((p, q) => p + q, 0) / line.length;
      const vr = line.reduce((p, q) => p + (q - mu) ** 2, 0) / line.length;
      return line.map((v, j) => ((v - mu) / Math.sqrt(vr + 1e-5)) * scale.data[j]! + bias.data[j]!);
    });
    expectClose(y!, expected, 2e-5);
  });

  it('maxPool 3x3 stride 2 pad 1', async () => {
    const x = randn(rng, [2, 3, 9, 8]);
    const [y] = await runGraph({ x }, (g, v) => g.maxPool(v.x!, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }));
    expectClose(y!, pool2d(x, 'max', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }));
  });

  for (const countIncludePad of [false, true]) {
    it(`averagePool 2x3 with pads, countIncludePad=${countIncludePad}`, async () => {
      const x = randn(rng, [1, 2, 7, 7]);
      const o = { kernel: [2, 3], strides: [2, 2], pads: [1, 1, 0, 1], countIncludePad };
      const [y] = await runGraph({ x }, (g, v) =>
        g.averagePool(v.x!, { kernelShape: o.kernel, strides: o.strides, pads: o.pads, countIncludePad }),
      );
      expectClose(y!, pool2d(x, 'avg', o));
    });
  }

  it('globalAveragePool', async () => {
    const x = randn(rng, [2, 3, 5, 7]);
    const [y] = await runGraph({ x }, (g, v) => g.globalAveragePool(v.x!));
    expectClose(y!, reduce(x, [2, 3], 'mean', true));
  });

  it('softmax and logSoftmax on axis 1', async () => {
    const x = randn(rng, [3, 6, 2], 4);
    const [s, l] = await runGraph({ x }, (g, v) => [g.softmax(v.x!, 1), g.logSoftmax(v.x!, 1)]);
    const expected = alongAxis(x, 1, softmaxLine);
    expectClose(s!, expected);
    expectClose(l!, map(expected, Math.log), 1e-5);
  });
});

describe('shape ops', () => {
  const x = randn(rng, [2, 3, 4]);

  it('reshape with 0 (copy) and -1 (infer), and with a computed shape', async () => {
    const [a, b] = await runGraph({ x }, (g, v) => [g.reshape(v.x!, [0, -1]), g.reshape(v.x!, g.shape(v.x!, { start: 0, end: 3 }))]);
    expectClose(a!, { data: x.data, dims: [2, 12] });
    expectClose(b!, x);
  });

  it('transpose [2,0,1]', async () => {
    const [y] = await runGraph({ x }, (g, v) => g.transpose(v.x!, [2, 0, 1]));
    expectClose(y!, transpose(x, [2, 0, 1]));
  });

  it('concat on axis 1', async () => {
    const b = randn(rng, [2, 5, 4]);
    const [y] = await runGraph({ x, b }, (g, v) => g.concat([v.x!, v.b!], 1));
    const out = new Float64Array(2 * 8 * 4);
    for (let n = 0; n < 2; n++) {
      out.set(x.data.subarray(n * 12, n * 12 + 12), n * 32);
      out.set(b.data.subarray(n * 20, n * 20 + 20), n * 32 + 12);
    }
    expectClose(y!, { data: out, dims: [2, 8, 4] });
  });

  it('slice with negative starts and steps of 2', async () => {
    const a = randn(rng, [5, 9]);
    const [y] = await runGraph({ a }, (g, v) => g.slice(v.a!, [-4, 1], [5, 8], [0, 1], [1, 2]));
    const rows = [1, 2, 3, 4];
    const cols = [1, 3, 5, 7];
    const data = new Float64Array(rows.length * cols.length);
    rows.forEach((r, i) => cols.forEach((c, j) => (data[i * cols.length + j] = a.data[r * 9 + c]!)));
    expectClose(y!, { data, dims: [4, 4] });
  });

  it('gather with index lists and scalar indices', async () => {
    const [list, scalar] = await runGraph({ x }, (g, v) => [g.gather(v.x!, [3, 0, 3], 2), g.gather(v.x!, 1, 1)]);
    const d1 = new Float64Array(2 * 3 * 3);
    const idx = [3, 0, 3];
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) idx.forEach((k, j) => (d1[(n * 3 + c) * 3 + j] = x.data[(n * 3 + c) * 4 + k]!));
    expectClose(list!, { data: d1, dims: [2, 3, 3] });
    const d2 = new Float64Array(8);
    for (let n = 0; n < 2; n++) for (let k = 0; k < 4; k++) d2[n * 4 + k] = x.data[(n * 3 + 1) * 4 + k]!;
    expectClose(scalar!, { data: d2, dims: [2, 4] });
  });

  it('flatten, unsqueeze, squeeze, expand', async () => {
    const row = randn(rng, [1, 4]);
    const [f, u, s, e] = await runGraph({ x, row }, (g, v) => [
      g.flatten(v.x!, 2),
      g.unsqueeze(v.x!, [0, 3]),
      g.squeeze(g.unsqueeze(v.x!, [1]), [1]),
      g.expand(v.row!, [3, 4]),
    ]);
    expectClose(f!, { data: x.data, dims: [6, 4] });
    expectClose(u!, { data: x.data, dims: [1, 2, 3, 1, 4] });
    expectClose(s!, x);
    const ed = new Float64Array(12);
    for (let i = 0; i < 12; i++) ed[i] = row.data[i % 4]!;
    expectClose(e!, { data: ed, dims: [3, 4] });
  });

  it('reduceMean (axes attribute) and reduceSum (axes input), with and without keepdims', async () => {
    const [m, s] = await runGraph({ x }, (g, v) => [g.reduceMean(v.x!, [0, 2], true), g.reduceSum(v.x!, [-1], false)]);
    expectClose(m!, reduce(x, [0, 2], 'mean', true));
    expectClose(s!, reduce(x, [2], 'sum', false));
  });
});

it('strides/unravel helpers agree (sanity of the references)', () => {
  expect(strides([2, 3, 4])).toEqual([12, 4, 1]);
  expect(unravel(23, [2, 3, 4])).toEqual([1, 2, 3]);
  const x: Nd = { data: Float64Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] };
  expect(Array.from(transpose(x, [1, 0]).data)).toEqual([1, 4, 2, 5, 3, 6]);
});
