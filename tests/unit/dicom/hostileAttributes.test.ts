import { describe, expect, it } from 'vitest';
import { DicomError, readDicom, readDicomHeader, TransferSyntax, writeDicom, type DicomWriteSpec } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

const rows = 9,
  columns = 11;
const grey = (extra: Partial<DicomWriteSpec> = {}): DicomWriteSpec => ({
  rows,
  columns,
  bitsAllocated: 16,
  bitsStored: 12,
  pixels: syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 12, seed: 4, noise: 0.4 }),
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<DicomError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DicomError)) throw new Error(`expected a DicomError, got ${String(error)}`);
  return error;
}

describe('attributes that would otherwise give NaN, out-of-range or crashing output', () => {
  it.each([0, 1, 32])('a VOI LUT whose descriptor says %i bits per entry still windows into [0, 1]', async (bits) => {
    const lut = Array.from({ length: 4096 }, (_, i) => i); // entries need 12 bits
    const image = await readDicom(
      writeDicom(
        grey({
          extra: { VOILUTSequence: [{ LUTDescriptor: [4096, 0, bits], LUTData: lut, _vrMap: { LUTDescriptor: 'US', LUTData: 'US' } }] },
        }),
      ),
    );
    const windowed = image.toImage(0);
    const stored = image.storedPixels(0);
    for (let i = 0; i < windowed.length; i++) expect(windowed[i]).toBeCloseTo(stored[i]! / 4095, 6);
  });

  it('a rescale that overflows float32 is refused, naming the attributes', async () => {
    for (const rescaleSlope of [1e38, -1e38, 1e300]) {
      const error = await failure(readDicom(writeDicom(grey({ rescaleSlope, rescaleIntercept: 0 })), { path: 'slope.dcm' }));
      expect(error.code).toBe('ERR_DICOM_BAD_ATTRIBUTE');
      expect(error.message).toContain('slope.dcm');
      expect(error.message).toContain('RescaleSlope (0028,1053)');
    }
    // A large but representable rescale still works, and colour images ignore rescale altogether.
    const large = await readDicom(writeDicom(grey({ rescaleSlope: 1e30, rescaleIntercept: -1e30 })));
    expect(large.toImage(0).every((v) => v >= 0 && v <= 1)).toBe(true);
    const rgb = writeDicom({
      rows: 2,
      columns: 2,
      bitsAllocated: 8,
      samplesPerPixel: 3,
      pixels: new Uint8Array(12).fill(9),
      rescaleSlope: 1e38,
    });
    expect((await readDicom(rgb)).toImage(0).length).toBe(12);
  });

  it('YBR_FULL_422 with 16-bit samples is refused instead of failing inside the unpacker', async () => {
    // 4 x 6 pixels of 422 data is 4*6*2 samples: the 96 bytes a 4 x 4 RGB 16-bit frame holds.
    const bytes = writeDicom({
      rows: 4,
      columns: 4,
      bitsAllocated: 16,
      samplesPerPixel: 3,
      photometricInterpretation: 'YBR_FULL_422',
      pixels: new Uint16Array(48),
      extra: { Columns: 6 },
    });
    const error = await failure(readDicom(bytes, { path: 'ybr.dcm' }));
    expect(error.code).toBe('ERR_DICOM_UNSUPPORTED');
    expect(error.message).toContain('BitsAllocated (0028,0100) 16');
  });

  it('Float Pixel Data is refused rather than read as integer bit patterns', async () => {
    const file = Buffer.from(
      writeDicom({
        rows: 4,
        columns: 8,
        bitsAllocated: 16,
        pixels: new Uint16Array(32),
        extra: { Columns: 4, BitsAllocated: 32, BitsStored: 32, HighBit: 31 },
      }),
    );
    const at = file.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]), 132);
    file[at + 2] = 0x08; // (7FE0,0008) Float Pixel Data
    file.write('OF', at + 4, 'latin1');
    Buffer.from(Float32Array.from({ length: 16 }, (_, i) => i / 4 - 1).buffer).copy(file, at + 12);
    const error = await failure(readDicom(new Uint8Array(file), { path: 'float.dcm' }));
    expect(error.code).toBe('ERR_DICOM_UNSUPPORTED');
    expect(error.message).toContain('Float Pixel Data (7FE0,0008)');
  });

  it('an implicit VR file cut inside a header value is truncated, for the header reader too', async () => {
    const bytes = writeDicom(grey({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian, windowCenter: 1000, windowWidth: 2000 }));
    const windowCenterTag = Buffer.from([0x28, 0x00, 0x50, 0x10]);
    const at = Buffer.from(bytes).indexOf(windowCenterTag, 132);
    expect(at).toBeGreaterThan(0);
    const cut = bytes.subarray(0, at + 8 + 1); // tag, length, and one byte of the value
    for (const read of [readDicom, readDicomHeader]) {
      const error = await failure(read(cut, { path: 'cut.dcm' }));
      expect(error.code).toBe('ERR_DICOM_TRUNCATED');
      expect(error.message).toContain('cut.dcm');
      expect(error.message).toContain('(0028,1050)');
    }
  });
});
