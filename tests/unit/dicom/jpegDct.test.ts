import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeJpegDct } from '../../../src/data/dicom/jpegDct.js';
import { encodeJpegDct } from '../../../src/data/dicom/jpegDctEncode.js';
import { decodeJpeg8, loadLibJpegTurbo } from '../../../src/data/dicom/codecs.js';
import { DicomError } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

const W = 45,
  H = 37;

describe('sequential DCT JPEG decoder', () => {
  it.each([
    ['grey', 1, {}],
    ['colour 4:2:0', 3, {}],
    ['colour 4:4:4', 3, { chromaSubsampling: '4:4:4' }],
  ] as const)('matches libjpeg-turbo on 8-bit %s streams from another encoder (grey exactly)', async (_n, channels, opts) => {
    await loadLibJpegTurbo();
    const px = syntheticPixels({ rows: H, columns: W, samples: channels, bitsAllocated: 8, seed: 5, noise: 0.5 }) as Uint8Array;
    const jpeg = new Uint8Array(
      await sharp(Buffer.from(px), { raw: { width: W, height: H, channels } })
        .toColourspace(channels === 1 ? 'b-w' : 'srgb')
        .jpeg({ quality: 90, ...opts })
        .toBuffer(),
    );
    const mine = decodeJpegDct(jpeg);
    const reference = decodeJpeg8(jpeg).bytes;
    expect(mine.data.length).toBe(reference.length);
    let max = 0;
    for (let i = 0; i < reference.length; i++) max = Math.max(max, Math.abs(mine.data[i]! - reference[i]!));
    // Same integer IDCT as libjpeg, so grey is bit-exact; colour differs only in upsampling and YCbCr rounding.
    expect(max).toBeLessThanOrEqual(channels === 1 ? 0 : 2);
  });

  it.each([0, 3])('12-bit round trip through the encoder (restart interval %i)', (restartInterval) => {
    const px = syntheticPixels({ rows: H, columns: W, bitsAllocated: 16, bitsStored: 12, seed: 9, noise: 0.05 }) as Uint16Array;
    const decoded = decodeJpegDct(encodeJpegDct(px, { rows: H, columns: W, precision: 12, quantStep: 1, restartInterval }));
    expect([decoded.width, decoded.height, decoded.precision]).toEqual([W, H, 12]);
    let max = 0;
    for (let i = 0; i < px.length; i++) max = Math.max(max, Math.abs(decoded.data[i]! - px[i]!));
    expect(max).toBeLessThanOrEqual(2);
  });

  it('8-bit stream with restart markers matches libjpeg-turbo exactly', async () => {
    await loadLibJpegTurbo();
    const px = syntheticPixels({ rows: H, columns: W, bitsAllocated: 8, seed: 4, noise: 0.3 }) as Uint8Array;
    const jpeg = encodeJpegDct(px, { rows: H, columns: W, precision: 8, quantStep: 3, restartInterval: 2 });
    const mine = decodeJpegDct(jpeg).data;
    const reference = decodeJpeg8(jpeg).bytes;
    expect(Array.from(mine)).toEqual(Array.from(reference));
  });

  it('typed errors on truncated and progressive streams', () => {
    const px = syntheticPixels({ rows: H, columns: W, bitsAllocated: 16, bitsStored: 12, seed: 1 }) as Uint16Array;
    const jpeg = encodeJpegDct(px, { rows: H, columns: W, precision: 12 });
    for (const cut of [3, 20, 100, 300, Math.floor(jpeg.length / 2)]) {
      expect(() => decodeJpegDct(jpeg.subarray(0, cut))).toThrow(DicomError);
    }
    const progressive = Uint8Array.from([0xff, 0xd8, 0xff, 0xc2, 0, 11, 12, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xff, 0xd9]);
    expect(() => decodeJpegDct(progressive)).toThrow(/progressive/);
  });
});
