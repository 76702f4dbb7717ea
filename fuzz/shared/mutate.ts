/**
 * Format-blind byte mutations shared by the surfaces. Every function returns a new array and
 * takes its randomness from the caller's Rng, so a case stays reproducible from (seed, index).
 */
import { type Rng } from '../../src/random/index.js';

/** Values that sit on boundaries parsers get wrong: zero, sign bits, all ones, off-by-one. */
export const INTERESTING_U16 = [
  0, 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff,
];
export const INTERESTING_U32 = [0, 1, 2, 0xff, 0x100, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function truncate(bytes: Uint8Array, length: number): Uint8Array {
  return bytes.slice(0, Math.max(0, Math.min(bytes.length, length)));
}

/** Flips `count` single bits, each inside [from, to). */
export function flipBits(bytes: Uint8Array, rng: Rng, count: number, from = 0, to = bytes.length): Uint8Array {
  const out = bytes.slice();
  if (to <= from) return out;
  for (let i = 0; i < count; i++) {
    const at = from + rng.int(to - from);
    out[at] = out[at]! ^ (1 << rng.int(8));
  }
  return out;
}

/** Overwrites `count` bytes inside [from, to) with random or boundary values. */
export function overwriteBytes(bytes: Uint8Array, rng: Rng, count: number, from = 0, to = bytes.length): Uint8Array {
  const out = bytes.slice();
  if (to <= from) return out;
  for (let i = 0; i < count; i++) {
    out[from + rng.int(to - from)] = rng.chance(0.5) ? rng.int(256) : rng.pick([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
  }
  return out;
}

export function replaceRange(bytes: Uint8Array, start: number, end: number, inserted: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, start), inserted, bytes.subarray(end));
}

export function removeRange(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return replaceRange(bytes, start, end, new Uint8Array(0));
}

/** Inserts a copy of [start, end) at `at` (by default right after the range). */
export function duplicateRange(bytes: Uint8Array, start: number, end: number, at = end): Uint8Array {
  return replaceRange(bytes, at, at, bytes.slice(start, end));
}

/** The head of `a` up to `cutA` followed by the tail of `b` from `cutB`. */
export function splice(a: Uint8Array, cutA: number, b: Uint8Array, cutB: number): Uint8Array {
  return concat(a.subarray(0, cutA), b.subarray(cutB));
}

export function writeUint(bytes: Uint8Array, at: number, size: 1 | 2 | 4, value: number, littleEndian: boolean): Uint8Array {
  const out = bytes.slice();
  if (at < 0 || at + size > out.length) return out;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (size === 1) view.setUint8(at, value & 0xff);
  else if (size === 2) view.setUint16(at, value & 0xffff, littleEndian);
  else view.setUint32(at, value >>> 0, littleEndian);
  return out;
}

export function readUint(bytes: Uint8Array, at: number, size: 2 | 4, littleEndian: boolean): number {
  if (at < 0 || at + size > bytes.length) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return size === 2 ? view.getUint16(at, littleEndian) : view.getUint32(at, littleEndian);
}

/** A random [start, end) of at most `maxLength` bytes inside [from, to). */
export function randomRange(rng: Rng, from: number, to: number, maxLength: number): [number, number] {
  if (to <= from) return [from, from];
  const start = from + rng.int(to - from);
  return [start, Math.min(to, start + 1 + rng.int(maxLength))];
}

/** Mutations every format gets besides its structure-aware ones. */
export function blindMutation(bytes: Uint8Array, rng: Rng, donor: Uint8Array): { bytes: Uint8Array; label: string } {
  const n = bytes.length;
  switch (rng.int(6)) {
    case 0: {
      const at = rng.int(n + 1);
      return { bytes: truncate(bytes, at), label: `truncate@${at}` };
    }
    case 1: {
      const count = rng.intBetween(1, 50);
      return { bytes: flipBits(bytes, rng, count), label: `bitflip x${count}` };
    }
    case 2: {
      const count = rng.intBetween(1, 50);
      return { bytes: overwriteBytes(bytes, rng, count), label: `overwrite x${count}` };
    }
    case 3: {
      const [start, end] = randomRange(rng, 0, n, rng.chance(0.5) ? 16 : 4096);
      return { bytes: duplicateRange(bytes, start, end), label: `duplicate ${start}..${end}` };
    }
    case 4: {
      const [start, end] = randomRange(rng, 0, n, rng.chance(0.5) ? 16 : 4096);
      return { bytes: removeRange(bytes, start, end), label: `remove ${start}..${end}` };
    }
    default: {
      const cutA = rng.int(n + 1),
        cutB = rng.int(donor.length + 1);
      return { bytes: splice(bytes, cutA, donor, cutB), label: `splice@${cutA}+donor@${cutB}` };
    }
  }
}
