import { describe, expect, it } from 'vitest';
import { encodeDicom, readDicom, writeDicom, TransferSyntax } from '../../../src/index.js';
import type { DicomWriteSpec } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

const spec = (extra: Partial<DicomWriteSpec> = {}): DicomWriteSpec => ({
  rows: 17,
  columns: 23,
  bitsAllocated: 16,
  bitsStored: 16,
  pixelRepresentation: 1,
  pixels: syntheticPixels({ rows: 17, columns: 23, bitsAllocated: 16, signed: true, seed: 21, noise: 0.5 }),
  ...extra,
});
const metaEnd = (file: Uint8Array) => 144 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);

describe('file layouts', () => {
  it('DICM prefix at byte 0 (preamble stripped)', async () => {
    const s = spec();
    const image = await readDicom(writeDicom(s).subarray(128));
    expect(Array.from(image.storedPixels())).toEqual(Array.from(s.pixels));
  });

  it('meta group without preamble or prefix', async () => {
    const s = spec();
    const image = await readDicom(writeDicom(s).subarray(132));
    expect(Array.from(image.storedPixels())).toEqual(Array.from(s.pixels));
  });

  it('bare explicit VR LE dataset', async () => {
    const s = spec();
    const file = writeDicom(s);
    const image = await readDicom(file.subarray(metaEnd(file)));
    expect(image.transferSyntaxUID).toBe(TransferSyntax.ExplicitVRLittleEndian);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(s.pixels));
  });

  it('explicit VR big endian 8-bit data stored as OW is swapped in 16-bit words', async () => {
    const pixels = syntheticPixels({ rows: 6, columns: 10, bitsAllocated: 8, seed: 2, noise: 0.9 }) as Uint8Array;
    const file = writeDicom({ rows: 6, columns: 10, bitsAllocated: 8, pixels, transferSyntaxUID: TransferSyntax.ExplicitVRBigEndian });
    // Rewrite PixelData's VR from OB to OW and swap its bytes pairwise, as an OW big-endian writer would.
    const at = file.length - pixels.length - 12;
    expect(String.fromCharCode(file[at + 4]!, file[at + 5]!)).toBe('OB');
    const patched = file.slice();
    patched[at + 5] = 'W'.charCodeAt(0);
    for (let i = file.length - pixels.length; i < file.length; i += 2) {
      patched[i] = file[i + 1]!;
      patched[i + 1] = file[i]!;
    }
    const image = await readDicom(patched);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
  });

  it('toImage of each frame of a multi-frame file uses that frame', async () => {
    const frames = 4;
    const pixels = syntheticPixels({ rows: 17, columns: 23, frames, bitsAllocated: 16, seed: 8, noise: 0.4 }) as Uint16Array;
    const image = await readDicom(writeDicom({ rows: 17, columns: 23, numberOfFrames: frames, bitsAllocated: 16, pixels }));
    for (let f = frames - 1; f >= 0; f--) {
      const img = image.toImage(f, { window: { center: 30000, width: 40000 } });
      const x = pixels[f * 17 * 23 + 5]!;
      expect(img[5]).toBeCloseTo(Math.min(1, Math.max(0, (x - 29999.5) / 39999 + 0.5)), 6);
    }
  });

  it('1-bit data is unpacked LSB first, one value per pixel', async () => {
    const bits = Uint8Array.from({ length: 80 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
    const packed = new Uint8Array(10);
    bits.forEach((b, i) => {
      packed[i >> 3]! |= b << (i & 7);
    });
    // Written as 2x5 8-bit (10 bytes), then described as 8x10 1-bit.
    const image = await readDicom(
      writeDicom({
        rows: 2,
        columns: 5,
        bitsAllocated: 8,
        pixels: packed,
        extra: { Rows: 8, Columns: 10, BitsAllocated: 1, BitsStored: 1, HighBit: 0 },
      }),
    );
    expect([image.rows, image.columns, image.bitsAllocated]).toEqual([8, 10, 1]);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(bits));
  });

  it('multi-frame JPEG with an empty offset table and two fragments per frame', async () => {
    const rows = 16,
      columns = 24,
      frames = 3;
    const pixels = syntheticPixels({ rows, columns, frames, bitsAllocated: 8, seed: 6, noise: 0.02 }) as Uint8Array;
    const file = await encodeDicom(
      { rows, columns, numberOfFrames: frames, bitsAllocated: 8, pixels, transferSyntaxUID: TransferSyntax.JpegBaseline },
      { jpegQuality: 95 },
    );
    const reference = await readDicom(file);
    // Re-encapsulate: empty basic offset table, each frame's codestream split into two fragments.
    const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42]);
    const at = Buffer.from(file).lastIndexOf(tag);
    const codestreams: Uint8Array[] = [];
    for (let f = 0; f < frames; f++) {
      const single = await encodeDicom(
        {
          rows,
          columns,
          bitsAllocated: 8,
          pixels: pixels.subarray(f * rows * columns, (f + 1) * rows * columns),
          transferSyntaxUID: TransferSyntax.JpegBaseline,
        },
        { jpegQuality: 95 },
      );
      const stream = (await import('dicom-parser')).default.parseDicom(single);
      const el = stream.elements.x7fe00010!;
      const frag = el.fragments![0]!;
      codestreams.push(single.subarray(frag.position, frag.position + frag.length));
    }
    const item = (bytes: Uint8Array) => {
      const head = Buffer.alloc(8);
      head.writeUInt16LE(0xfffe, 0);
      head.writeUInt16LE(0xe000, 2);
      head.writeUInt32LE(bytes.length, 4);
      return Buffer.concat([head, bytes]);
    };
    const parts: Buffer[] = [
      Buffer.from(file.subarray(0, at)),
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]),
      item(new Uint8Array(0)),
    ];
    for (const cs of codestreams) {
      const half = (cs.length >> 1) & ~1;
      parts.push(item(cs.subarray(0, half)), item(cs.subarray(half)));
    }
    parts.push(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]));
    const image = await readDicom(new Uint8Array(Buffer.concat(parts)));
    for (let f = 0; f < frames; f++) expect(Array.from(image.storedPixels(f))).toEqual(Array.from(reference.storedPixels(f)));
  });
});
