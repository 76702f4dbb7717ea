import { describe, expect, it } from 'vitest';
import { EncoderInputError } from '../../../src/encoders/errors.js';
import { ImageEncoder } from '../../../src/encoders/image-encoder.js';
import { TextEncoder } from '../../../src/encoders/text-encoder.js';
import { TextTokenizer } from '../../../src/encoders/tokenizer/text-tokenizer.js';
import { buildWordPieceTokenizer } from '../../../src/encoders/tokenizer/tokenizer-json.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { listParameters, readParameters } from '../../../src/onnx/parameters.js';
import { Sfc32 } from '../../../src/random/index.js';
import { makeReports } from './corpus.js';

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('encoders on several worker sessions', () => {
  it('image encoder: the same embeddings bit for bit with 1, 2 and 3 single-threaded sessions, parameters synced to each', async () => {
    const model = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], seed: 3 }).model;
    const rng = new Sfc32(7);
    const n = 23; // 6 batches of 4, the last one short
    const data = Float32Array.from({ length: n * 20 * 20 }, () => rng.next() - 0.5);
    const reference = await ImageEncoder.create(model, { batchSize: 4 });
    const expected = await reference.encode({ data, dims: [n, 1, 20, 20] });
    await reference.dispose();
    for (const sessions of [2, 3]) {
      const encoder = await ImageEncoder.create(model, { batchSize: 4, sessions, intraOpNumThreads: 1 });
      expect(encoder.info.sessions).toBe(sessions);
      const got = await encoder.encode({ data, dims: [n, 1, 20, 20] });
      expect(got.dims).toEqual(expected.dims);
      expect(sameBits(got.data, expected.data), `${sessions} sessions`).toBe(true);
      await encoder.dispose();
    }
    // a flat parameter buffer reaches every session
    const layout = listParameters(model);
    const flat = readParameters(model, layout);
    const bound = await ImageEncoder.create(model, { batchSize: 4, sessions: 2, parameters: { values: flat, layout } });
    expect(sameBits((await bound.encode({ data, dims: [n, 1, 20, 20] })).data, expected.data)).toBe(true);
    for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 0.5;
    await bound.syncParameters();
    const single = await ImageEncoder.create(model, { batchSize: 4, parameters: { values: flat, layout } });
    const moved = await bound.encode({ data, dims: [n, 1, 20, 20] });
    expect(sameBits(moved.data, (await single.encode({ data, dims: [n, 1, 20, 20] })).data)).toBe(true);
    expect(sameBits(moved.data, expected.data)).toBe(false);
    await Promise.all([bound.dispose(), single.dispose()]);
  }, 60_000);

  it('text encoder: the same embeddings with 1 and 2 sessions, batches of different lengths', async () => {
    const reports = makeReports(60, 5);
    const tokenizer = TextTokenizer.fromJSON(buildWordPieceTokenizer(reports, { vocabSize: 200 }));
    const model = buildTextTransformer({ vocabSize: tokenizer.vocabSize, maxLength: 32, dim: 16, depth: 1, heads: 2, seed: 2 }).model;
    const one = await TextEncoder.create(model, tokenizer, { batchSize: 7, maxLength: 32 });
    const two = await TextEncoder.create(model, tokenizer, { batchSize: 7, maxLength: 32, sessions: 2, intraOpNumThreads: 1 });
    const a = await one.encode(reports);
    const b = await two.encode(reports);
    expect(b.dims).toEqual(a.dims);
    expect(sameBits(b.data, a.data)).toBe(true);
    await Promise.all([one.dispose(), two.dispose()]);
  }, 60_000);

  it('refuses a session count that is not a positive integer', async () => {
    const model = buildResNetEncoder({ widths: [4], blocks: [1], seed: 1 }).model;
    await expect(ImageEncoder.create(model, { sessions: 0 })).rejects.toBeInstanceOf(EncoderInputError);
    await expect(ImageEncoder.create(model, { sessions: 1.5 })).rejects.toThrow(/sessions must be a positive integer/);
  });
});
