import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr } from '../../../src/onnx/attributes.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import type { ModelProto } from '../../../src/onnx/proto.js';
import { Sfc32 } from '../../../src/random/index.js';
import { buildModel } from './gradcheck.js';

// MaxPool's gradient by phases (no Indices output, no ScatterND) must give the bits of the
// Indices + scatter-add form, ties included: a model whose MaxPool already outputs its indices
// keeps that form, so the two are compared on the same inputs.

interface PoolCase {
  name: string;
  dims: number[];
  declared?: (number | string)[];
  kernel: [number, number];
  strides?: [number, number];
  pads?: [number, number, number, number];
  ceilMode?: boolean;
  dtype?: 'float32' | 'float64';
}

const cases: PoolCase[] = [
  { name: '3x3 stride 2 pad 1 (ResNet stem)', dims: [2, 3, 16, 14], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: '2x2 stride 2, odd sizes (last row and column in no window)', dims: [2, 2, 9, 7], kernel: [2, 2], strides: [2, 2] },
  { name: '3x3 stride 1 pad 1', dims: [1, 2, 7, 8], kernel: [3, 3], pads: [1, 1, 1, 1] },
  { name: '5x4 stride 3, asymmetric pads', dims: [1, 2, 13, 11], kernel: [5, 4], strides: [3, 3], pads: [2, 1, 0, 2] },
  { name: '2x2 stride 2 ceil mode', dims: [1, 2, 5, 5], kernel: [2, 2], strides: [2, 2], ceilMode: true },
  { name: '3x3 stride 2 pad 1, float64', dims: [1, 2, 9, 9], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dtype: 'float64' },
  {
    name: '3x3 stride 2 pad 1, symbolic sizes',
    dims: [2, 2, 12, 10],
    declared: ['n', 'c', 'h', 'w'],
    kernel: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  },
];

/** Values with many ties: a grid of a few levels, zeros (as after a ReLU), flat runs and negatives. */
function tiedValues(n: number, dtype: 'float32' | 'float64', rng: Sfc32): Float32Array | Float64Array {
  const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    out[i] = r < 0.3 ? 0 : r < 0.4 ? -Math.floor(rng.next() * 4) / 8 : i % 13 < 4 ? 0.75 : Math.floor(rng.next() * 6) / 4;
  }
  return out;
}

function poolModel(c: PoolCase, withIndices: boolean): ModelProto {
  const dtype = c.dtype ?? 'float32';
  const attrs = {
    kernel_shape: attr.ints(c.kernel),
    strides: c.strides ? attr.ints(c.strides) : undefined,
    pads: c.pads ? attr.ints(c.pads) : undefined,
    ceil_mode: c.ceilMode ? attr.int(1) : undefined,
  };
  const placeholder = { data: dtype === 'float64' ? new Float64Array(0) : new Float32Array(0), dims: c.dims, declared: c.declared };
  return buildModel({ x: placeholder }, (g, v) => g.node('MaxPool', [v.x!], attrs, withIndices ? [dtype, 'int64'] : [dtype])[0]!);
}

async function inputGradient(model: ModelProto, x: Float32Array | Float64Array, dims: number[], seed: number): Promise<ArrayLike<number>> {
  const training = differentiate(model, { inputsGrad: ['x'] });
  const session = await ort.InferenceSession.create(serializeModel(training.model));
  const forward = await ort.InferenceSession.create(serializeModel(model));
  const type = x instanceof Float64Array ? 'float64' : 'float32';
  const y = (await forward.run({ x: new ort.Tensor(type, x, dims) })).y0!;
  const rng = new Sfc32(seed);
  const upstream = type === 'float64' ? new Float64Array(y.data.length) : new Float32Array(y.data.length);
  for (let i = 0; i < upstream.length; i++) upstream[i] = rng.next() * 2 - 1;
  const result = await session.run({
    x: new ort.Tensor(type, x, dims),
    [training.outputGradInputs.y0!]: new ort.Tensor(type, upstream, y.dims),
  });
  await session.release();
  await forward.release();
  return result[training.inputGradOutputs.x!]!.data as Float32Array | Float64Array;
}

const opTypes = (model: ModelProto): string[] => (model.graph?.node ?? []).map((n) => n.opType ?? '');

describe('MaxPool gradient by phases', () => {
  it.each(cases)('$name: the bits of the Indices + scatter-add form', async (c) => {
    const rng = new Sfc32(4242);
    const x = tiedValues(
      c.dims.reduce((a, b) => a * b, 1),
      c.dtype ?? 'float32',
      rng,
    );
    const phases = differentiate(poolModel(c, false), { inputsGrad: ['x'] }).model;
    expect(opTypes(phases)).not.toContain('ScatterND');
    expect(phases.graph!.node!.filter((n) => n.opType === 'MaxPool').every((n) => (n.output ?? []).length === 1)).toBe(true);
    const scattered = differentiate(poolModel(c, true), { inputsGrad: ['x'] }).model;
    expect(opTypes(scattered)).toContain('ScatterND');

    const a = await inputGradient(poolModel(c, false), x, c.dims, 7);
    const b = await inputGradient(poolModel(c, true), x, c.dims, 7);
    expect(a.length).toBe(x.length);
    let differing = 0;
    let nonZero = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) differing++;
      if (a[i] !== 0) nonZero++;
    }
    expect(differing).toBe(0);
    expect(nonZero).toBeGreaterThan(0);
  });
});
