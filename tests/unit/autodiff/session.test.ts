import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { TrainingSession } from '../../../src/onnx/autodiff/session.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { readParameters } from '../../../src/onnx/parameters.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { splitTrainingGraph } from '../../../src/onnx/autodiff/split.js';
import { Sfc32 } from '../../../src/random/index.js';

const rng = new Sfc32(5);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

describe('TrainingSession and the split (saved activations) form', () => {
  it('writes every parameter gradient into its slice of one flat buffer, matching the split forward/backward pair', async () => {
    const { model } = buildViTEncoder({ imageSize: 8, patchSize: 4, dim: 8, depth: 2, heads: 2, embedDim: 4, patchTokens: false });
    const training = differentiate(model);
    const params = readParameters(model, training.layout);
    const image = { type: 'float32' as const, data: randn(3 * 64), dims: [3, 1, 8, 8] };
    const upstream = { type: 'float32' as const, data: randn(3 * 4), dims: [3, 4] };

    const session = await TrainingSession.create(training);
    const gradients = new Float32Array(training.layout.size).fill(Number.NaN);
    const { outputs } = await session.step({ parameters: params, gradients, inputs: { image }, outputGrads: { embedding: upstream } });
    await session.release();
    expect(gradients.every((g) => Number.isFinite(g))).toBe(true);
    expect(gradients.some((g) => g !== 0)).toBe(true);
    expect([...outputs.embedding!.dims]).toEqual([3, 4]);

    const split = splitTrainingGraph(training);
    expect(split.saved.length).toBeGreaterThan(0);
    const fwd = await ort.InferenceSession.create(serializeModel(split.forward));
    const bwd = await ort.InferenceSession.create(serializeModel(split.backward));
    const feeds: Record<string, ort.Tensor> = { image: new ort.Tensor('float32', image.data, image.dims) };
    for (const p of training.layout.parameters)
      feeds[p.name] = new ort.Tensor('float32', params.subarray(p.offset, p.offset + p.size), p.shape);
    const f = await fwd.run(Object.fromEntries(fwd.inputNames.map((n) => [n, feeds[n]!])));
    const bFeeds: Record<string, ort.Tensor> = { ...feeds, ...f, grad_embedding: new ort.Tensor('float32', upstream.data, upstream.dims) };
    const b = await bwd.run(Object.fromEntries(bwd.inputNames.map((n) => [n, bFeeds[n]!])));
    await fwd.release();
    await bwd.release();
    for (const [k, p] of training.layout.parameters.entries()) {
      const expected = b[training.parameterGradOutputs[k]!]!.data as Float32Array;
      const actual = gradients.subarray(p.offset, p.offset + p.size);
      for (let i = 0; i < p.size; i++)
        expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]!)));
    }
    const emb = f.embedding!.data as Float32Array;
    (outputs.embedding!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(emb[i]!, 5));
  });

  it('accumulates chunk gradients: two half batches add up to the full batch', async () => {
    const { model } = buildViTEncoder({ imageSize: 8, patchSize: 4, dim: 8, depth: 1, heads: 2, embedDim: 4, patchTokens: false });
    const training = differentiate(model);
    const params = readParameters(model, training.layout);
    const session = await TrainingSession.create(training);
    const images = randn(4 * 64);
    const upstream = randn(4 * 4);
    const full = new Float32Array(training.layout.size);
    await session.step({
      parameters: params,
      gradients: full,
      inputs: { image: { type: 'float32', data: images, dims: [4, 1, 8, 8] } },
      outputGrads: { embedding: { type: 'float32', data: upstream, dims: [4, 4] } },
    });
    const chunked = new Float32Array(training.layout.size);
    for (const c of [0, 1]) {
      await session.step({
        parameters: params,
        gradients: chunked,
        accumulate: true,
        inputs: { image: { type: 'float32', data: images.subarray(c * 128, (c + 1) * 128), dims: [2, 1, 8, 8] } },
        outputGrads: { embedding: { type: 'float32', data: upstream.subarray(c * 8, (c + 1) * 8), dims: [2, 4] } },
      });
    }
    await session.release();
    let worst = 0;
    full.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - chunked[i]!) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(1e-5);
  });

  it('accumulates repeated token ids into the embedding table gradient and rejects a wrong-sized buffer', async () => {
    const { model } = buildTextTransformer({ vocabSize: 11, maxLength: 6, dim: 8, depth: 1, heads: 2 });
    const training = differentiate(model, { parameters: /word_embeddings/ });
    expect(training.layout.parameters.map((p) => p.name)).toEqual(['embeddings.word_embeddings.weight']);
    const params = readParameters(model, training.layout);
    const session = await TrainingSession.create(training);
    const ids = { type: 'int64' as const, data: BigInt64Array.from([3n, 3n, 3n, 5n, 0n, 0n]), dims: [1, 6] };
    const mask = { type: 'int64' as const, data: BigInt64Array.from([1n, 1n, 1n, 1n, 0n, 0n]), dims: [1, 6] };
    const gradients = new Float32Array(training.layout.size);
    await session.step({
      parameters: params,
      gradients,
      inputs: { input_ids: ids, attention_mask: mask },
      outputGrads: { embedding: { type: 'float32', data: randn(8), dims: [1, 8] } },
    });
    const row = (r: number): Float32Array => gradients.subarray(r * 8, (r + 1) * 8);
    expect(row(3).some((v) => v !== 0)).toBe(true);
    expect(row(5).some((v) => v !== 0)).toBe(true);
    expect(row(7).every((v) => v === 0)).toBe(true);
    await expect(
      session.step({
        parameters: params,
        gradients: new Float32Array(3),
        inputs: { input_ids: ids, attention_mask: mask },
        outputGrads: {},
      }),
    ).rejects.toThrow(/gradient buffer has 3 elements/);
    await session.release();
  });

  it('embedding-table gradient with thousands of repeated ids matches a reference sum (no lost updates across threads)', async () => {
    const vocab = 40;
    const dim = 32;
    const count = 6000;
    const g = new GraphBuilder('embedding', { seed: 2 });
    const ids = g.input('ids', 'int64', ['n']);
    const table = g.parameter('table', [vocab, dim], { kind: 'normal', std: 1 });
    g.output(g.gather(table, ids, 0), 'rows', ['n', dim]);
    const model = g.build();
    const training = differentiate(model);
    const session = await TrainingSession.create(training, { intraOpNumThreads: 2 });
    const idData = BigInt64Array.from({ length: count }, (_, k) => BigInt(k % 4 === 0 ? 0 : (k * 13) % vocab));
    const upstream = randn(count * dim);
    const gradients = new Float32Array(training.layout.size);
    await session.step({
      parameters: readParameters(model, training.layout),
      gradients,
      inputs: { ids: { type: 'int64', data: idData, dims: [count] } },
      outputGrads: { rows: { type: 'float32', data: upstream, dims: [count, dim] } },
    });
    await session.release();
    const reference = new Float64Array(vocab * dim);
    for (let k = 0; k < count; k++) for (let d = 0; d < dim; d++) reference[Number(idData[k]) * dim + d]! += upstream[k * dim + d]!;
    let worst = 0;
    reference.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - gradients[i]!) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(1e-4);
  });
});
