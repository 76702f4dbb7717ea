import { describe, expect, it } from 'vitest';
import { DicomError, readDicom, TransferSyntax, type DicomWriteSpec } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';
import { markerAt, withEditedFrame } from './encapsulated.js';

const rows = 40,
  columns = 50;
const spec: DicomWriteSpec = {
  rows,
  columns,
  bitsAllocated: 16,
  bitsStored: 12,
  pixels: syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 12, seed: 11, noise: 0.3 }),
};

async function outcome(bytes: Uint8Array): Promise<{ code: string; message: string; ms: number }> {
  const started = Date.now();
  try {
    const image = await readDicom(bytes, { path: 'cut.dcm' });
    image.toImage(0);
    return { code: 'OK', message: '', ms: Date.now() - started };
  } catch (error) {
    if (!(error instanceof DicomError)) throw error;
    return { code: error.code, message: error.message, ms: Date.now() - started };
  }
}

const cut =
  (fraction: number, tail: number[] = []) =>
  (frame: Uint8Array) =>
    Uint8Array.from([...frame.subarray(0, Math.floor(frame.length * fraction)), ...tail]);

describe('truncated compressed frames fail with ERR_DICOM_TRUNCATED instead of invented pixels or a stall', () => {
  it('JPEG-LS without its EOI marker (CharLS otherwise reads past the end for seconds)', async () => {
    const bytes = await withEditedFrame(spec, TransferSyntax.JpegLsLossless, cut(0.9, [0, 0]));
    const result = await outcome(bytes);
    expect(result.code).toBe('ERR_DICOM_TRUNCATED');
    expect(result.message).toContain('cut.dcm');
    expect(result.message).toContain('EOI');
    expect(result.ms).toBeLessThan(2000);
  });

  it.each([TransferSyntax.JpegLossless, TransferSyntax.JpegLosslessSV1])(
    'JPEG lossless %s cut short, with or without EOI',
    async (syntax) => {
      for (const edit of [cut(0.5), cut(0.5, [0xff, 0xd9]), cut(0.1, [0xff, 0xd9])]) {
        const result = await outcome(await withEditedFrame(spec, syntax, edit));
        expect(result.code).toBe('ERR_DICOM_TRUNCATED');
        expect(result.message).toContain('cut.dcm');
      }
    },
  );

  it('JPEG 2000 whose SIZ describes tiles the stream does not hold (OpenJPEG would zero-fill them)', async () => {
    const smallerTiles = (frame: Uint8Array) => {
      const out = frame.slice();
      const siz = markerAt(out, 0xff51);
      for (const field of [22, 26]) new DataView(out.buffer).setUint32(siz + field, 16); // XTsiz, YTsiz
      return out;
    };
    const result = await outcome(await withEditedFrame(spec, TransferSyntax.Jpeg2000Lossless, smallerTiles));
    expect(result.code).toBe('ERR_DICOM_TRUNCATED');
    expect(result.message).toMatch(/tile-parts for 1 of the 12 tiles/);
  });

  it('JPEG 2000 wrapped in the JP2 file format still decodes exactly', async () => {
    const image = await readDicom(await withEditedFrame(spec, TransferSyntax.Jpeg2000Lossless, wrapJp2));
    expect(Array.from(image.storedPixels(0))).toEqual(Array.from(spec.pixels));
  });

  it('intact frames still decode exactly', async () => {
    for (const syntax of [TransferSyntax.JpegLsLossless, TransferSyntax.JpegLossless, TransferSyntax.Jpeg2000Lossless]) {
      const image = await readDicom(await withEditedFrame(spec, syntax, (frame) => frame));
      expect(Array.from(image.storedPixels(0))).toEqual(Array.from(spec.pixels));
    }
  });
});

/** JP2 boxes around a codestream: signature, file type, header (image header, colour), codestream. */
function wrapJp2(codestream: Uint8Array): Uint8Array {
  const box = (type: string, ...parts: number[][]) => {
    const body = parts.flat();
    const length = 8 + body.length;
    return [length >>> 24, (length >>> 16) & 255, (length >>> 8) & 255, length & 255, ...Buffer.from(type, 'latin1'), ...body];
  };
  const u32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  const ihdr = box('ihdr', u32(rows), u32(columns), [0, 1, 12 - 1, 7, 0, 0]);
  const colr = box('colr', [1, 0, 0], u32(17));
  const head = [
    ...box('jP  ', [0x0d, 0x0a, 0x87, 0x0a]),
    ...box('ftyp', [...Buffer.from('jp2 ')], u32(0), [...Buffer.from('jp2 ')]),
    ...box('jp2h', ihdr, colr),
    ...u32(8 + codestream.length),
    ...Buffer.from('jp2c', 'latin1'),
  ];
  return Uint8Array.from([...head, ...codestream]);
}
