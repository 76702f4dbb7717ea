import { describe, expect, it } from 'vitest';
import { ImageEncoder } from '../../../src/encoders/image-encoder.js';
import { TextEncoder } from '../../../src/encoders/text-encoder.js';
import { TextTokenizer } from '../../../src/encoders/tokenizer/text-tokenizer.js';
import { buildWordPieceTokenizer } from '../../../src/encoders/tokenizer/tokenizer-json.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { listParameters, readParameters, writeParameters } from '../../../src/onnx/parameters.js';
import { Sfc32 } from '../../../src/random/index.js';
import { makeReports } from './corpus.js';

// Encoders whose parameters live in one flat Float32Array (how the trainer of issue 8 runs them).
const built = buildResNetEncoder({ widths: [6, 12], blocks: [1, 1], embedDim: 5, seed: 8 });
const layout = listParameters(built.model);
const rng = new Sfc32(77);
const data = Float32Array.from({ length: 4 * 36 * 28 }, () => rng.normal());
const dims = [4, 1, 36, 28];

/** Close, not equal: with initializers onnxruntime fuses BatchNorm into Conv, with parameter inputs it cannot. */
function expectClose(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[i]!)));
}

function perturb(flat: Float32Array): void {
  for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 0.9 + 0.01 * Math.sin(i);
}

describe('encoders fed from a flat parameter buffer', () => {
  for (const inProcess of [true, false]) {
    it(`match the initializer model and follow in-place updates (${inProcess ? 'in process' : 'worker, after syncParameters'})`, async () => {
      const flat = readParameters(built.model, layout);
      const enc = await ImageEncoder.create(built.model, { parameters: { values: flat, layout }, inProcess, batchSize: 3 });
      const plain = await ImageEncoder.create(built.model, { inProcess: true });
      const before = await enc.encode({ data, dims });
      expectClose(before.data, (await plain.encode({ data, dims })).data);

      perturb(flat);
      if (!inProcess) {
        // the worker holds a copy until told
        expect((await enc.encode({ data, dims })).data).toEqual(before.data);
      }
      await enc.syncParameters();
      const after = await enc.encode({ data, dims });
      const updated = await ImageEncoder.create(writeParameters(built.model, layout, flat), { inProcess: true });
      expectClose(after.data, (await updated.encode({ data, dims })).data);
      expect(after.data).not.toEqual(before.data);
      await Promise.all([enc.dispose(), plain.dispose(), updated.dispose()]);
    });
  }

  it('text encoder with parameters as inputs', async () => {
    const tokenizer = TextTokenizer.fromJSON(buildWordPieceTokenizer(makeReports(100, 3), { vocabSize: 200 }));
    const text = buildTextTransformer({ vocabSize: tokenizer.vocabSize, maxLength: 24, dim: 8, depth: 1, heads: 2 });
    const textLayout = listParameters(text.model);
    const flat = readParameters(text.model, textLayout);
    const a = await TextEncoder.create(text.model, tokenizer, { parameters: { values: flat }, inProcess: true });
    const b = await TextEncoder.create(text.model, tokenizer, { inProcess: true });
    const texts = makeReports(5, 9);
    expectClose((await a.encode(texts)).data, (await b.encode(texts)).data);
    await expect(b.syncParameters()).rejects.toThrow(/without the 'parameters' option/);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('refuses a buffer of the wrong size', async () => {
    await expect(ImageEncoder.create(built.model, { parameters: { values: new Float32Array(layout.size - 1) } })).rejects.toThrow(
      /layout needs/,
    );
  });
});
