import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageEncoder } from '../../../src/encoders/image-encoder.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { buildImageCache, loadManifest, parseTrainConfig } from '../../../src/index.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { encodeImages } from '../../../src/train/features.js';
import { openImageReader, prepareImages, readImages, trainCacheSettings, type PreparedImages } from '../../../src/train/images.js';

const same = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let root = '';
let paths: string[] = [];
let config: TrainConfig;
let prepared: PreparedImages;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-image-reading-'));
  const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 42, size: 48, seed: 5, workers: 0 })).manifestPath;
  paths = (await loadManifest(manifest)).rows.map((r) => r.imagePaths[0]!);
  config = parseTrainConfig({
    name: 'r',
    mode: 'supervised',
    runsDir: join(root, 'runs'),
    steps: 1,
    data: { manifest },
    image: { size: 32 },
  });
  // decoded by worker threads (train's own cache)
  prepared = await prepareImages(config, paths);
});

describe("train's own cache decoded on worker threads", () => {
  it('holds the pixels a build in this thread makes', async () => {
    expect(prepared.decoded).toBe(paths.length);
    const serial = join(root, 'serial');
    await buildImageCache(paths, { out: serial, ...trainCacheSettings(config), workers: 0 });
    const external = parseTrainConfig({ ...config, name: 's', data: { ...config.data, cache: serial } });
    const fromSerial = await readImages(external, paths, await prepareImages(external, paths));
    expect(same(fromSerial.data, (await readImages(config, paths, prepared)).data)).toBe(true);
  });
});

describe('the image reader', () => {
  it('reads chunks into a reused buffer with the bits of one read of every image', async () => {
    const whole = await readImages(config, paths, prepared);
    const reader = await openImageReader(config, prepared);
    try {
      const per = 32 * 32;
      const buffer = new Float32Array(8 * per);
      for (let start = 0; start < paths.length; start += 8) {
        const chunk = reader.read(paths.slice(start, start + 8), buffer);
        expect(chunk.dims).toEqual([Math.min(8, paths.length - start), 1, 32, 32]);
        expect(same(chunk.data, whole.data.subarray(start * per, (start + chunk.dims[0]) * per))).toBe(true);
      }
      expect(() => reader.read(paths.slice(0, 9), buffer)).toThrow(/holds 8192 values, 9 images need 9216/);
    } finally {
      reader.close();
    }
  });
});

describe('encodeImages', () => {
  let encoder: ImageEncoder;
  afterAll(async () => encoder?.dispose());

  it('gives the features one encode of every image gives, chunk by chunk', async () => {
    encoder = await ImageEncoder.create(buildResNetEncoder({ widths: [4, 8], blocks: [1, 1], seed: 2 }).model, {
      inProcess: true,
      batchSize: 4,
    });
    const whole = await encoder.encode(await readImages(config, paths, prepared));
    const reader = await openImageReader(config, prepared);
    const done: number[] = [];
    try {
      // 42 images in chunks of 16 (4 batches of 4): two full chunks and a partial one
      const chunked = await encodeImages(encoder, reader, paths, 32, (n) => done.push(n));
      expect(chunked.dims).toEqual([...whole.dims]);
      expect(same(chunked.data, whole.data)).toBe(true);
      expect(done).toEqual([16, 32, 42]);
    } finally {
      reader.close();
    }
  });
});
