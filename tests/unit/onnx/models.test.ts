import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { listParameters, readParameters } from '../../../src/onnx/parameters.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { Sfc32 } from '../../../src/random/index.js';

async function session(model: Parameters<typeof serializeModel>[0]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(serializeModel(model));
}

function images(n: number, h: number, w: number, seed: number): ort.Tensor {
  const rng = new Sfc32(seed);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * h * w }, () => rng.next()),
    [n, 1, h, w],
  );
}

function allFinite(a: Float32Array): boolean {
  return a.every(Number.isFinite);
}

describe('built-in ResNet', () => {
  it('embeds any image size to [N, D], deterministic per seed', async () => {
    const built = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], embedDim: 12, seed: 3 });
    const s = await session(built.model);
    for (const [h, w] of [
      [40, 56],
      [64, 64],
    ] as const) {
      const out = (await s.run({ image: images(3, h, w, h) })).embedding!;
      expect(out.dims).toEqual([3, 12]);
      expect(allFinite(out.data as Float32Array)).toBe(true);
    }
    const same = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], embedDim: 12, seed: 3 });
    expect(serializeModel(same.model)).toEqual(serializeModel(built.model));
    const other = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], embedDim: 12, seed: 4 });
    expect(readParameters(other.model, listParameters(other.model))).not.toEqual(readParameters(built.model, listParameters(built.model)));
  });

  it('each image of a batch is embedded independently (BatchNorm in inference form)', async () => {
    const built = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1] });
    const s = await session(built.model);
    const batch = images(4, 48, 48, 1);
    const all = (await s.run({ image: batch })).embedding!.data as Float32Array;
    const one = new ort.Tensor('float32', (batch.data as Float32Array).slice(2 * 48 * 48, 3 * 48 * 48), [1, 1, 48, 48]);
    const single = (await s.run({ image: one })).embedding!.data as Float32Array;
    const d = built.embedDim;
    for (let i = 0; i < d; i++) expect(single[i]).toBeCloseTo(all[2 * d + i]!, 4);
  });

  it('rejects bad configs with the field named', () => {
    expect(() => buildResNetEncoder({ widths: [8, 0] })).toThrow(InvalidArgumentError);
    expect(() => buildResNetEncoder({ widths: [8, 16], blocks: [1] })).toThrow(/blocks/);
  });
});

describe('built-in ViT', () => {
  it('outputs a CLS embedding and patch tokens; mean pooling equals the mean of the tokens', async () => {
    const base = { imageSize: [32, 48] as const, patchSize: 8, dim: 16, depth: 2, heads: 2, seed: 2 };
    const cls = await session(buildViTEncoder(base).model);
    const mean = await session(buildViTEncoder({ ...base, pooling: 'mean' }).model);
    const x = images(2, 32, 48, 5);
    const a = await cls.run({ image: x });
    expect(a.embedding!.dims).toEqual([2, 16]);
    expect(a.patch_tokens!.dims).toEqual([2, 24, 16]);
    const b = await mean.run({ image: x });
    const tokens = b.patch_tokens!.data as Float32Array;
    const emb = b.embedding!.data as Float32Array;
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 16; c++) {
        let s = 0;
        for (let p = 0; p < 24; p++) s += tokens[(n * 24 + p) * 16 + c]!;
        expect(emb[n * 16 + c]).toBeCloseTo(s / 24, 5);
      }
    expect(allFinite(a.patch_tokens!.data as Float32Array)).toBe(true);
  });

  it('checks divisibility', () => {
    expect(() => buildViTEncoder({ imageSize: 30, patchSize: 8 })).toThrow(/divisible/);
    expect(() => buildViTEncoder({ dim: 10, heads: 3 })).toThrow(/divisible/);
  });
});

describe('built-in text transformer', () => {
  const config = { vocabSize: 50, maxLength: 12, dim: 16, depth: 2, heads: 4, embedDim: 8, seed: 1 };

  function feeds(ids: number[][], lengths: number[]) {
    const n = ids.length;
    const t = ids[0]!.length;
    const mask = new BigInt64Array(n * t);
    lengths.forEach((len, i) => mask.fill(1n, i * t, i * t + len));
    return {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat().map(BigInt)), [n, t]),
      attention_mask: new ort.Tensor('int64', mask, [n, t]),
    };
  }

  for (const pooling of ['mean', 'cls'] as const) {
    it(`${pooling} pooling ignores padding: padded and unpadded sequences embed the same`, async () => {
      const s = await session(buildTextTransformer({ ...config, pooling }).model);
      const rng = new Sfc32(9);
      const seq = Array.from({ length: 5 }, () => 1 + Math.floor(rng.next() * 49));
      const padded = [...seq, 0, 0, 0, 0];
      const noisyPad = [...seq, 7, 13, 2, 40]; // padding content must not matter either
      const a = (await s.run(feeds([seq], [5]))).embedding!.data as Float32Array;
      const b = (await s.run(feeds([padded, noisyPad], [5, 5]))).embedding!.data as Float32Array;
      expect(a.length).toBe(8);
      for (let i = 0; i < 8; i++) {
        expect(b[i]).toBeCloseTo(a[i]!, 4);
        expect(b[8 + i]).toBeCloseTo(a[i]!, 4);
      }
    });
  }

  it('position embeddings make order matter', async () => {
    const s = await session(buildTextTransformer(config).model);
    const a = (await s.run(feeds([[3, 9, 27, 4]], [4]))).embedding!.data as Float32Array;
    const b = (await s.run(feeds([[4, 27, 9, 3]], [4]))).embedding!.data as Float32Array;
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('requires a vocabulary size', () => {
    expect(() => buildTextTransformer({ vocabSize: 0 })).toThrow(/vocabSize/);
  });
});
