import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildImageCache, DicomError, ImageError, readAnyImage, sniffFormat, writeDicom } from '../../../src/index.js';
import { syntheticPixels } from '../dicom/fixtures.js';

let dir = '';
let jpeg: Buffer;
let png: Buffer;
let dicom: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-classify-'));
  const grey = syntheticPixels({ rows: 48, columns: 40, bitsAllocated: 8, seed: 4, noise: 0.5 }) as Uint8Array;
  jpeg = await sharp(Buffer.from(grey), { raw: { width: 40, height: 48, channels: 1 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  png = await sharp(Buffer.from(grey), { raw: { width: 40, height: 48, channels: 1 } })
    .png()
    .toBuffer();
  dicom = writeDicom({
    rows: 12,
    columns: 10,
    bitsAllocated: 16,
    pixels: syntheticPixels({ rows: 12, columns: 10, bitsAllocated: 16, seed: 2 }),
  });
});

async function failureOf(bytes: Uint8Array, name: string): Promise<{ error: unknown; cache: { code: string; message: string } }> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const error = await readAnyImage(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  const out = await mkdtemp(join(tmpdir(), 'radlearn-classify-cache-'));
  const summary = await buildImageCache([path], { out, size: 16, workers: 0 });
  expect(summary.failed).toBe(1);
  return { error, cache: summary.failures[0]! };
}

describe('a file that cannot be read says what it is', () => {
  it('the fixtures decode whole (so the failures below come from the damage)', async () => {
    for (const bytes of [jpeg, png, dicom]) expect((await readAnyImage(new Uint8Array(bytes))).rows).toBeGreaterThan(0);
  });

  it('a truncated JPEG is a JPEG decode error, never "not a DICOM file", whatever its name', async () => {
    for (const [cut, name] of [
      [Math.floor(jpeg.length / 2), 'half.jpg'],
      [200, 'header.dcm'],
      [2, 'soi-only.jpg'],
    ] as const) {
      const { error, cache } = await failureOf(jpeg.subarray(0, cut), name);
      expect(error).toBeInstanceOf(ImageError);
      expect(error).toMatchObject({ code: 'ERR_IMAGE_DECODE', details: { format: 'jpeg', bytes: cut } });
      expect((error as Error).message).toContain(`${name}: JPEG file (${cut} bytes) could not be decoded, truncated or corrupt`);
      expect((error as Error).message).not.toMatch(/DICOM/);
      expect(cache).toMatchObject({ code: 'ERR_IMAGE_DECODE', message: (error as Error).message });
    }
  });

  it('a truncated PNG is a PNG decode error', async () => {
    for (const cut of [Math.floor(png.length / 2), 6]) {
      const { error, cache } = await failureOf(png.subarray(0, cut), `cut-${cut}.png`);
      expect(error).toBeInstanceOf(ImageError);
      expect(error).toMatchObject({ code: 'ERR_IMAGE_DECODE', details: { format: 'png' } });
      expect((error as Error).message).toContain(`PNG file (${cut} bytes) could not be decoded`);
      expect(cache.code).toBe('ERR_IMAGE_DECODE');
    }
  });

  it('a file that is no DICOM, PNG or JPEG says so and what it looks like', async () => {
    const cases: Array<[Uint8Array, string, RegExp]> = [
      [
        Buffer.from('<!DOCTYPE html><html><body>404 Not Found</body></html>'),
        'download.jpg',
        /the name says JPEG, the content is not\): HTML\/XML text/,
      ],
      [
        Buffer.from('patient_id,label\nP1,1\n'),
        'labels.dcm',
        /the name says DICOM, the content is not\): text \(\d+ bytes\) starting "patient_id,label P1,1"/,
      ],
      [new Uint8Array(0), 'empty.png', /the name says PNG, the content is not\): the file is empty \(0 bytes\)/],
      [Buffer.concat([Buffer.alloc(200), jpeg.subarray(200)]), 'zeroed.jpg', /the first 64 bytes are zero/],
      [Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 0, 0]), 'scan', /not a DICOM, PNG or JPEG file: a TIFF image \(10 bytes\)/],
    ];
    for (const [bytes, name, pattern] of cases) {
      const { error, cache } = await failureOf(bytes, name);
      expect(error).toBeInstanceOf(ImageError);
      expect((error as ImageError).code).toBe('ERR_IMAGE_FORMAT');
      expect((error as Error).message).toContain(`${name}: not a DICOM, PNG or JPEG file`);
      expect((error as Error).message).toMatch(pattern);
      expect(cache.code).toBe('ERR_IMAGE_FORMAT');
    }
  });

  it('a DICOM with a bad pixel payload stays a DicomError with its code', async () => {
    const truncated = await failureOf(dicom.subarray(0, dicom.length - 40), 'truncated.dcm');
    expect(truncated.error).toBeInstanceOf(DicomError);
    expect(truncated.cache.code).toBe('ERR_DICOM_TRUNCATED');
    const wrongRows = writeDicom({
      rows: 12,
      columns: 10,
      bitsAllocated: 16,
      pixels: syntheticPixels({ rows: 12, columns: 10, bitsAllocated: 16, seed: 2 }),
      extra: { Rows: 13 },
    });
    const length = await failureOf(wrongRows, 'length.dcm');
    expect(length.error).toBeInstanceOf(DicomError);
    expect(length.cache.code).toBe('ERR_DICOM_PIXEL_LENGTH');
  });

  it('sniffFormat names PNG and JPEG from their first bytes, even cut inside the signature', () => {
    expect(sniffFormat(new Uint8Array(jpeg.subarray(0, 2)))).toBe('jpeg');
    expect(sniffFormat(new Uint8Array(png.subarray(0, 4)))).toBe('png');
    expect(sniffFormat(new Uint8Array([0xff, 0xd8, 0x00]))).toBeUndefined();
    expect(sniffFormat(new Uint8Array(dicom))).toBe('dicom');
  });
});
