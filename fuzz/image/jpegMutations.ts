/**
 * Marker-aware JPEG mutations: the segments decoders trust (SOF dimensions and sampling,
 * DHT/DQT tables, DRI, SOS parameters, APP payloads such as ICC profiles) and the framing
 * around the entropy-coded data (EOI, restart markers, segment lengths).
 */
import { type Rng } from '../../src/random/index.js';
import { concat, flipBits, randomRange, removeRange, replaceRange, truncate, writeUint } from '../shared/mutate.js';

export interface JpegSegment {
  marker: number;
  /** Offset of the 0xFF of the marker. */
  start: number;
  /** Offset of the length field (segments with a length) or of the next byte. */
  dataStart: number;
  /** One past the segment, entropy-coded data included for SOS. */
  end: number;
}

const STANDALONE = (m: number) => m === 0xd8 || m === 0xd9 || m === 0x01 || (m >= 0xd0 && m <= 0xd7);

/** Segments in order; stops at the first thing that is not a marker. Never throws. */
export function jpegSegments(bytes: Uint8Array): JpegSegment[] {
  const out: JpegSegment[] = [];
  let at = 0;
  while (at + 1 < bytes.length && out.length < 500) {
    if (bytes[at] !== 0xff) break;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (STANDALONE(marker)) {
      out.push({ marker, start: at, dataStart: at + 2, end: at + 2 });
      at += 2;
      if (marker === 0xd9) break;
      continue;
    }
    if (at + 4 > bytes.length) break;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    let end = Math.min(bytes.length, at + 2 + length);
    if (marker === 0xda) end = scanEnd(bytes, end);
    out.push({ marker, start: at, dataStart: at + 2, end });
    if (end <= at) break;
    at = end;
  }
  return out;
}

/** Entropy-coded data runs to the next marker that is not a stuffed zero or RSTn. */
function scanEnd(bytes: Uint8Array, from: number): number {
  let at = from;
  while (at + 1 < bytes.length) {
    if (bytes[at] === 0xff) {
      const next = bytes[at + 1]!;
      if (next !== 0 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return at;
    }
    at++;
  }
  return bytes.length;
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

export function mutateJpeg(bytes: Uint8Array, rng: Rng, donor?: Uint8Array): { bytes: Uint8Array; label: string } {
  const segments = jpegSegments(bytes);
  const find = (test: (m: number) => boolean) => {
    const hits = segments.filter((s) => test(s.marker));
    return hits.length ? rng.pick(hits) : undefined;
  };
  const sof = find(isSof);
  const scan = find((m) => m === 0xda);
  switch (rng.int(14)) {
    case 0:
      if (sof) {
        // dimensions: zero, one, huge, or just off
        const field = rng.pick([
          ['height', 3],
          ['width', 5],
        ] as const);
        const value = rng.pick([0, 1, 2, 7, 8, 9, 4096, 16384, 32767, 65535, rng.int(65536)]);
        return { bytes: writeUint(bytes, sof.dataStart + field[1], 2, value, false), label: `jpeg SOF ${field[0]}=${value}` };
      }
      break;
    case 1:
      if (sof) {
        const value = rng.pick([0, 1, 2, 7, 8, 12, 16, 255]);
        return { bytes: writeUint(bytes, sof.dataStart + 2, 1, value, false), label: `jpeg SOF precision=${value}` };
      }
      break;
    case 2:
      if (sof) {
        // component count or per-component sampling / table id, without fixing the length
        const at = sof.dataStart + rng.pick([7, 9, 10, 11, 12, 13]);
        const value = rng.pick([0, 2, 3, 4, 0x00, 0x11, 0x22, 0x41, 0x44, 0x0f, 0xf0, 0xff, rng.int(256)]);
        return { bytes: writeUint(bytes, at, 1, value, false), label: `jpeg SOF byte+${at - sof.dataStart}=${value}` };
      }
      break;
    case 3:
      if (sof) {
        const marker = rng.pick([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc7, 0xc9, 0xcb, 0xcf]);
        return { bytes: writeUint(bytes, sof.start + 1, 1, marker, false), label: `jpeg SOF marker=FF${marker.toString(16)}` };
      }
      break;
    case 4: {
      // Huffman or quantization table bytes
      const table = find((m) => m === 0xc4 || m === 0xdb);
      if (table) {
        const count = rng.intBetween(1, 8);
        return {
          bytes: flipBits(bytes, rng, count, table.dataStart + 2, table.end),
          label: `jpeg ${table.marker === 0xc4 ? 'DHT' : 'DQT'} bitflip x${count}`,
        };
      }
      break;
    }
    case 5: {
      // table header: class/id or precision, and code counts that overflow the segment
      const table = find((m) => m === 0xc4 || m === 0xdb);
      if (table) {
        const at = table.dataStart + 2 + rng.int(Math.min(17, Math.max(1, table.end - table.dataStart - 2)));
        const value = rng.pick([0x00, 0x01, 0x10, 0x13, 0x1f, 0x20, 0x44, 0xff]);
        return { bytes: writeUint(bytes, at, 1, value, false), label: `jpeg table byte@${at}=${value}` };
      }
      break;
    }
    case 6: {
      // restart interval: set, or insert one the data does not follow
      const interval = rng.pick([0, 1, 2, 3, 65535]);
      const dri = find((m) => m === 0xdd);
      if (dri) return { bytes: writeUint(bytes, dri.dataStart + 2, 2, interval, false), label: `jpeg DRI=${interval}` };
      const before = sof ?? scan;
      if (before) {
        const segment = Uint8Array.of(0xff, 0xdd, 0, 4, interval >> 8, interval & 0xff);
        return { bytes: replaceRange(bytes, before.start, before.start, segment), label: `jpeg insert DRI=${interval}` };
      }
      break;
    }
    case 7:
      if (scan) {
        // scan header: component count, selectors, table ids, spectral selection
        const at = scan.dataStart + 2 + rng.int(8);
        const value = rng.pick([0, 1, 2, 3, 4, 0x11, 0x3f, 0x40, 0xff, rng.int(256)]);
        return { bytes: writeUint(bytes, at, 1, value, false), label: `jpeg SOS byte+${at - scan.dataStart}=${value}` };
      }
      break;
    case 8: {
      // cut the entropy-coded data or drop EOI
      if (scan && rng.chance(0.6)) {
        const at = rng.intBetween(scan.dataStart, scan.end);
        return { bytes: truncate(bytes, at), label: `jpeg truncate scan@${at}` };
      }
      const eoi = find((m) => m === 0xd9);
      if (eoi) return { bytes: removeRange(bytes, eoi.start, eoi.end), label: 'jpeg drop EOI' };
      break;
    }
    case 9:
      if (scan) {
        // stray restart markers, fill bytes or markers inside the scan
        const at = rng.intBetween(scan.dataStart + 2, scan.end);
        const inserted = rng.pick([
          Uint8Array.of(0xff, 0xd0 + rng.int(8)),
          Uint8Array.of(0xff, 0xff, 0xff),
          Uint8Array.of(0xff, 0xd9),
          Uint8Array.of(0xff, 0xc4, 0, 2),
        ]);
        return { bytes: replaceRange(bytes, at, at, inserted), label: `jpeg insert ${Buffer.from(inserted).toString('hex')}@${at}` };
      }
      break;
    case 10: {
      // segment length field lies
      const segment = find((m) => !STANDALONE(m));
      if (segment) {
        const value = rng.pick([0, 1, 2, 3, 0xffff, segment.end - segment.start, rng.int(65536)]);
        return {
          bytes: writeUint(bytes, segment.dataStart, 2, value, false),
          label: `jpeg FF${segment.marker.toString(16)} length=${value}`,
        };
      }
      break;
    }
    case 11: {
      // remove, duplicate or reorder whole segments
      const segment = find((m) => m !== 0xd8);
      if (segment) {
        const piece = bytes.slice(segment.start, segment.end);
        if (rng.chance(0.4))
          return { bytes: removeRange(bytes, segment.start, segment.end), label: `jpeg remove FF${segment.marker.toString(16)}` };
        const at = rng.pick(segments).start;
        return { bytes: replaceRange(bytes, at, at, piece), label: `jpeg copy FF${segment.marker.toString(16)} to ${at}` };
      }
      break;
    }
    case 12: {
      // hostile APP payloads: ICC profiles, Exif, Adobe colour transform
      const kind = rng.int(3);
      const payload =
        kind === 0
          ? concat(Buffer.from('ICC_PROFILE\0'), Uint8Array.of(1, 1), randomBytes(rng, rng.intBetween(0, 600)))
          : kind === 1
            ? concat(
                Buffer.from('Exif\0\0'),
                rng.chance(0.5) ? Buffer.from('II*\0') : Buffer.from('MM\0*'),
                randomBytes(rng, rng.intBetween(0, 200)),
              )
            : concat(Buffer.from('Adobe'), Uint8Array.of(0, 100, 0, 0, 0, 0, rng.pick([0, 1, 2, 255])));
      const marker = kind === 0 ? 0xe2 : kind === 1 ? 0xe1 : 0xee;
      const segment = concat(Uint8Array.of(0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff), payload);
      return { bytes: replaceRange(bytes, 2, 2, segment), label: `jpeg insert APP${marker - 0xe0} (${payload.length} bytes)` };
    }
    default:
      if (donor && scan) {
        // another stream's tables or scan with this stream's header
        const donorScan = jpegSegments(donor).find((s) => s.marker === 0xda);
        if (donorScan) {
          return { bytes: concat(bytes.subarray(0, scan.start), donor.subarray(donorScan.start)), label: 'jpeg splice donor scan' };
        }
      }
  }
  const [start, end] = randomRange(rng, 0, bytes.length, 64);
  return { bytes: flipBits(bytes, rng, rng.intBetween(1, 8), start, end), label: `jpeg bitflip ${start}..${end}` };
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}
