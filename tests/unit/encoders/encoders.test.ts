import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingFileError } from '../../../src/errors.js';
import { EncoderInputError } from '../../../src/encoders/errors.js';
import { ImageEncoder } from '../../../src/encoders/image-encoder.js';
import { TextEncoder } from '../../../src/encoders/text-encoder.js';
import { TextTokenizer } from '../../../src/encoders/tokenizer/text-tokenizer.js';
import { buildWordPieceTokenizer, saveTokenizerJson } from '../../../src/encoders/tokenizer/tokenizer-json.js';
import { resolveExecutionProviders } from '../../../src/encoders/execution-providers.js';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { saveModel, serializeModel } from '../../../src/onnx/model-io.js';
import { Sfc32 } from '../../../src/random/index.js';
import { makeReports } from './corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'radlearn-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function images(n: number, h: number, w: number, seed: number): Float32Array {
  const rng = new Sfc32(seed);
  return Float32Array.from({ length: n * h * w }, () => rng.next() * 2 - 1);
}

/** Reference: the same model run directly, one onnxruntime call for the whole set. */
async function direct(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = (await s.run(feeds))[output]!.data as Float32Array;
  await s.release();
  return out;
}

function expectAllClose(a: Float32Array, b: Float32Array, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('ImageEncoder', () => {
  const resnet = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], embedDim: 10, seed: 2 });

  for (const inProcess of [false, true]) {
    it(`batches (7 images, batch 3) equal one direct run, ${inProcess ? 'in process' : 'in a worker'}`, async () => {
      const enc = await ImageEncoder.create(resnet.model, { batchSize: 3, inProcess });
      expect(enc.info.mode).toBe(inProcess ? 'in-process' : 'worker');
      expect(enc.info.executionProviders).toEqual(['cpu']);
      const data = images(7, 33, 41, 1);
      const keep = data.slice();
      const out = await enc.encode({ data, dims: [7, 1, 33, 41] });
      expect(out.dims).toEqual([7, 10]);
      expect(data).toEqual(keep); // the caller's array is neither detached nor changed
      expect(await enc.encode({ data: new Float32Array(0), dims: [0, 1, 33, 41] })).toEqual({
        type: 'float32',
        data: new Float32Array(0),
        dims: [0, 10],
      });
      const ref = await direct(serializeModel(resnet.model), { image: new ort.Tensor('float32', keep, [7, 1, 33, 41]) }, 'embedding');
      expectAllClose(out.data, ref);
      await enc.dispose();
      await expect(enc.encode({ data, dims: [7, 1, 33, 41] })).rejects.toThrow(/disposed/);
    });
  }

  it('keeps the event loop free while the worker runs (and not in process)', async () => {
    const vit = buildViTEncoder({ imageSize: 64, patchSize: 8, dim: 64, depth: 3, heads: 2 });
    const data = images(48, 64, 64, 3);
    const ticksDuring = async (inProcess: boolean): Promise<{ ticks: number; ms: number }> => {
      // one batch = one onnxruntime run, so a blocking run leaves no gap for timers
      const enc = await ImageEncoder.create(vit.model, { batchSize: 48, inProcess });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      const start = performance.now();
      const out = await enc.encode({ data, dims: [48, 1, 64, 64] });
      const ms = performance.now() - start;
      clearInterval(timer);
      await enc.dispose();
      expect(out.dims).toEqual([48, 64]);
      return { ticks, ms };
    };
    const worker = await ticksDuring(false);
    const blocking = await ticksDuring(true);
    expect(blocking.ticks).toBeLessThanOrEqual(3);
    if (worker.ms > 30) expect(worker.ticks).toBeGreaterThan(3);
  });

  it('pools ViT patch tokens (mean) and reads models from a file path', async () => {
    const vit = buildViTEncoder({ imageSize: [32, 16], patchSize: 8, dim: 16, depth: 1, heads: 2, pooling: 'mean' });
    const path = join(dir, 'vit.onnx');
    saveModel(vit.model, path);
    const tokens = await ImageEncoder.create(path, { output: 'patch_tokens', pooling: 'mean', inProcess: true });
    const emb = await ImageEncoder.create(path, { inProcess: true });
    const data = images(3, 32, 16, 4);
    const a = await tokens.encode({ data, dims: [3, 1, 32, 16] });
    const b = await emb.encode({ data, dims: [3, 1, 32, 16] });
    expect(a.dims).toEqual([3, 16]);
    expectAllClose(a.data, b.data, 1e-5);
    const raw = await (await ImageEncoder.create(path, { output: 'patch_tokens', inProcess: true })).encode({ data, dims: [3, 1, 32, 16] });
    expect(raw.dims).toEqual([3, 8, 16]);
    await tokens.dispose();
    await emb.dispose();
  });

  it('rejects bad input with the shapes named, and a missing model with its path', async () => {
    const vit = buildViTEncoder({ imageSize: 32, patchSize: 8, dim: 16, depth: 1, heads: 2 });
    const enc = await ImageEncoder.create(vit.model, { inProcess: true });
    await expect(enc.encode({ data: new Float32Array(2 * 32 * 30), dims: [2, 1, 32, 30] })).rejects.toThrow(/axis 3 must be 32/);
    await expect(enc.encode({ data: new Float32Array(10), dims: [2, 1, 32, 32] })).rejects.toThrow(EncoderInputError);
    await expect(enc.encode({ data: new Float32Array(10), dims: [10] })).rejects.toThrow(/expects/);
    await enc.dispose();
    const missing = join(dir, 'models', 'rad-dino.onnx');
    await expect(ImageEncoder.create(missing)).rejects.toThrow(MissingFileError);
    await expect(ImageEncoder.create(missing)).rejects.toThrow(missing);
    await expect(ImageEncoder.create(vit.model, { output: 'logits' })).rejects.toThrow(
      /no output named logits; its outputs are embedding, patch_tokens/,
    );
    await expect(ImageEncoder.create(Uint8Array.from([1, 2, 3, 4]), { inProcess: true })).rejects.toThrow(/could not load/);
    await expect(ImageEncoder.create(Uint8Array.from([1, 2, 3, 4]))).rejects.toThrow(/could not load/);
  });

  it('mean-pools a CNN feature map output', async () => {
    const g = new GraphBuilder('fmap', { seed: 5 });
    const x = g.input('pixels', 'float32', ['n', 2, 'h', 'w']);
    g.output(g.relu(g.conv(x, g.parameter('w', [3, 2, 3, 3], { kind: 'normal', std: 0.5 }))), 'features');
    const enc = await ImageEncoder.create(g.build(), { pooling: 'mean', inProcess: true });
    const data = images(2, 2 * 6, 5, 6);
    const out = await enc.encode({ data, dims: [2, 2, 6, 5] });
    const ref = await direct(serializeModel(g.build()), { pixels: new ort.Tensor('float32', data, [2, 2, 6, 5]) }, 'features');
    const expected = new Float32Array(6);
    for (let p = 0; p < 6; p++) for (let j = 0; j < 12; j++) expected[p]! += ref[p * 12 + j]! / 12;
    expect(out.dims).toEqual([2, 3]);
    expectAllClose(out.data, expected, 1e-5);
    await enc.dispose();
  });
});

describe('execution providers', () => {
  it('falls back to CPU with a reason when CUDA is not installed or not available', async () => {
    const r = resolveExecutionProviders(['cuda', 'cpu'], { available: ['cpu'] });
    expect(r.providers).toEqual(['cpu']);
    expect(r.fallbackReason).toMatch(/cuda is not among the available backends/);
    const enc = await ImageEncoder.create(buildResNetEncoder({ widths: [4], blocks: [1] }).model, {
      executionProviders: ['cuda'],
      inProcess: true,
    });
    // on this CPU-only install the CUDA provider library is absent; where it exists the session may use it
    if (enc.info.executionProviders.includes('cuda')) expect(enc.info.fallbackReason).toBeUndefined();
    else expect(enc.info.fallbackReason).toMatch(/cuda|CUDA/);
    await enc.dispose();
    expect(resolveExecutionProviders()).toEqual({ providers: ['cpu'] });
  });
});

describe('TextEncoder', () => {
  const corpus = makeReports(200, 7);
  const tokJson = buildWordPieceTokenizer(corpus, { vocabSize: 250 });
  const tokPath = join(dir, 'tokenizer.json');
  saveTokenizerJson(tokJson, tokPath);
  const tokenizer = TextTokenizer.fromFile(tokPath);
  const model = buildTextTransformer({
    vocabSize: tokenizer.vocabSize,
    maxLength: 32,
    dim: 16,
    depth: 1,
    heads: 2,
    embedDim: 12,
    tokenEmbeddings: true,
  });

  it('embeds texts in input order; sorting into batches changes nothing', async () => {
    const texts = [...corpus.slice(0, 9), 'No effusion.', ''];
    const enc = await TextEncoder.create(model.model, tokPath, { maxLength: 32, batchSize: 4 });
    const out = await enc.encode(texts);
    expect(out.dims).toEqual([11, 12]);
    expect((await enc.encode([])).dims).toEqual([0, 12]);
    // reference: each text alone, unpadded, directly through onnxruntime
    for (const i of [0, 5, 9, 10]) {
      const b = tokenizer.encodeBatch([texts[i]!], { maxLength: 32 });
      const ref = await direct(
        serializeModel(model.model),
        {
          input_ids: new ort.Tensor('int64', b.inputIds.data, b.inputIds.dims),
          attention_mask: new ort.Tensor('int64', b.attentionMask.data, b.attentionMask.dims),
        },
        'embedding',
      );
      expectAllClose(out.data.subarray(i * 12, (i + 1) * 12), ref, 1e-4);
    }
    await enc.dispose();
  });

  it('mean-pools token outputs over the attention mask', async () => {
    const texts = corpus.slice(10, 15);
    const enc = await TextEncoder.create(model.model, tokenizer, {
      output: 'token_embeddings',
      pooling: 'mean',
      inProcess: true,
      batchSize: 2,
    });
    const out = await enc.encode(texts);
    expect(out.dims).toEqual([5, 16]);
    expect(enc.maxLength).toBe(32); // taken from the built-in model's metadata
    const b = tokenizer.encodeBatch([texts[2]!], { maxLength: 32 });
    const t = b.inputIds.dims[1]!;
    const tokens = await direct(
      serializeModel(model.model),
      {
        input_ids: new ort.Tensor('int64', b.inputIds.data, [1, t]),
        attention_mask: new ort.Tensor('int64', b.attentionMask.data, [1, t]),
      },
      'token_embeddings',
    );
    const mean = new Float32Array(16);
    for (let j = 0; j < t; j++) for (let k = 0; k < 16; k++) mean[k]! += tokens[j * 16 + k]! / t;
    expectAllClose(out.data.subarray(2 * 16, 3 * 16), mean, 1e-4);
    await expect(
      (await TextEncoder.create(model.model, tokenizer, { output: 'token_embeddings', inProcess: true })).encode(['x']),
    ).rejects.toThrow(/per token/);
    await enc.dispose();
  });

  it('refuses a maxLength beyond the model positions', async () => {
    await expect(TextEncoder.create(model.model, tokenizer, { maxLength: 64, inProcess: true })).rejects.toThrow(
      /exceeds the 32 positions/,
    );
    const small = buildTextTransformer({ vocabSize: 20, maxLength: 32, dim: 8, depth: 1, heads: 2 });
    await expect(TextEncoder.create(small.model, tokenizer, { inProcess: true })).rejects.toThrow(/model embeds only 20/);
  });

  it('names a missing tokenizer path and a model input it cannot fill', async () => {
    const missing = join(dir, 'cxr-bert', 'tokenizer.json');
    await expect(TextEncoder.create(model.model, missing)).rejects.toThrow(missing);
    const g = new GraphBuilder('odd');
    const ids = g.input('input_ids', 'int64', ['n', 't']);
    const extra = g.input('pixel_values', 'float32', ['n', 3]);
    g.output(g.add(g.cast(ids, 'float32'), g.reduceSum(extra, [1], true)), 'embedding');
    await expect(TextEncoder.create(g.build(), tokenizer, { inProcess: true })).rejects.toThrow(/pixel_values/);
  });
});
