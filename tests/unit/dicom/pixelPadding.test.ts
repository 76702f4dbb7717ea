/** Native PixelData longer than its frames need: the excess is padding and is ignored, as pydicom does. */
import { describe, expect, it } from 'vitest';
import { readDicom, writeDicom } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

describe('native PixelData with trailing padding', () => {
  it('reads the declared rows and ignores a whole padding row after them', async () => {
    const pixels = syntheticPixels({ rows: 9, columns: 11, bitsAllocated: 16, seed: 4, noise: 0.3 }) as Uint16Array;
    // 9 rows written, 8 declared: the last row is 22 bytes of trailing data.
    const image = await readDicom(writeDicom({ rows: 9, columns: 11, bitsAllocated: 16, pixels, extra: { Rows: 8 } }));
    expect([image.rows, image.columns]).toEqual([8, 11]);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels.subarray(0, 8 * 11)));
  });

  it('splits frames from the start of the data when padding follows the last frame', async () => {
    const pixels = syntheticPixels({ rows: 6, columns: 4, frames: 3, bitsAllocated: 8, seed: 5, noise: 0.5 }) as Uint8Array;
    // Three 6x4 frames written, two declared: the third is padding.
    const image = await readDicom(
      writeDicom({ rows: 6, columns: 4, bitsAllocated: 8, numberOfFrames: 3, pixels, extra: { NumberOfFrames: 2 } }),
    );
    expect(image.numberOfFrames).toBe(2);
    expect(Array.from(image.storedPixels(0))).toEqual(Array.from(pixels.subarray(0, 24)));
    expect(Array.from(image.storedPixels(1))).toEqual(Array.from(pixels.subarray(24, 48)));
  });
});
