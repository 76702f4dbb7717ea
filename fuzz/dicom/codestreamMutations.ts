/**
 * Mutations of one compressed DICOM frame, aimed at the header fields its codec sizes its
 * work and memory from: JPEG 2000 SIZ/COD/SOT, JPEG-LS SOF55/LSE/SOS, the RLE segment table.
 * JPEG frames go to jpegMutations.
 */
import { type Rng } from '../../src/random/index.js';
import { INTERESTING_U32, flipBits, randomRange, writeUint } from '../shared/mutate.js';
import { jpegSegments, mutateJpeg } from '../image/jpegMutations.js';

export type Codec = 'jpeg' | 'jpeg-ls' | 'j2k' | 'rle' | 'unknown';

export function codecOfSyntax(uid: string): Codec {
  if (uid === '1.2.840.10008.1.2.5') return 'rle';
  if (uid === '1.2.840.10008.1.2.4.80' || uid === '1.2.840.10008.1.2.4.81') return 'jpeg-ls';
  if (uid === '1.2.840.10008.1.2.4.90' || uid === '1.2.840.10008.1.2.4.91') return 'j2k';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(5\d|6\d|70)$/.test(uid)) return 'jpeg';
  return 'unknown';
}

export function mutateCodestream(codec: Codec, frame: Uint8Array, rng: Rng, donor?: Uint8Array): { bytes: Uint8Array; label: string } {
  switch (codec) {
    case 'jpeg':
      return mutateJpeg(frame, rng, donor);
    case 'jpeg-ls':
      return mutateJpegLs(frame, rng);
    case 'j2k':
      return mutateJ2k(frame, rng);
    case 'rle':
      return mutateRle(frame, rng);
    default: {
      const [start, end] = randomRange(rng, 0, frame.length, 32);
      return { bytes: flipBits(frame, rng, rng.intBetween(1, 8), start, end), label: `frame bitflip ${start}..${end}` };
    }
  }
}

/** The same codestream with its header claiming rows x columns (the data is not changed). */
export function resizeCodestream(codec: Codec, frame: Uint8Array, rows: number, columns: number): Uint8Array {
  if (codec === 'j2k') {
    const siz = j2kMarkers(frame).get(0xff51);
    if (siz === undefined) return frame;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const out = writeUint(frame, siz + 6, 4, view.getUint32(siz + 14) + columns, false);
    return writeUint(out, siz + 10, 4, view.getUint32(siz + 18) + rows, false);
  }
  if (codec === 'jpeg' || codec === 'jpeg-ls') {
    const sof = jpegSegments(frame).find(
      (s) => (s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc) || s.marker === 0xf7,
    );
    if (!sof) return frame;
    return writeUint(writeUint(frame, sof.start + 5, 2, rows, false), sof.start + 7, 2, columns, false);
  }
  return frame;
}

/** Offsets (from the marker) of the SIZ and COD fields OpenJPEG sizes its allocations from. */
const J2K_FIELDS: Array<[marker: number, name: string, offset: number, size: 1 | 2 | 4, values: number[]]> = [
  [0xff51, 'Xsiz', 6, 4, [0, 1, 65535, 65536, 0x7fffffff, 0xffffffff]],
  [0xff51, 'Ysiz', 10, 4, [0, 1, 65535, 65536, 0x7fffffff, 0xffffffff]],
  [0xff51, 'XOsiz', 14, 4, [1, 64, 0x7fffffff, 0xffffffff]],
  [0xff51, 'YOsiz', 18, 4, [1, 64, 0x7fffffff, 0xffffffff]],
  [0xff51, 'XTsiz', 22, 4, [0, 1, 2, 3, 0xffffffff]],
  [0xff51, 'YTsiz', 26, 4, [0, 1, 2, 3, 0xffffffff]],
  [0xff51, 'Csiz', 38, 2, [0, 2, 3, 4, 255, 16384, 65535]],
  [0xff51, 'Ssiz', 40, 1, [0, 7, 11, 15, 16, 31, 37, 0x80, 0x8f, 0xa5, 0xff]],
  [0xff51, 'XRsiz', 41, 1, [0, 2, 3, 255]],
  [0xff51, 'YRsiz', 42, 1, [0, 2, 3, 255]],
  [0xff52, 'Scod', 4, 1, [0xff, 0x07, 0x01]],
  [0xff52, 'progression', 5, 1, [4, 5, 0xff]],
  [0xff52, 'layers', 6, 2, [0, 1, 2, 0xffff]],
  [0xff52, 'MCT', 8, 1, [1, 2, 0xff]],
  [0xff52, 'levels', 9, 1, [0, 5, 6, 15, 32, 33, 255]],
  [0xff52, 'xcb', 10, 1, [0, 4, 8, 9, 255]],
  [0xff52, 'ycb', 11, 1, [0, 4, 8, 9, 255]],
  [0xff52, 'transform', 13, 1, [0, 1, 2, 255]],
  [0xff90, 'Psot', 6, 4, [0, 1, 14, 0x7fffffff, 0xffffffff]],
  [0xff90, 'TNsot', 11, 1, [0, 2, 255]],
];

function mutateJ2k(frame: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const markers = j2kMarkers(frame);
  const candidates = J2K_FIELDS.filter(([marker]) => markers.has(marker));
  if (candidates.length && rng.chance(0.8)) {
    const [marker, name, offset, size, values] = rng.pick(candidates);
    const value = rng.chance(0.8) ? rng.pick(values) : rng.nextU32() >>> (32 - 8 * size);
    return { bytes: writeUint(frame, markers.get(marker)! + offset, size, value, false), label: `j2k ${name}=${value}` };
  }
  const headerEnd = markers.get(0xff90) ?? Math.min(frame.length, 200);
  const count = rng.intBetween(1, 8);
  return { bytes: flipBits(frame, rng, count, 0, headerEnd), label: `j2k main header bitflip x${count}` };
}

/** First offset of each main-header marker and of the first tile-part (SOT). */
function j2kMarkers(frame: Uint8Array): Map<number, number> {
  const found = new Map<number, number>();
  let at = frame[0] === 0xff && frame[1] === 0x4f ? 2 : -1;
  while (at >= 0 && at + 4 <= frame.length && frame[at] === 0xff) {
    const marker = (frame[at]! << 8) | frame[at + 1]!;
    if (!found.has(marker)) found.set(marker, at);
    if (marker === 0xff90) break;
    at += 2 + ((frame[at + 2]! << 8) | frame[at + 3]!);
  }
  return found;
}

function mutateJpegLs(frame: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const segments = jpegSegments(frame);
  const sof = segments.find((s) => s.marker === 0xf7);
  const sos = segments.find((s) => s.marker === 0xda);
  const choice = rng.int(4);
  if (sof && choice <= 1) {
    const [name, offset, size] = rng.pick([
      ['P', 4, 1],
      ['Y', 5, 2],
      ['X', 7, 2],
      ['Nf', 9, 1],
      ['sampling', 11, 1],
    ] as const);
    const value = rng.pick(size === 1 ? [0, 1, 2, 3, 4, 8, 16, 17, 255] : [0, 1, 2, 4096, 32768, 65535]);
    return { bytes: writeUint(frame, sof.start + offset, size, value, false), label: `jpeg-ls SOF55 ${name}=${value}` };
  }
  if (sos && choice === 2) {
    // Ns, component ids, NEAR, ILV, point transform
    const at = sos.start + 4 + rng.int(9);
    const value = rng.pick([0, 1, 2, 3, 4, 127, 255]);
    return { bytes: writeUint(frame, at, 1, value, false), label: `jpeg-ls SOS byte@${at}=${value}` };
  }
  return mutateJpeg(frame, rng);
}

function mutateRle(frame: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  if (frame.length < 64 || rng.chance(0.2)) {
    const [start, end] = randomRange(rng, 0, frame.length, 64);
    return { bytes: flipBits(frame, rng, rng.intBetween(1, 16), start, end), label: `rle bitflip ${start}..${end}` };
  }
  const slot = rng.int(16);
  const current = new DataView(frame.buffer, frame.byteOffset).getUint32(slot * 4, true);
  const value = rng.pick([...INTERESTING_U32, 63, 64, 65, frame.length, frame.length + 1, current + 1, current - 1, rng.int(frame.length)]);
  return { bytes: writeUint(frame, slot * 4, 4, value, true), label: `rle header ${slot === 0 ? 'segments' : `offset ${slot}`}=${value}` };
}
