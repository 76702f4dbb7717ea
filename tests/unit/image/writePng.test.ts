import { expect, it } from 'vitest';
import { encodePngImage, readImage } from '../../../src/index.js';
import { mulberry32 } from '../dicom/fixtures.js';

it.each([
  [8, 1],
  [16, 1],
  [8, 3],
  [16, 3],
] as const)('encodePngImage %i-bit, %i channel(s) round-trips', async (depth, channels) => {
  const rows = 13,
    columns = 22;
  const rand = mulberry32(depth * 10 + channels);
  const img = Float32Array.from({ length: rows * columns * channels }, () => rand());
  const back = await readImage(await encodePngImage(img, rows, columns, channels, { bitDepth: depth }));
  expect([back.rows, back.columns, back.samplesPerPixel, back.bitsAllocated]).toEqual([rows, columns, channels, depth]);
  const max = depth === 16 ? 65535 : 255;
  const stored = back.storedPixels();
  for (let i = 0; i < img.length; i++) expect(stored[i]).toBe(Math.round(img[i]! * max));
});
