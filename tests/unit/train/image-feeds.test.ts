import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { loadManifest, parseTrainConfig } from '../../../src/index.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { loadImages } from '../../../src/train/features.js';
import { ImageFeeds } from '../../../src/train/finetune/image-feeds.js';
import { cachedRows, tensorRows, type ImageRows } from '../../../src/train/finetune/image-rows.js';

const same = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let root = '';
let paths: string[] = [];
let config: TrainConfig;
const per = 32 * 32;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-image-feeds-'));
  const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 30, size: 48, seed: 7, workers: 0 })).manifestPath;
  paths = (await loadManifest(manifest)).rows.map((r) => r.imagePaths[0]!);
  config = parseTrainConfig({
    name: 'f',
    mode: 'clip-finetune',
    runsDir: join(root, 'runs'),
    steps: 1,
    data: { manifest },
    image: { size: 32 },
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The packed images a step's chunk feeds hold, chunk by chunk. */
function fed(inputs: (s: number, e: number) => Record<string, { data: unknown }>, rows: number, chunk: number): Float32Array {
  const out = new Float32Array(rows * per);
  for (let s = 0; s < rows; s += chunk) out.set(inputs(s, Math.min(rows, s + chunk)).image!.data as Float32Array, s * per);
  return out;
}

describe('fine-tuning image feeds read per batch', () => {
  it("cached rows hold the bits of loadImages' whole tensor, in any row order", async () => {
    const whole = await loadImages(config, paths);
    const rows = await cachedRows(config, paths);
    try {
      expect(rows.dims).toEqual([paths.length, 1, 32, 32]);
      const pick = Int32Array.of(29, 3, 3, 0, 17);
      const got = rows.read(pick, new Float32Array(pick.length * per));
      expect(got.dims).toEqual([5, 1, 32, 32]);
      pick.forEach((r, i) =>
        expect(same(got.data.subarray(i * per, (i + 1) * per), whole.data.subarray(r * per, (r + 1) * per))).toBe(true),
      );
      expect(() => rows.read(pick, new Float32Array(4 * per))).toThrow(/holds 4096 values, 5 images need 5120/);
    } finally {
      rows.close();
    }
  });

  it('a prefetched batch feeds what a direct read would; a withdrawn prefetch never overwrites a step still feeding', async () => {
    const whole = await loadImages(config, paths);
    const expected = (batch: Int32Array): Float32Array => {
      const out = new Float32Array(batch.length * per);
      batch.forEach((r, i) => out.set(whole.data.subarray(r * per, (r + 1) * per), i * per));
      return out;
    };
    const source: ImageRows = await cachedRows(config, paths);
    const feeds = new ImageFeeds(source, 'image');
    try {
      const b0 = Int32Array.of(4, 9, 1, 22, 13);
      const b1 = Int32Array.of(0, 28, 7, 7, 2);
      const b2 = Int32Array.of(11, 5, 19, 3, 26);
      // step 0 without a prefetch; step 1 prefetched while step 0 still feeds its chunks
      const step0 = (await feeds.batch(b0, 0)).inputs;
      feeds.prefetch(b1, 1);
      await new Promise((r) => setImmediate(r));
      expect(same(fed(step0, 5, 2), expected(b0))).toBe(true);
      const step1 = (await feeds.batch(b1, 1)).inputs;
      expect(same(fed(step1, 5, 3), expected(b1))).toBe(true);
      // a prefetch for other rows than the step's: withdrawn, read anew, and step 1's feeds untouched
      feeds.prefetch(b0, 2);
      const step2 = (await feeds.batch(b2, 2)).inputs;
      await new Promise((r) => setImmediate(r));
      expect(same(fed(step2, 5, 5), expected(b2))).toBe(true);
      expect(same(fed(step1, 5, 3), expected(b1))).toBe(true);
      // the one-off read (the encoder's width probe) has its own buffer
      expect(same(fed(feeds.rows([3]), 1, 1), expected(Int32Array.of(3)))).toBe(true);
    } finally {
      await feeds.release();
    }
  });

  it('an in-memory tensor serves the same rows', () => {
    const data = Float32Array.from({ length: 3 * 2 * 4 }, (_, i) => i + 0.5);
    const rows = tensorRows({ data, dims: [3, 2, 2, 2] });
    const got = rows.read(Int32Array.of(2, 0), new Float32Array(16));
    expect(Array.from(got.data)).toEqual([...data.subarray(16, 24), ...data.subarray(0, 8)]);
    expect(got.dims).toEqual([2, 2, 2, 2]);
  });
});
