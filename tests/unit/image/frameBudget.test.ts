import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { ImageError, readImage } from '../../../src/index.js';
import { preprocessImage, type PreprocessSettings } from '../../../src/data/cache/preprocess.js';
import { chunk, encodePng } from './pngFixture.js';

/** An 8-bit greyscale PNG of width x height whose rows are all zero (or whose IDAT is `data`), built without holding them twice. */
function zeroPng(width: number, height: number, data?: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', data ?? deflateSync(Buffer.alloc((width + 1) * height))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const settings = (extra: Partial<PreprocessSettings> = {}): PreprocessSettings => ({
  size: 512,
  dtype: 'uint16',
  window: 'auto',
  fit: 'shortSide',
  filter: 'triangle',
  color: 'grey',
  ...extra,
});

async function inTempFile<T>(name: string, bytes: Uint8Array, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-budget-'));
  try {
    await writeFile(join(dir, name), bytes);
    return await use(join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('PNG/JPEG sizes above the frame budget fail fast with ERR_IMAGE_TOO_LARGE', () => {
  it('a PNG whose header claims 9000 x 8000 pixels (a tiny file that inflates to 72 MB) is refused before decoding', async () => {
    const error = await readImage(zeroPng(9000, 8000), { path: 'bomb.png' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe('ERR_IMAGE_TOO_LARGE');
    expect((error as ImageError).message).toContain('bomb.png');
    expect((error as ImageError).message).toContain('9000x8000');
    // Refused from the header alone: with image data that is not even a zlib stream, a decode
    // attempt would fail with ERR_IMAGE_DECODE instead.
    const headerOnly = zeroPng(9000, 8000, Buffer.from('not deflate data'));
    await expect(readImage(headerOnly, { path: 'header.png' })).rejects.toMatchObject({ code: 'ERR_IMAGE_TOO_LARGE' });
  });

  it('the cache refuses a resize whose output would exceed the budget (1 x 65535 to short side 512)', async () => {
    await inTempFile('strip.png', zeroPng(1, 65535), async (path) => {
      const error = await preprocessImage(path, settings()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageError);
      expect((error as ImageError).code).toBe('ERR_IMAGE_TOO_LARGE');
      expect((error as ImageError).message).toContain(path);
      expect((error as ImageError).message).toContain("fit 'shortSide'");
      // The same strip letterboxed into a square is fine.
      const padded = await preprocessImage(path, settings({ fit: 'squarePad', size: 64 }));
      expect([padded.rows, padded.columns]).toEqual([64, 64]);
    });
  });

  it('a real large radiograph (4096 x 4096, 16-bit PNG) still reads and caches', async () => {
    const side = 4096;
    const samples = new Uint16Array(side * side);
    for (let i = 0; i < samples.length; i++) samples[i] = (i % side) * 16 + Math.floor(i / side);
    const png = encodePng(samples, side, side, 0);
    const image = await readImage(png);
    expect([image.rows, image.columns, image.bitsAllocated]).toEqual([side, side, 16]);
    expect(image.storedPixels(0)[side + 3]).toBe(samples[side + 3]);
    await inTempFile('large.png', png, async (path) => {
      const cached = await preprocessImage(path, settings({ size: 256 }));
      expect([cached.rows, cached.columns]).toEqual([256, 256]);
    });
  });
});
