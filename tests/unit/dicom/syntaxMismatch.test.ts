/**
 * Files whose meta header names one VR encoding while the dataset is written in the other: the
 * dataset is read as it is encoded (as pydicom does), the pixels as the declared syntax says.
 */
import { describe, expect, it } from 'vitest';
import { readDicom, writeDicom, TransferSyntax } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

const LONG_VR = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

/** Rewrites (0002,0010) in a Part 10 file, recomputing the meta group length. */
function withDeclaredSyntax(file: Uint8Array, uid: string): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const parts: Uint8Array[] = [];
  let at = 132;
  while (at < file.length && view.getUint16(at, true) === 0x0002) {
    const element = view.getUint16(at + 2, true);
    const vr = String.fromCharCode(file[at + 4]!, file[at + 5]!);
    const header = LONG_VR.has(vr) ? 12 : 8;
    const length = LONG_VR.has(vr) ? view.getUint32(at + 8, true) : view.getUint16(at + 6, true);
    if (element === 0x0010) {
      const value = uid.length % 2 ? uid + '\0' : uid;
      const out = new Uint8Array(8 + value.length);
      out.set(file.subarray(at, at + 6));
      new DataView(out.buffer).setUint16(6, value.length, true);
      out.set(Buffer.from(value, 'latin1'), 8);
      parts.push(out);
    } else if (element !== 0x0000) {
      parts.push(file.subarray(at, at + header + length));
    }
    at += header + length;
  }
  const metaLength = parts.reduce((n, p) => n + p.length, 0);
  const groupLength = Uint8Array.from([0x02, 0, 0, 0, 0x55, 0x4c, 4, 0, 0, 0, 0, 0]);
  new DataView(groupLength.buffer).setUint32(8, metaLength, true);
  return Buffer.concat([file.subarray(0, 132), groupLength, ...parts, file.subarray(at)]);
}

const rows = 7;
const columns = 9;
const pixels = syntheticPixels({ rows, columns, bitsAllocated: 16, seed: 8, noise: 0.4 }) as Uint16Array;

describe('meta header and dataset disagree on the VR encoding', () => {
  it('declared Explicit VR, written Implicit VR', async () => {
    const file = writeDicom({ rows, columns, bitsAllocated: 16, pixels, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
    const image = await readDicom(withDeclaredSyntax(file, TransferSyntax.ExplicitVRLittleEndian));
    expect([image.rows, image.columns]).toEqual([rows, columns]);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
  });

  it('declared Implicit VR, written Explicit VR', async () => {
    const file = writeDicom({ rows, columns, bitsAllocated: 16, pixels, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian });
    const image = await readDicom(withDeclaredSyntax(file, TransferSyntax.ImplicitVRLittleEndian));
    expect([image.rows, image.columns]).toEqual([rows, columns]);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
  });

  it('the rewrite helper keeps a file readable when the syntax is unchanged', async () => {
    const file = writeDicom({ rows, columns, bitsAllocated: 16, pixels });
    const image = await readDicom(withDeclaredSyntax(file, TransferSyntax.ExplicitVRLittleEndian));
    expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
  });
});

describe('bare datasets without preamble or meta header', () => {
  /** The dataset of a Part 10 file: everything after the meta group. */
  const bare = (file: Uint8Array): Uint8Array => {
    const groupLength = new DataView(file.buffer, file.byteOffset + 140, 4).getUint32(0, true);
    return file.subarray(144 + groupLength);
  };

  it.each([TransferSyntax.ExplicitVRBigEndian, TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian])(
    '%s is read in the encoding its first element shows',
    async (transferSyntaxUID) => {
      const image = await readDicom(bare(writeDicom({ rows, columns, bitsAllocated: 16, pixels, transferSyntaxUID })));
      expect([image.rows, image.columns]).toEqual([rows, columns]);
      expect(Array.from(image.storedPixels())).toEqual(Array.from(pixels));
    },
  );
});
