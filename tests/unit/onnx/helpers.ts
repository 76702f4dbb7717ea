import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { GraphBuilder, type Value } from '../../../src/onnx/graph-builder.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import type { RandomStream } from '../../../src/random/index.js';

/** A dense row-major array in float64 for the reference computations. */
export interface Nd {
  data: Float64Array;
  dims: number[];
}

export function randn(rng: RandomStream, dims: number[], scale = 1): Nd {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = scale * rng.normal();
  return { data, dims };
}

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

export function unravel(index: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let i = dims.length - 1; i >= 0; i--) {
    out[i] = index % dims[i]!;
    index = Math.floor(index / dims[i]!);
  }
  return out;
}

/** NumPy-style broadcasting of a binary function. */
export function broadcast(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const ad = pad(a.dims);
  const bd = pad(b.dims);
  const dims = ad.map((d, i) => Math.max(d, bd[i]!));
  const as = strides(ad);
  const bs = strides(bd);
  const n = dims.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, dims);
    let ai = 0;
    let bi = 0;
    idx.forEach((v, k) => {
      ai += (ad[k] === 1 ? 0 : v) * as[k]!;
      bi += (bd[k] === 1 ? 0 : v) * bs[k]!;
    });
    data[i] = f(a.data[ai]!, b.data[bi]!);
  }
  return { data, dims };
}

export function map(a: Nd, f: (x: number) => number): Nd {
  return { data: a.data.map(f), dims: [...a.dims] };
}

/** erf to ~1e-12 (series for small |x|, continued fraction tail), for GELU/Erf references. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for |x| >= 2.5
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function f32(a: Nd): ort.Tensor {
  return new ort.Tensor('float32', Float32Array.from(a.data), a.dims);
}

/** Builds a graph with one float32 input per entry of `inputs`, runs it, returns the outputs. */
export async function runGraph(
  inputs: Record<string, Nd>,
  build: (g: GraphBuilder, x: Record<string, Value>) => Value | Value[],
): Promise<ort.Tensor[]> {
  const g = new GraphBuilder('op_test', { seed: 1 });
  const values: Record<string, Value> = {};
  for (const [name, a] of Object.entries(inputs)) values[name] = g.input(name, 'float32', a.dims);
  const out = build(g, values);
  const outs = Array.isArray(out) ? out : [out];
  outs.forEach((v, i) => g.output(v, `out${i}`));
  const session = await ort.InferenceSession.create(serializeModel(g.build()));
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, a] of Object.entries(inputs)) feeds[name] = f32(a);
  const result = await session.run(feeds);
  await session.release();
  return outs.map((_, i) => result[`out${i}`]!);
}

export function expectClose(actual: ort.Tensor, expected: Nd, tol = 1e-5): void {
  expect([...actual.dims]).toEqual(expected.dims);
  const a = actual.data as Float32Array;
  expect(a.length).toBe(expected.data.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = expected.data[i]!;
    const err = Math.abs(a[i]! - e) / Math.max(1, Math.abs(e));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  expect(worst).toBeLessThanOrEqual(tol);
}
