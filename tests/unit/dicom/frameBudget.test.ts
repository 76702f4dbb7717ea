import { describe, expect, it } from 'vitest';
import { DicomError, readDicom, TransferSyntax, writeDicom, type DicomWriteSpec } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';
import { markerAt, setU16, withEditedFrame } from './encapsulated.js';

const small: DicomWriteSpec = {
  rows: 24,
  columns: 32,
  bitsAllocated: 16,
  bitsStored: 12,
  pixels: syntheticPixels({ rows: 24, columns: 32, bitsAllocated: 16, bitsStored: 12, seed: 8, noise: 0.3 }),
};

async function timed(bytes: Uint8Array): Promise<{ code: string; message: string; ms: number }> {
  const started = Date.now();
  try {
    (await readDicom(bytes, { path: 'huge.dcm' })).toImage(0);
    return { code: 'OK', message: '', ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof DicomError)) throw error;
    return { code: error.code, message: error.message, ms: Date.now() - started };
  }
}

/** The frame header (SOF or SOF55) and the dataset both claiming rows x columns; the data stays small. */
const claim = (rows: number, columns: number, sof: number) => (frame: Uint8Array) =>
  setU16(setU16(frame, markerAt(frame, sof) + 5, rows), markerAt(frame, sof) + 7, columns);

describe('frames above the size budget fail fast, before any allocation for them', () => {
  it('a native header claiming 65535 x 65535 x 1000 frames', async () => {
    const bytes = writeDicom({ ...small, extra: { Rows: 65535, Columns: 65535, NumberOfFrames: 1000 } });
    const result = await timed(bytes);
    expect(result.code).toBe('ERR_DICOM_TOO_LARGE');
    expect(result.message).toContain('huge.dcm');
    expect(result.message).toContain('Rows (0028,0010)');
    expect(result.ms).toBeLessThan(1000);
  });

  it.each([
    ['JPEG lossless', TransferSyntax.JpegLosslessSV1, 0xffc3],
    ['JPEG-LS', TransferSyntax.JpegLsLossless, 0xfff7],
    ['12-bit JPEG Extended', TransferSyntax.JpegExtended, 0xffc1],
  ] as const)('%s whose dataset and codestream agree on 16384 x 16384', async (_name, syntax, sof) => {
    const bytes = await withEditedFrame(small, syntax, claim(16384, 16384, sof), { rows: 16384, columns: 16384 });
    const result = await timed(bytes);
    expect(result.code).toBe('ERR_DICOM_TOO_LARGE');
    expect(result.ms).toBeLessThan(1000);
  });

  it('a JPEG lossless claim within the budget but far beyond its data is truncated, not decoded into invented pixels', async () => {
    const bytes = await withEditedFrame(small, TransferSyntax.JpegLosslessSV1, claim(4096, 4096, 0xffc3), { rows: 4096, columns: 4096 });
    const result = await timed(bytes);
    expect(result.code).toBe('ERR_DICOM_TRUNCATED');
    expect(result.message).toMatch(/fewer than the \d+ a 4096x4096x1 lossless frame needs/);
    expect(result.ms).toBeLessThan(1000);
  });

  it('a real large image (4096 x 4096, 16-bit) still reads and windows', async () => {
    const rows = 4096,
      columns = 4096;
    const pixels = new Uint16Array(rows * columns);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 20;
    const image = await readDicom(grownNativeDicom(rows, columns, pixels));
    expect([image.rows, image.columns]).toEqual([rows, columns]);
    const windowed = image.toImage(0);
    expect(windowed.length).toBe(rows * columns);
    expect(image.storedPixels(0)[12345]).toBe(pixels[12345]);
  });
});

/** A 2 x 2 file written by radlearn, grown to rows x columns (dcmjs takes seconds to write 32 MB itself). */
function grownNativeDicom(rows: number, columns: number, pixels: Uint16Array): Uint8Array {
  const seed = Buffer.from(writeDicom({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, pixels: new Uint16Array(4) }));
  const head = Buffer.from(seed.subarray(0, seed.length - 8)); // PixelData is last: its 8 value bytes go
  for (const [tag, value] of [
    [[0x28, 0, 0x10, 0], rows],
    [[0x28, 0, 0x11, 0], columns],
  ] as const) {
    head.writeUInt16LE(value, head.indexOf(Buffer.from([...tag, 0x55, 0x53]), 132) + 8); // (0028,001x) US
  }
  head.writeUInt32LE(pixels.byteLength, head.length - 4); // PixelData OW length
  return new Uint8Array(Buffer.concat([head, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)]));
}
