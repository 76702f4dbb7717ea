import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { OnnxGraphError, OnnxModelError, ParameterLayoutError } from '../../../src/onnx/errors.js';
import { initializeValues } from '../../../src/onnx/init.js';
import { listParameters, parameterFeeds, parametersAsInputs, readParameters, writeParameters } from '../../../src/onnx/parameters.js';
import { loadModel, parseModel, saveModel, serializeModel } from '../../../src/onnx/model-io.js';
import { Sfc32 } from '../../../src/random/index.js';
import { MissingFileError } from '../../../src/errors.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import * as layers from '../../../src/onnx/models/layers.js';

const dir = mkdtempSync(join(tmpdir(), 'radlearn-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** x [N, 5] -> linear(5, 3) -> GELU -> linear(3, 2), with a frozen buffer added at the end. */
function tinyMlp(seed: number) {
  const g = new GraphBuilder('tiny', { seed });
  const x = g.input('x', 'float32', ['batch', 5]);
  const h = g.gelu(layers.linear(g, x, 'fc1', 5, 3));
  const y = g.add(layers.linear(g, h, 'fc2', 3, 2), g.initializer('offset', Float32Array.from([0.5, -0.25]), [2]));
  g.output(y, 'y', ['batch', 2]);
  return g.build();
}

function randomInput(n: number, seed: number): Float32Array {
  const rng = new Sfc32(seed);
  return Float32Array.from({ length: n * 5 }, () => rng.normal());
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(feeds);
  await s.release();
  return out[s.outputNames[0]!]!.data as Float32Array;
}

describe('initialisation', () => {
  it('is deterministic per (seed, name) and differs across seeds and names', () => {
    const spec = { kind: 'kaimingNormal', fanIn: 50 } as const;
    const a = initializeValues(spec, 1000, 7, 'w');
    expect(initializeValues(spec, 1000, 7, 'w')).toEqual(a);
    expect(initializeValues(spec, 1000, 8, 'w')).not.toEqual(a);
    expect(initializeValues(spec, 1000, 7, 'v')).not.toEqual(a);
  });

  it('matches the stated distributions', () => {
    const n = 20000;
    const stats = (v: Float32Array) => {
      const m = v.reduce((p, q) => p + q, 0) / v.length;
      return { mean: m, std: Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / v.length), max: Math.max(...v.map(Math.abs)) };
    };
    const k = stats(initializeValues({ kind: 'kaimingNormal', fanIn: 32 }, n, 1, 'a'));
    expect(k.std).toBeCloseTo(Math.SQRT2 / Math.sqrt(32), 2);
    const t = stats(initializeValues({ kind: 'truncNormal', std: 0.02 }, n, 1, 'b'));
    expect(t.max).toBeLessThanOrEqual(0.04 + 1e-7);
    expect(t.std).toBeGreaterThan(0.016);
    const u = stats(initializeValues({ kind: 'kaimingUniform', fanIn: 12 }, n, 1, 'c'));
    expect(u.max).toBeLessThanOrEqual(Math.sqrt(3 / 12) + 1e-7);
    expect(u.std).toBeCloseTo(1 / Math.sqrt(12), 2);
    expect(initializeValues({ kind: 'ones' }, 3, 1, 'd')).toEqual(Float32Array.from([1, 1, 1]));
    expect(() => initializeValues({ kind: 'kaimingNormal', fanIn: 0 }, 3, 1, 'e')).toThrow(/fanIn/);
  });
});

describe('GraphBuilder checks', () => {
  it('rejects duplicate names and values from another graph', () => {
    const g = new GraphBuilder('a');
    g.input('x', 'float32', [2]);
    expect(() => g.input('x', 'float32', [2])).toThrow(OnnxGraphError);
    const other = new GraphBuilder('b').input('z', 'float32', [2]);
    expect(() => g.relu(other)).toThrow(/z, which is not an input/);
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(/do not hold 5 values/);
    expect(() => g.build()).toThrow(/no outputs/);
  });
});

describe('save/load', () => {
  it('round-trips through an atomic write and runs identically', async () => {
    const model = tinyMlp(3);
    const path = join(dir, 'tiny.onnx');
    saveModel(model, path);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const loaded = loadModel(path);
    const x = new ort.Tensor('float32', randomInput(4, 9), [4, 5]);
    expect(await run(serializeModel(loaded), { x })).toEqual(await run(serializeModel(model), { x }));
  });

  it('names the missing path and refuses garbage', () => {
    const path = join(dir, 'nope', 'missing.onnx');
    expect(() => loadModel(path)).toThrow(MissingFileError);
    expect(() => loadModel(path)).toThrow(path);
    expect(() => parseModel(Uint8Array.from([0xff, 0xff, 0xff, 0x01, 0x02]), 'junk.onnx')).toThrow(OnnxModelError);
  });
});

describe('flat parameters', () => {
  it('lists trainable initializers with contiguous offsets, leaving buffers out', () => {
    const layout = listParameters(tinyMlp(1));
    expect(layout.parameters.map((p) => [p.name, p.shape, p.offset])).toEqual([
      ['fc1.weight', [5, 3], 0],
      ['fc1.bias', [3], 15],
      ['fc2.weight', [3, 2], 18],
      ['fc2.bias', [2], 24],
    ]);
    expect(layout.size).toBe(26);
    expect(listParameters(tinyMlp(1), { select: /weight/ }).size).toBe(21);
    expect(() => listParameters(tinyMlp(1), { select: ['fc1.weight', 'fc9.weight'] })).toThrow(ParameterLayoutError);
  });

  it('runs with parameters fed as views into one flat buffer, equal to the initializer model', async () => {
    const model = tinyMlp(5);
    const layout = listParameters(model);
    const trainable = parametersAsInputs(model, layout);
    expect(trainable.graph!.initializer!.map((t) => t.name)).toEqual(['offset']);
    // the flat buffer sits at an odd offset inside a larger allocation: views must be read at their offset
    const backing = new Float32Array(layout.size + 7).fill(Number.NaN);
    const flat = backing.subarray(3, 3 + layout.size);
    flat.set(readParameters(model, layout));
    const x = new ort.Tensor('float32', randomInput(6, 11), [6, 5]);
    const feeds: Record<string, ort.Tensor> = { x };
    for (const [name, t] of Object.entries(parameterFeeds(layout, flat))) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
    const viaInputs = await run(serializeModel(trainable), feeds);
    expect(viaInputs).toEqual(await run(serializeModel(model), { x }));

    // an in-place update of the flat buffer is what the next run sees
    for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 0.5 + 0.01 * i;
    const updated = await run(serializeModel(trainable), feeds);
    const written = writeParameters(model, layout, flat);
    expect(updated).toEqual(await run(serializeModel(written), { x }));
    expect(updated).not.toEqual(viaInputs);
    expect(() => parameterFeeds(layout, new Float32Array(3))).toThrow(/has 3 elements, the layout needs 26/);
    expect(() => parameterFeeds(layout, new Float32Array(new SharedArrayBuffer(4 * layout.size)))).toThrow(/SharedArrayBuffer/);
  });
});

describe('GraphBuilder.extend', () => {
  it('appends a head to an encoder and keeps its parameters and metadata', async () => {
    const encoder = buildResNetEncoder({ widths: [4, 8], blocks: [1, 1], seed: 4 });
    const g = GraphBuilder.extend(encoder.model, { seed: 9 });
    const emb = g.value('embedding');
    expect(emb.dtype).toBe('float32');
    expect(() => g.value('nope')).toThrow(/no value named nope/);
    const w = g.parameter('head.weight', [8, 3], { kind: 'normal', std: 0.3 });
    const b = g.parameter('head.bias', [3], { kind: 'normal', std: 0.1 });
    g.clearOutputs();
    g.output(g.sigmoid(g.gemm(emb, w, b)), 'probs', ['batch', 3]);
    const model = g.build();
    expect(model.metadataProps!.find((p) => p.key === 'radlearn.encoder')).toBeDefined();
    expect(
      listParameters(model)
        .parameters.slice(-2)
        .map((p) => p.name),
    ).toEqual(['head.weight', 'head.bias']);
    expect(listParameters(model).size).toBe(listParameters(encoder.model).size + 27);

    const rng = new Sfc32(3);
    const image = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * 40 * 40 }, () => rng.next()),
      [2, 1, 40, 40],
    );
    const s1 = await ort.InferenceSession.create(serializeModel(encoder.model));
    const e = (await s1.run({ image })).embedding!.data as Float32Array;
    const probs = await run(serializeModel(model), { image });
    const wv = readParameters(model, listParameters(model, { select: ['head.weight', 'head.bias'] }));
    for (let n = 0; n < 2; n++)
      for (let j = 0; j < 3; j++) {
        let z = wv[24 + j]!;
        for (let k = 0; k < 8; k++) z += e[n * 8 + k]! * wv[k * 3 + j]!;
        expect(probs[n * 3 + j]).toBeCloseTo(1 / (1 + Math.exp(-z)), 5);
      }
  });
});
