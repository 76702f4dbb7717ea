import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, writeFile, utimes, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageCache, openImageCache, encodeDicom, writeDicom, TransferSyntax, type CacheBuildEvent } from '../../../src/index.js';
import { preprocessImage } from '../../../src/data/cache/preprocess.js';
import { syntheticPixels } from '../dicom/fixtures.js';
import { encodePng } from '../image/pngFixture.js';

let dir: string;
const files: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-cache-src-'));
  const syntaxes = [
    TransferSyntax.ExplicitVRLittleEndian,
    TransferSyntax.RleLossless,
    TransferSyntax.JpegLsLossless,
    TransferSyntax.Jpeg2000Lossless,
    TransferSyntax.JpegLosslessSV1,
    TransferSyntax.ImplicitVRLittleEndian,
  ];
  for (let i = 0; i < syntaxes.length; i++) {
    const rows = 97 + i * 13,
      columns = 131 - i * 7;
    const pixels = syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 12, seed: i, noise: 0.2 });
    const path = join(dir, `img${i}.dcm`);
    await writeFile(
      path,
      await encodeDicom({
        rows,
        columns,
        bitsAllocated: 16,
        bitsStored: 12,
        pixels,
        transferSyntaxUID: syntaxes[i],
        modality: 'CR',
        viewPosition: i % 2 ? 'AP' : 'PA',
        patientId: `P${i}`,
        pixelSpacing: [0.2, 0.2],
        photometricInterpretation: i === 2 ? 'MONOCHROME1' : 'MONOCHROME2',
      }),
    );
    files.push(path);
  }
  const png = syntheticPixels({ rows: 80, columns: 120, samples: 3, bitsAllocated: 8, seed: 42, noise: 0.3 }) as Uint8Array;
  await writeFile(join(dir, 'rgb.png'), encodePng(png, 120, 80, 2));
  files.push(join(dir, 'rgb.png'));
  await writeFile(
    join(dir, 'broken.dcm'),
    writeDicom({
      rows: 10,
      columns: 10,
      bitsAllocated: 8,
      pixels: syntheticPixels({ rows: 10, columns: 10, bitsAllocated: 8, seed: 1 }),
    }).subarray(0, 200),
  );
  files.push(join(dir, 'broken.dcm'));
});

describe('buildImageCache / openImageCache', () => {
  it('builds with worker threads, records failures with codes, and reads back what preprocessing produced', async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    const events: CacheBuildEvent[] = [];
    const summary = await buildImageCache(dir, { out, size: 64, dtype: 'uint16', workers: 2, onProgress: (e) => events.push(e) });
    expect(summary.total).toBe(8);
    expect(summary.built).toBe(7);
    expect(summary.failed).toBe(1);
    expect(summary.failures[0]!.path).toBe(join(dir, 'broken.dcm'));
    expect(summary.failures[0]!.code).toBe('ERR_DICOM_TRUNCATED');
    expect(summary.imagesPerSec).toBeGreaterThan(0);
    expect(events[0]!.type).toBe('start');
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(8);
    expect(events.at(-1)!.type).toBe('done');

    const cache = await openImageCache(out);
    expect(cache.length).toBe(7);
    for (let i = 0; i < cache.length; i++) {
      const entry = cache.entries[i]!;
      const [rows, columns, channels] = cache.shape(i);
      expect(Math.min(rows, columns)).toBe(64);
      expect(channels).toBe(1);
      const expected = await preprocessImage(entry.path, cache.settings);
      const got = cache.get(i);
      expect(got).toBeInstanceOf(Uint16Array);
      expect(Array.from(got)).toEqual(Array.from(expected.data));
      if (entry.meta.format === 'dicom') {
        expect(entry.meta.modality).toBe('CR');
        expect(entry.meta.pixelSpacing![0]).toBeCloseTo((0.2 * entry.meta.sourceRows) / rows, 6);
      }
    }
    // Zero-copy: two gets share the one loaded buffer.
    expect(cache.get(0).buffer).toBe(cache.get(1).buffer);
    cache.close();
  });

  it('is incremental: unchanged files are reused, touched files rebuilt', async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    await buildImageCache(dir, { out, size: 48, dtype: 'uint8', workers: 0 });
    const again = await buildImageCache(dir, { out, size: 48, dtype: 'uint8', workers: 0 });
    expect(again.built).toBe(0);
    expect(again.reused).toBe(7);
    expect(again.failed).toBe(1); // the broken file is not retried while unchanged
    const later = new Date(Date.now() + 5000);
    await utimes(files[1]!, later, later);
    const third = await buildImageCache(dir, { out, size: 48, dtype: 'uint8', workers: 0 });
    expect(third.built).toBe(1);
    expect(third.reused).toBe(6);
    const cache = await openImageCache(out, { mode: 'pread' });
    const i = cache.indexOfPath(files[1]!);
    const expected = await preprocessImage(files[1]!, cache.settings);
    expect(Array.from(cache.get(i))).toEqual(Array.from(expected.data));
    cache.close();
    // New settings start a new data file and remove the old one.
    await buildImageCache(dir, { out, size: 32, dtype: 'uint8', workers: 0 });
    expect((await readdir(out)).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
  });

  it('resumes an interrupted build', async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    const controller = new AbortController();
    const first = await buildImageCache(dir, {
      out,
      size: 40,
      workers: 0,
      checkpointEvery: 1,
      checkpointSeconds: 0,
      onProgress: (e) => {
        if (e.type === 'progress' && e.done === 3) controller.abort();
      },
      signal: controller.signal,
    });
    expect(first.aborted).toBe(true);
    expect(first.built + first.failed).toBeLessThan(8);
    const second = await buildImageCache(dir, { out, size: 40, workers: 0 });
    expect(second.reused).toBe(first.built);
    expect(second.built + second.reused).toBe(7);
  });

  it('readBatch packs equal-shape images into one [B,H,W,C] tensor', async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    await buildImageCache(dir, { out, size: 32, fit: 'squarePad', workers: 0 });
    for (const [mode, chunkBytes] of [
      ['memory', undefined],
      ['memory', 3000],
      ['pread', undefined],
    ] as const) {
      const cache = await openImageCache(out, { mode, chunkBytes });
      const indices = [3, 0, 5, 3];
      const batch = cache.readBatch(indices);
      expect(batch.dims).toEqual([4, 32, 32, 1]);
      for (let b = 0; b < indices.length; b++) {
        expect(Array.from(batch.data.subarray(b * 1024, (b + 1) * 1024))).toEqual(Array.from(cache.get(indices[b]!)));
      }
      expect(() => cache.get(99)).toThrow(/out of range/);
      cache.close();
    }
  });

  it("get() reads into the caller's scratch buffer in pread mode, and ignores one that does not fit", async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    await buildImageCache(dir, { out, size: 32, fit: 'squarePad', dtype: 'uint16', workers: 0 });
    const memory = await openImageCache(out, { mode: 'memory' });
    const pread = await openImageCache(out, { mode: 'pread' });
    const scratch = new Uint16Array(2000).fill(7);
    for (const i of [4, 1, 4]) {
      const px = pread.get(i, scratch);
      expect(px.buffer).toBe(scratch.buffer);
      expect(px.length).toBe(1024);
      expect(Array.from(px)).toEqual(Array.from(memory.get(i)));
    }
    expect(scratch[1024]).toBe(7); // nothing written past the image
    // too small, or 8-bit for a 16-bit cache: a new array, same pixels
    for (const wrong of [new Uint16Array(100), new Uint8Array(4096)]) {
      const px = pread.get(2, wrong);
      expect(px.buffer).not.toBe(wrong.buffer);
      expect(Array.from(px)).toEqual(Array.from(memory.get(2)));
    }
    // memory mode hands out its own view whatever the scratch
    expect(memory.get(3, scratch).buffer).not.toBe(scratch.buffer);
    memory.close();
    pread.close();
  });

  it('two concurrent builds of one folder take turns (lock) and agree', async () => {
    const out = await mkdtemp(join(tmpdir(), 'radlearn-cache-'));
    const [a, b] = await Promise.all([
      buildImageCache(dir, { out, size: 24, workers: 0 }),
      buildImageCache(dir, { out, size: 24, workers: 0 }),
    ]);
    expect(a.built + b.built).toBe(7);
    expect(a.reused + b.reused).toBe(7);
    const cache = await openImageCache(out);
    expect(cache.length).toBe(7);
    for (let i = 0; i < cache.length; i++) {
      const expected = await preprocessImage(cache.entries[i]!.path, cache.settings);
      expect(Array.from(cache.get(i))).toEqual(Array.from(expected.data));
    }
    expect((await readdir(out)).includes('.lock')).toBe(false);
  });
});
