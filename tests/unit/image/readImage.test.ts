import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readImage, readAnyImage, ImageError, writeDicom } from '../../../src/index.js';
import { syntheticPixels } from '../dicom/fixtures.js';
import { encodePng } from './pngFixture.js';

const rows = 21,
  columns = 34;

async function png(pixels: Uint8Array | Uint16Array, channels: 1 | 3): Promise<Buffer> {
  return encodePng(pixels, columns, rows, channels === 1 ? 0 : 2);
}

describe('readImage', () => {
  it.each([
    ['8-bit grey', 8, 1],
    ['16-bit grey', 16, 1],
    ['8-bit RGB', 8, 3],
    ['16-bit RGB', 16, 3],
  ] as const)('PNG %s round-trips exactly', async (_name, bits, channels) => {
    const pixels = syntheticPixels({ rows, columns, samples: channels, bitsAllocated: bits, seed: bits + channels, noise: 0.4 }) as
      Uint8Array | Uint16Array;
    const image = await readImage(await png(pixels, channels));
    expect(image.format).toBe('png');
    expect([image.rows, image.columns, image.samplesPerPixel, image.bitsAllocated]).toEqual([rows, columns, channels, bits]);
    expect(image.photometricInterpretation).toBe(channels === 1 ? 'MONOCHROME2' : 'RGB');
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
    const img = image.toImage(0, { window: 'none' });
    expect(img.length).toBe(rows * columns * channels);
  });

  it('JPEG grey and RGB within lossy tolerance', async () => {
    for (const channels of [1, 3] as const) {
      const pixels = syntheticPixels({ rows, columns, samples: channels, bitsAllocated: 8, seed: 3, noise: 0.02 }) as Uint8Array;
      const jpeg = await sharp(Buffer.from(pixels), { raw: { width: columns, height: rows, channels } })
        .toColourspace(channels === 1 ? 'b-w' : 'srgb')
        .jpeg({ quality: 95 })
        .toBuffer();
      const image = await readImage(jpeg);
      expect(image.format).toBe('jpeg');
      expect(image.samplesPerPixel).toBe(channels);
      const stored = image.storedPixels();
      let err = 0;
      for (let i = 0; i < stored.length; i++) err += Math.abs(stored[i]! - pixels[i]!);
      expect(err / stored.length).toBeLessThan(4);
    }
  });

  it('grey PNG with alpha drops the alpha channel', async () => {
    const pixels = syntheticPixels({ rows, columns, samples: 1, bitsAllocated: 8, seed: 8, noise: 0.3 }) as Uint8Array;
    const ga = new Uint8Array(rows * columns * 2);
    for (let i = 0; i < pixels.length; i++) {
      ga[2 * i] = pixels[i]!;
      ga[2 * i + 1] = 200;
    }
    const file = encodePng(ga, columns, rows, 4);
    const image = await readImage(file);
    expect(image.samplesPerPixel).toBe(1);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
  });

  it('typed errors for garbage and corrupt files; readAnyImage dispatches DICOM', async () => {
    await expect(readImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).rejects.toMatchObject({ code: 'ERR_IMAGE_FORMAT' });
    const good = await png(syntheticPixels({ rows, columns, bitsAllocated: 8, seed: 1 }) as Uint8Array, 1);
    const error = await readImage(good.subarray(0, 60), { path: 'cut.png' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe('ERR_IMAGE_DECODE');
    expect((error as ImageError).message).toContain('cut.png');
    const spec = { rows, columns, bitsAllocated: 16 as const, pixels: syntheticPixels({ rows, columns, bitsAllocated: 16, seed: 2 }) };
    const dicom = await readAnyImage(writeDicom(spec));
    expect(dicom.format).toBe('dicom');
    expect(Array.from(dicom.storedPixels())).toEqual(Array.from(spec.pixels));
  });
});
