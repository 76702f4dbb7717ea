import { describe, expect, it } from 'vitest';
import { encodeDicom, readDicom, TransferSyntax, DicomError, writeDicom } from '../../../src/index.js';
import type { DicomWriteSpec } from '../../../src/index.js';
import { writeEncapsulatedDicom } from '../../../src/data/dicom/write.js';
import { syntheticPixels } from './fixtures.js';

type Case = {
  name: string;
  syntax: string;
  bitsAllocated: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  samples?: 1 | 3;
  frames?: number;
  tolerance?: number;
  meanTolerance?: number;
};

const LOSSLESS: Case[] = [];
const syntaxes = [
  ['implicit LE', TransferSyntax.ImplicitVRLittleEndian],
  ['explicit LE', TransferSyntax.ExplicitVRLittleEndian],
  ['explicit BE', TransferSyntax.ExplicitVRBigEndian],
  ['deflated', TransferSyntax.DeflatedExplicitVRLittleEndian],
  ['RLE', TransferSyntax.RleLossless],
  ['JPEG lossless p14', TransferSyntax.JpegLossless],
  ['JPEG lossless SV1', TransferSyntax.JpegLosslessSV1],
  ['JPEG-LS lossless', TransferSyntax.JpegLsLossless],
  ['JPEG 2000 lossless', TransferSyntax.Jpeg2000Lossless],
] as const;
for (const [name, syntax] of syntaxes) {
  LOSSLESS.push({ name: `${name} u16`, syntax, bitsAllocated: 16 });
  LOSSLESS.push({ name: `${name} s16 12-bit stored`, syntax, bitsAllocated: 16, bitsStored: 12, signed: true });
  LOSSLESS.push({ name: `${name} u8 RGB`, syntax, bitsAllocated: 8, samples: 3 });
  LOSSLESS.push({ name: `${name} u16 3 frames`, syntax, bitsAllocated: 16, bitsStored: 14, frames: 3 });
}
// Odd sizes everywhere: 8-bit mono with odd rows*columns exercises padding.
LOSSLESS.push({ name: 'explicit LE u8 odd length', syntax: TransferSyntax.ExplicitVRLittleEndian, bitsAllocated: 8 });
LOSSLESS.push({ name: 'RLE s8', syntax: TransferSyntax.RleLossless, bitsAllocated: 8, signed: true });

const LOSSY: Case[] = [
  { name: 'JPEG-LS near-lossless (NEAR=2)', syntax: TransferSyntax.JpegLsNearLossless, bitsAllocated: 16, bitsStored: 12, tolerance: 2 },
  { name: 'JPEG 2000 lossy u16', syntax: TransferSyntax.Jpeg2000, bitsAllocated: 16, bitsStored: 12, meanTolerance: 0.01 },
  { name: 'JPEG baseline u8 mono', syntax: TransferSyntax.JpegBaseline, bitsAllocated: 8, meanTolerance: 0.02 },
  { name: 'JPEG baseline u8 RGB', syntax: TransferSyntax.JpegBaseline, bitsAllocated: 8, samples: 3, meanTolerance: 0.03 },
  { name: 'JPEG extended 8-bit', syntax: TransferSyntax.JpegExtended, bitsAllocated: 8, meanTolerance: 0.02 },
];

function specFor(c: Case, seed: number): DicomWriteSpec {
  const rows = 29,
    columns = 37; // awkward sizes
  const pixels = syntheticPixels({
    rows,
    columns,
    frames: c.frames,
    samples: c.samples,
    bitsAllocated: c.bitsAllocated,
    bitsStored: c.bitsStored,
    signed: c.signed,
    seed,
    noise: c.tolerance !== undefined || c.meanTolerance !== undefined ? 0.02 : 0.3,
  });
  return {
    rows,
    columns,
    numberOfFrames: c.frames,
    samplesPerPixel: c.samples,
    bitsAllocated: c.bitsAllocated,
    bitsStored: c.bitsStored,
    pixelRepresentation: c.signed ? 1 : 0,
    pixels,
    transferSyntaxUID: c.syntax,
    modality: 'DX',
    viewPosition: 'PA',
    patientId: 'P001',
    pixelSpacing: [0.139, 0.14],
  };
}

describe('readDicom decodes every transfer syntax to the written stored values', () => {
  it.each(LOSSLESS)('$name', async (c) => {
    const spec = specFor(c, 7 + c.name.length);
    const bytes = await encodeDicom(spec);
    const image = await readDicom(bytes);
    expect(image.transferSyntaxUID).toBe(c.syntax);
    expect([image.rows, image.columns, image.numberOfFrames]).toEqual([29, 37, c.frames ?? 1]);
    expect(image.pixelRepresentation).toBe(c.signed ? 1 : 0);
    const perFrame = 29 * 37 * (c.samples ?? 1);
    for (let f = 0; f < (c.frames ?? 1); f++) {
      const stored = image.storedPixels(f);
      expect(stored.length).toBe(perFrame);
      expect(stored.constructor.name).toBe(spec.pixels.constructor.name);
      expect(Array.from(stored)).toEqual(Array.from(spec.pixels.subarray(f * perFrame, (f + 1) * perFrame)));
    }
    expect(image.pixelSpacing).toEqual([0.139, 0.14]);
    expect(image.modality).toBe('DX');
  });

  it.each(LOSSY)('$name within codec tolerance', async (c) => {
    const spec = specFor(c, 99);
    const image = await readDicom(await encodeDicom(spec));
    const stored = image.storedPixels(0);
    const range = 2 ** (c.bitsStored ?? c.bitsAllocated);
    let maxErr = 0,
      sumErr = 0;
    for (let i = 0; i < stored.length; i++) {
      const e = Math.abs(stored[i]! - spec.pixels[i]!);
      maxErr = Math.max(maxErr, e);
      sumErr += e;
    }
    if (c.tolerance !== undefined) expect(maxErr).toBeLessThanOrEqual(c.tolerance);
    if (c.meanTolerance !== undefined) expect(sumErr / stored.length / range).toBeLessThan(c.meanTolerance);
    expect(maxErr).toBeGreaterThanOrEqual(0);
  });

  it('decodes 12-bit lossy JPEG Extended (own DCT decoder) within codec tolerance', async () => {
    const spec = specFor({ name: 'x', syntax: TransferSyntax.JpegExtended, bitsAllocated: 16, bitsStored: 12, meanTolerance: 0 }, 4);
    const image = await readDicom(await encodeDicom(spec, { jpegQuantStep: 1 }));
    const stored = image.storedPixels();
    let max = 0;
    for (let i = 0; i < stored.length; i++) max = Math.max(max, Math.abs(stored[i]! - spec.pixels[i]!));
    expect(max).toBeLessThanOrEqual(2);
  });

  it('rejects progressive 12-bit JPEG with a typed error naming the syntax', async () => {
    const sof2 = Uint8Array.from([0xff, 0xd8, 0xff, 0xc2, 0, 11, 12, 0, 29, 0, 37, 1, 1, 0x11, 0, 0xff, 0xd9]);
    const bytes = writeEncapsulatedDicom(
      { rows: 29, columns: 37, bitsAllocated: 16, bitsStored: 12, transferSyntaxUID: TransferSyntax.JpegExtended },
      [sof2],
    );
    const error = await readDicom(bytes, { path: 'twelve.dcm' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('ERR_DICOM_UNSUPPORTED_SYNTAX');
    expect((error as DicomError).message).toContain('1.2.840.10008.1.2.4.51');
    expect((error as DicomError).message).toContain('twelve.dcm');
  });

  it('rejects an unknown transfer syntax', async () => {
    const spec = specFor({ name: 'x', syntax: TransferSyntax.ExplicitVRLittleEndian, bitsAllocated: 16 }, 3);
    const bytes = writeDicom(spec);
    const patched = Buffer.from(bytes).toString('latin1').replace('1.2.840.10008.1.2.1\0', '1.2.840.10008.1.2.99');
    const error = await readDicom(Buffer.from(patched, 'latin1')).catch((e: unknown) => e);
    expect((error as DicomError).code).toBe('ERR_DICOM_UNSUPPORTED_SYNTAX');
  });
});
