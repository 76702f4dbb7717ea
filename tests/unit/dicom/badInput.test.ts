import { describe, expect, it } from 'vitest';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomError, encodeDicom, readDicom, writeDicom, TransferSyntax } from '../../../src/index.js';
import type { DicomWriteSpec } from '../../../src/index.js';
import { mulberry32, syntheticPixels } from './fixtures.js';

async function codeOf(source: string | Uint8Array): Promise<string> {
  try {
    const image = await readDicom(source, { path: 'bad.dcm' });
    for (let f = 0; f < image.numberOfFrames; f++) image.toImage(f);
    return 'OK';
  } catch (error) {
    if (!(error instanceof DicomError)) throw error;
    return error.code;
  }
}

const small = (extra: Partial<DicomWriteSpec> = {}): DicomWriteSpec => ({
  rows: 9,
  columns: 11,
  bitsAllocated: 16,
  bitsStored: 12,
  pixels: syntheticPixels({ rows: 9, columns: 11, bitsAllocated: 16, bitsStored: 12, seed: 3, noise: 0.4 }),
  ...extra,
});

describe('bad input gives a typed DicomError with the path', () => {
  it('garbage bytes', async () => {
    const rand = mulberry32(1);
    const junk = Uint8Array.from({ length: 600 }, () => Math.floor(rand() * 256));
    expect(await codeOf(junk)).toBe('ERR_DICOM_NOT_DICOM');
    expect(await codeOf(new Uint8Array(3))).toBe('ERR_DICOM_NOT_DICOM');
  });

  it('truncated file', async () => {
    const bytes = writeDicom(small());
    expect(await codeOf(bytes.subarray(0, bytes.length - 10))).toBe('ERR_DICOM_TRUNCATED');
  });

  it('missing PixelData', async () => {
    const spec = small();
    const bytes = writeDicom(spec);
    // Cut off the whole PixelData element: tag(4) VR(2) reserved(2) length(4) + data.
    const cut = bytes.subarray(0, bytes.length - spec.pixels.byteLength - 12);
    const error = (await readDicom(cut, { path: 'nopix.dcm' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as DicomError;
    expect(error.code).toBe('ERR_DICOM_NO_PIXEL_DATA');
    expect(error.message).toContain('nopix.dcm');
    expect(error.details.path).toBe('nopix.dcm');
  });

  it('rows x columns x frames inconsistent with the data length', async () => {
    const spec = small({ extra: { NumberOfFrames: 2 } });
    expect(await codeOf(writeDicom(spec))).toBe('ERR_DICOM_PIXEL_LENGTH');
    const spec2 = small({ extra: { Rows: 10 } });
    expect(await codeOf(writeDicom(spec2))).toBe('ERR_DICOM_PIXEL_LENGTH');
  });

  it('a huge Rows claim in a compressed file fails before allocating for it', async () => {
    for (const syntax of [TransferSyntax.RleLossless, TransferSyntax.JpegLsLossless, TransferSyntax.Jpeg2000Lossless]) {
      const bytes = (await encodeDicom(small({ transferSyntaxUID: syntax }))).slice();
      const rowsTag = Buffer.from([0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00]);
      const at = Buffer.from(bytes).indexOf(rowsTag);
      expect(at).toBeGreaterThan(0);
      bytes[at + 8] = 0xff;
      bytes[at + 9] = 0xff; // Rows = 65535
      const code = await codeOf(bytes);
      expect(['ERR_DICOM_DECODE', 'ERR_DICOM_PIXEL_LENGTH']).toContain(code);
    }
  });

  it('DICOMDIR', async () => {
    const bytes = writeDicom(small({ extra: { FileSetID: 'SET', DirectoryRecordSequence: [] } }));
    expect(await codeOf(bytes)).toBe('ERR_DICOM_DICOMDIR');
  });

  it('missing file names the path', async () => {
    const error = (await readDicom('/nonexistent/x.dcm').then(
      () => undefined,
      (e: unknown) => e,
    )) as DicomError;
    expect(error.code).toBe('ERR_MISSING_FILE');
    expect(error.message).toContain('/nonexistent/x.dcm');
  });

  it('frame out of range', async () => {
    const image = await readDicom(writeDicom(small()));
    expect(() => image.storedPixels(1)).toThrow(DicomError);
  });

  it('reads from a path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-dicom-'));
    const spec = small();
    await writeFile(join(dir, 'a.dcm'), writeDicom(spec));
    const image = await readDicom(join(dir, 'a.dcm'));
    expect(image.path).toBe(join(dir, 'a.dcm'));
    expect(Array.from(image.storedPixels())).toEqual(Array.from(spec.pixels));
  });
});

describe('fuzz: truncation and bit flips give typed errors or correct output only', () => {
  const cases: [string, DicomWriteSpec][] = [
    ['explicit LE', small()],
    ['implicit LE', small({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian })],
    ['deflated', small({ transferSyntaxUID: TransferSyntax.DeflatedExplicitVRLittleEndian })],
    ['RLE', small({ transferSyntaxUID: TransferSyntax.RleLossless })],
    ['JPEG-LS', small({ transferSyntaxUID: TransferSyntax.JpegLsLossless })],
    ['JPEG 2000', small({ transferSyntaxUID: TransferSyntax.Jpeg2000Lossless })],
    ['JPEG lossless', small({ transferSyntaxUID: TransferSyntax.JpegLosslessSV1 })],
    ['JPEG 12-bit extended', small({ transferSyntaxUID: TransferSyntax.JpegExtended })],
  ];
  it.each(cases)('%s', async (_name, spec) => {
    const bytes = await encodeDicom(spec);
    const rand = mulberry32(bytes.length);
    const started = Date.now();
    const outcomes = new Map<string, number>();
    const tally = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    // Truncations at 25 offsets spread over the file.
    for (let k = 1; k <= 25; k++) {
      const cut = Math.floor((bytes.length * k) / 26);
      const code = await codeOf(bytes.subarray(0, cut));
      expect(code).not.toBe('OK');
      tally(code);
    }
    // 40 single-bit flips at random offsets: either a typed error, or pixels that
    // are still the written ones (a flip in a harmless header byte), or a flip that
    // landed inside native pixel bytes (which no format can detect).
    const native = spec.transferSyntaxUID === undefined || spec.transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian;
    const pixelStart = native ? bytes.length - spec.pixels.byteLength : bytes.length;
    for (let k = 0; k < 40; k++) {
      const at = Math.floor(rand() * bytes.length);
      const flipped = bytes.slice();
      flipped[at] = flipped[at]! ^ (1 << Math.floor(rand() * 8));
      let code: string;
      try {
        const image = await readDicom(flipped);
        const stored = image.storedPixels(0);
        image.toImage(0);
        const same = stored.length === spec.pixels.length && stored.every((v, i) => v === spec.pixels[i]);
        code = same
          ? 'OK-identical'
          : at >= pixelStart
            ? 'OK-pixel-byte'
            : followsHeader(stored, spec, image)
              ? 'OK-header-changed'
              : `WRONG@${at}`;
        // Compressed streams may decode to different values after a flip inside the
        // codestream; the shape must still be right and the values finite.
        if (!same && at < pixelStart && !native) {
          expect(stored.length).toBe(spec.pixels.length);
          code = 'OK-codestream';
        }
      } catch (error) {
        if (!(error instanceof DicomError)) throw error;
        code = error.code;
      }
      expect(code.startsWith('WRONG')).toBe(false);
      tally(code);
    }
    expect(Date.now() - started).toBeLessThan(20_000);
    expect([...outcomes.keys()].some((k) => k.startsWith('ERR_DICOM'))).toBe(true);
  });
});

/** A flip in BitsStored/HighBit/PixelRepresentation legitimately changes the stored values: check them against the new header. */
function followsHeader(
  stored: ArrayLike<number>,
  spec: DicomWriteSpec,
  image: { bitsStored: number; highBit: number; pixelRepresentation: number },
): boolean {
  const unchanged =
    image.bitsStored === (spec.bitsStored ?? spec.bitsAllocated) &&
    image.highBit === image.bitsStored - 1 &&
    image.pixelRepresentation === (spec.pixelRepresentation ?? 0);
  if (unchanged || stored.length !== spec.pixels.length) return false;
  const raw =
    spec.bitsAllocated === 16
      ? new Uint16Array(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.length)
      : new Uint8Array(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.length);
  const shift = image.highBit + 1 - image.bitsStored;
  const up = 32 - image.bitsStored;
  for (let i = 0; i < stored.length; i++) {
    const v = (raw[i]! >>> shift) & (2 ** image.bitsStored - 1);
    if (stored[i] !== (image.pixelRepresentation === 1 ? (v << up) >> up : v)) return false;
  }
  return true;
}
