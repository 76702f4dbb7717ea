import { describe, expect, it } from 'vitest';
import { DicomError, readDicom, TransferSyntax, writeDicom } from '../../../src/index.js';
import { writeEncapsulatedDicom } from '../../../src/data/dicom/write.js';
import { loadCharls } from '../../../src/data/dicom/codecs.js';

const rows = 6,
  columns = 5,
  pixels = rows * columns;

/** A JPEG-LS stream with interleave mode 0: CharLS takes (and returns) one plane per component. */
async function planarJpegLs(interleaved: Uint8Array | Uint16Array, bitsStored: number): Promise<Uint8Array> {
  const planes = interleaved.slice();
  for (let k = 0; k < planes.length; k++) planes[k] = interleaved[(k % pixels) * 3 + Math.floor(k / pixels)]!;
  const charls = await loadCharls();
  const encoder = new charls.JpegLSEncoder();
  try {
    encoder
      .getDecodedBuffer({ width: columns, height: rows, bitsPerSample: bitsStored, componentCount: 3, isSigned: false })
      .set(new Uint8Array(planes.buffer));
    encoder.setInterleaveMode(0);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

describe('colour sample layouts', () => {
  it.each([8, 16] as const)('%i-bit RGB JPEG-LS with planes (interleave mode 0) decodes to the interleaved pixels', async (bits) => {
    const n = pixels * 3;
    const rgb =
      bits === 16 ? Uint16Array.from({ length: n }, (_, i) => (i * 997) % 4096) : Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256);
    const bitsStored = bits === 16 ? 12 : 8;
    const file = writeEncapsulatedDicom(
      {
        rows,
        columns,
        bitsAllocated: bits,
        bitsStored,
        samplesPerPixel: 3,
        photometricInterpretation: 'RGB',
        transferSyntaxUID: TransferSyntax.JpegLsLossless,
      },
      [await planarJpegLs(rgb, bitsStored)],
    );
    expect(Array.from((await readDicom(file)).storedPixels(0))).toEqual(Array.from(rgb));
  });

  it('native YBR_FULL_422 claiming planar configuration 1 is refused instead of read past its data', async () => {
    const bytes = writeDicom({
      rows: 4,
      columns: 4,
      bitsAllocated: 8,
      samplesPerPixel: 3,
      photometricInterpretation: 'YBR_FULL_422',
      pixels: new Uint8Array(48).fill(128),
      extra: { PlanarConfiguration: 1, Rows: 6 },
    }); // 6 x 4 pixels of 422 is 48 bytes
    const error = await readDicom(bytes, { path: 'ybr.dcm' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DicomError);
    expect((error as DicomError).code).toBe('ERR_DICOM_BAD_ATTRIBUTE');
    expect((error as DicomError).message).toContain('PlanarConfiguration (0028,0006)');
  });
});
