/**
 * Chunk-aware PNG mutations: CRCs, IHDR sizes and fields, IDAT truncation, splitting and
 * splicing, row filter bytes, zlib bombs (capped so the fuzzer itself stays within memory),
 * unknown critical chunks, hostile ancillary chunks (iCCP, zTXt, tRNS, APNG), chunk order.
 * Most edits recompute the CRC so the damage reaches the decoder instead of the checksum test.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { type Rng } from '../../src/random/index.js';
import { concat, flipBits, randomRange, removeRange, replaceRange, truncate, writeUint } from '../shared/mutate.js';
import { randomBytes } from './jpegMutations.js';

export interface PngChunk {
  type: string;
  /** Offset of the length field. */
  start: number;
  dataStart: number;
  length: number;
  /** One past the CRC. */
  end: number;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Largest decompressed size a bomb may have: enough to be a real test, small enough for CI. */
const BOMB_CAP_BYTES = 24 << 20;

export function pngChunks(bytes: Uint8Array): PngChunk[] {
  const out: PngChunk[] = [];
  let at = 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (at + 12 <= bytes.length && out.length < 1000) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length) break;
    out.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), start: at, dataStart: at + 8, length, end });
    at = end;
  }
  return out;
}

export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** The chunk with new data and a correct length and CRC. */
function rewrite(bytes: Uint8Array, chunk: PngChunk, data: Uint8Array, type = chunk.type): Uint8Array {
  return replaceRange(bytes, chunk.start, chunk.end, encodeChunk(type, data));
}

function dataOf(bytes: Uint8Array, chunk: PngChunk): Uint8Array {
  return bytes.slice(chunk.dataStart, chunk.dataStart + chunk.length);
}

/** IHDR's 13 bytes, zero-padded when an earlier mutation shortened the chunk. */
function headerOf(bytes: Uint8Array, ihdr: PngChunk): Uint8Array {
  const out = new Uint8Array(13);
  out.set(dataOf(bytes, ihdr).subarray(0, 13));
  return out;
}

/** IHDR, IDATs concatenated into one chunk, and IEND: a canonical PNG to build variants from. */
function assemble(ihdr: Uint8Array, idat: Uint8Array, extra: Uint8Array[] = []): Uint8Array {
  return concat(SIGNATURE, encodeChunk('IHDR', ihdr), ...extra, encodeChunk('IDAT', idat), encodeChunk('IEND', new Uint8Array(0)));
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function mutatePng(bytes: Uint8Array, rng: Rng, donor?: Uint8Array): { bytes: Uint8Array; label: string } {
  const chunks = pngChunks(bytes);
  const ihdr = chunks.find((c) => c.type === 'IHDR');
  const idats = chunks.filter((c) => c.type === 'IDAT');
  const pick = (list: PngChunk[]) => (list.length ? rng.pick(list) : undefined);
  switch (rng.int(13)) {
    case 0: {
      // a wrong CRC on any chunk
      const c = pick(chunks);
      if (c) return { bytes: flipBits(bytes, rng, 1, c.end - 4, c.end), label: `png bad CRC on ${c.type}` };
      break;
    }
    case 1:
      if (ihdr) {
        // sizes: zero, huge, or just past a limit
        const data = headerOf(bytes, ihdr);
        const field = rng.pick([
          ['width', 0],
          ['height', 4],
        ] as const);
        const value = rng.pick([0, 1, 2, 8193, 16384, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, rng.nextU32()]);
        new DataView(data.buffer).setUint32(field[1], value);
        return { bytes: rewrite(bytes, ihdr, data), label: `png IHDR ${field[0]}=${value}` };
      }
      break;
    case 2:
      if (ihdr) {
        // depth, colour type, compression, filter and interlace methods
        const data = headerOf(bytes, ihdr);
        const [name, at, values] = rng.pick([
          ['depth', 8, [0, 1, 2, 3, 4, 7, 8, 9, 16, 32, 255]],
          ['colour', 9, [0, 1, 2, 3, 4, 5, 6, 7, 255]],
          ['compression', 10, [1, 255]],
          ['filter', 11, [1, 255]],
          ['interlace', 12, [0, 1, 2, 255]],
        ] as const);
        const value = rng.pick(values);
        data[at] = value;
        return { bytes: rewrite(bytes, ihdr, data), label: `png IHDR ${name}=${value}` };
      }
      break;
    case 3: {
      // IDAT cut short: a clean chunk boundary, or the file itself ends inside it
      const c = pick(idats);
      if (!c) break;
      const cut = rng.int(c.length + 1);
      if (rng.chance(0.5)) return { bytes: truncate(bytes, c.dataStart + cut), label: `png file ends inside IDAT at ${cut}` };
      return { bytes: rewrite(bytes, c, dataOf(bytes, c).subarray(0, cut)), label: `png IDAT cut to ${cut} bytes` };
    }
    case 4: {
      // IDAT split into many chunks, some empty (valid, and a parser edge)
      if (!idats.length) break;
      const all = concat(...idats.map((c) => dataOf(bytes, c)));
      const size = rng.pick([1, 2, 7, 64]);
      const parts: Uint8Array[] = [];
      for (let at = 0; at < all.length; at += size) parts.push(encodeChunk('IDAT', all.subarray(at, at + size)));
      if (rng.chance(0.3)) parts.splice(rng.int(parts.length + 1), 0, encodeChunk('IDAT', new Uint8Array(0)));
      const first = idats[0]!,
        last = idats.at(-1)!;
      return { bytes: replaceRange(bytes, first.start, last.end, concat(...parts)), label: `png IDAT split every ${size} bytes` };
    }
    case 5: {
      // another image's pixel data under this header
      const donorIdat = donor ? pngChunks(donor).filter((c) => c.type === 'IDAT') : [];
      const c = pick(idats);
      if (!c || !donorIdat.length || !donor) break;
      const data = concat(...donorIdat.map((d) => dataOf(donor, d)));
      return { bytes: rewrite(bytes, c, data), label: 'png IDAT from donor' };
    }
    case 6:
      if (ihdr && idats.length) return filterBytes(bytes, ihdr, idats, rng);
      break;
    case 7:
      if (ihdr) return zlibBomb(bytes, ihdr, rng);
      break;
    case 8: {
      // an unknown critical chunk must stop a decoder; ancillary ones must not confuse it
      const type = rng.pick(['ABCD', 'IDAX', 'XHDR', 'PLTE', 'fUZz', 'aBCD']);
      const at = pick(chunks.slice(1))?.start ?? bytes.length;
      return { bytes: replaceRange(bytes, at, at, encodeChunk(type, randomBytes(rng, rng.int(40)))), label: `png insert ${type}` };
    }
    case 9:
      return hostileAncillary(bytes, chunks, rng);
    case 10: {
      // length field lies (CRC left as it was)
      const c = pick(chunks);
      if (!c) break;
      const value = rng.pick([0, 1, c.length + 1, Math.max(0, c.length - 1), 0x7fffffff, 0x80000000, 0xffffffff, bytes.length]);
      return { bytes: writeUint(bytes, c.start, 4, value, false), label: `png ${c.type} length=${value}` };
    }
    case 11: {
      // order: duplicate, drop or move whole chunks (IHDR twice, IEND missing, IDAT first)
      const c = pick(chunks);
      if (!c) break;
      const piece = bytes.slice(c.start, c.end);
      const choice = rng.int(3);
      if (choice === 0) return { bytes: removeRange(bytes, c.start, c.end), label: `png drop ${c.type}` };
      const at = choice === 1 ? c.end : 8;
      return { bytes: replaceRange(bytes, at, at, piece), label: `png ${choice === 1 ? 'duplicate' : 'move to front'} ${c.type}` };
    }
    default:
      break;
  }
  const [start, end] = randomRange(rng, 8, bytes.length, 64);
  return { bytes: flipBits(bytes, rng, rng.intBetween(1, 8), start, end), label: `png bitflip ${start}..${end}` };
}

/** Row filter types above 4 are invalid; decoders must reject them rather than guess. */
function filterBytes(bytes: Uint8Array, ihdr: PngChunk, idats: PngChunk[], rng: Rng): { bytes: Uint8Array; label: string } {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(concat(...idats.map((c) => dataOf(bytes, c))), { maxOutputLength: BOMB_CAP_BYTES }));
  } catch {
    return { bytes, label: 'png filter bytes (IDAT does not inflate)' };
  }
  const header = headerOf(bytes, ihdr);
  const view = new DataView(header.buffer);
  const width = view.getUint32(0),
    depth = header[8]!,
    channels = CHANNELS[header[9]!] ?? 1;
  const stride = Math.ceil((width * depth * channels) / 8) + 1;
  const rows = header[12] === 0 && stride > 1 ? Math.floor(raw.length / stride) : 0;
  const count = rng.intBetween(1, 4);
  for (let i = 0; i < count && rows > 0; i++) raw[rng.int(rows) * stride] = rng.pick([5, 6, 127, 255]);
  if (rows === 0) raw = flipBits(raw, rng, count);
  return { bytes: assemble(header, deflateSync(raw)), label: `png ${count} invalid filter byte(s)` };
}

/**
 * A header claiming (w, h) over a stream of zeros that inflates to exactly the rows it needs, or
 * to the cap when it needs more: the decoder then sees a tiny file that expands enormously.
 */
function zlibBomb(bytes: Uint8Array, ihdr: PngChunk, rng: Rng): { bytes: Uint8Array; label: string } {
  // 4096 x 4096 is the real large radiograph that must still pass; it is slow, so it is drawn rarely.
  const [width, height] = rng.weighted(
    [
      [1, 65535],
      [65535, 1],
      [3, 100000],
      [8192, 3000],
      [16384, 16384],
      [65535, 65535],
      [4096, 4096],
    ] as const,
    [3, 3, 3, 2, 3, 3, 1],
  );
  const header = headerOf(bytes, ihdr);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8;
  header[9] = 0;
  header[12] = 0;
  const needed = (width + 1) * height;
  const size = Math.min(needed, BOMB_CAP_BYTES);
  return { bytes: assemble(header, deflatedZeros(size)), label: `png zlib bomb ${width}x${height} (${size} bytes inflated)` };
}

const zeroStreams = new Map<number, Uint8Array>();

/** Deflating 24 MB takes a while; a child process makes the same few sizes over and over. */
function deflatedZeros(size: number): Uint8Array {
  let stream = zeroStreams.get(size);
  if (!stream) zeroStreams.set(size, (stream = deflateSync(new Uint8Array(size), { level: 9 })));
  return stream;
}

function hostileAncillary(bytes: Uint8Array, chunks: PngChunk[], rng: Rng): { bytes: Uint8Array; label: string } {
  const [type, data] = rng.pick<[string, () => Uint8Array]>([
    ['iCCP', () => concat(Buffer.from('icc\0\0'), deflateSync(randomBytes(rng, rng.intBetween(0, 400))))],
    ['iCCP', () => concat(Buffer.from('icc\0\0'), randomBytes(rng, 50))],
    ['zTXt', () => concat(Buffer.from('Comment\0\0'), deflateSync(new Uint8Array(1 << 20)))],
    ['tRNS', () => randomBytes(rng, rng.pick([0, 1, 2, 6, 300]))],
    ['PLTE', () => randomBytes(rng, rng.pick([0, 3, 4, 768, 771]))],
    ['gAMA', () => Uint8Array.of(0, 0, 0, 0)],
    ['sBIT', () => Uint8Array.of(0, 17, 255, 9)],
    ['cHRM', () => randomBytes(rng, 32)],
    ['eXIf', () => concat(Buffer.from('MM\0*'), randomBytes(rng, 40))],
    ['acTL', () => Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 0)],
    ['fcTL', () => randomBytes(rng, 26)],
    ['pHYs', () => Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 7)],
  ]);
  const after = chunks.find((c) => c.type === 'IHDR')?.end ?? 8;
  const at = rng.chance(0.7) ? after : (rng.pick(chunks)?.start ?? after);
  return { bytes: replaceRange(bytes, at, at, encodeChunk(type, data())), label: `png insert ${type}` };
}
