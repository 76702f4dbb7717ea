/**
 * Sample bytes → stored values: BitsStored masking (honouring HighBit), sign
 * extension for PixelRepresentation 1, and YBR → RGB where no codec did it.
 */
import type { PixelModule } from './attributes.js';
import { isYbr422 } from './frames.js';

export type StoredArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export function toStoredArray(bytes: Uint8Array, pm: PixelModule, colorConverted: boolean): StoredArray {
  if (pm.samplesPerPixel === 3 && !colorConverted && pm.bitsAllocated === 8) {
    if (isYbr422(pm)) return ybr422ToRgb(bytes, pm);
    if (pm.photometricInterpretation === 'YBR_FULL') return ybrFullToRgb(bytes);
  }
  const count = pm.rows * pm.columns * pm.samplesPerPixel;
  const signed = pm.pixelRepresentation === 1;
  if (pm.bitsAllocated === 1) return bytes.slice(0, count);
  const shift = pm.highBit + 1 - pm.bitsStored;
  const bits = pm.bitsStored;
  const aligned = alignedView(bytes, count * (pm.bitsAllocated / 8), pm.bitsAllocated / 8);
  const out =
    pm.bitsAllocated === 8
      ? signed
        ? new Int8Array(count)
        : new Uint8Array(count)
      : pm.bitsAllocated === 16
        ? signed
          ? new Int16Array(count)
          : new Uint16Array(count)
        : signed
          ? new Int32Array(count)
          : new Uint32Array(count);
  // Read-only view of the decoded bytes; `out` is always a fresh array.
  const src =
    pm.bitsAllocated === 8
      ? new Uint8Array(aligned.buffer, aligned.offset, count)
      : pm.bitsAllocated === 16
        ? new Uint16Array(aligned.buffer, aligned.offset, count)
        : new Uint32Array(aligned.buffer, aligned.offset, count);
  if (bits === pm.bitsAllocated && shift === 0) {
    out.set(signed ? reinterpretSigned(src, pm.bitsAllocated) : src);
    return out;
  }
  if (pm.bitsAllocated <= 16) {
    // Bitwise path: shift out bits below HighBit's field, mask, sign-extend from bit (bits-1).
    const mask = (1 << bits) - 1;
    const up = 32 - bits;
    for (let i = 0; i < count; i++) {
      const v = (src[i]! >>> shift) & mask;
      out[i] = signed ? (v << up) >> up : v;
    }
    return out;
  }
  const range = 2 ** bits;
  for (let i = 0; i < count; i++) {
    const v = Math.floor(src[i]! / 2 ** shift) % range;
    out[i] = signed && v >= range / 2 ? v - range : v;
  }
  return out;
}

/** A typed view needs an aligned offset; frames can start at odd offsets in the file, so copy only then. */
function alignedView(bytes: Uint8Array, length: number, bytesPerSample: number): { buffer: ArrayBuffer; offset: number } {
  if (bytes.byteOffset % bytesPerSample === 0 && bytes.length >= length) {
    return { buffer: bytes.buffer as ArrayBuffer, offset: bytes.byteOffset };
  }
  return { buffer: bytes.slice(0, length).buffer, offset: 0 };
}

function reinterpretSigned(src: Uint8Array | Uint16Array | Uint32Array, bits: number): Int8Array | Int16Array | Int32Array {
  return bits === 8
    ? new Int8Array(src.buffer, src.byteOffset, src.length)
    : bits === 16
      ? new Int16Array(src.buffer, src.byteOffset, src.length)
      : new Int32Array(src.buffer, src.byteOffset, src.length);
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function ybrFullToRgb(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const y = bytes[i]!,
      cb = bytes[i + 1]! - 128,
      cr = bytes[i + 2]! - 128;
    out[i] = clamp8(y + 1.402 * cr);
    out[i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clamp8(y + 1.772 * cb);
  }
  return out;
}

/** YBR_FULL_422: each pair of pixels is stored as Y1 Y2 Cb Cr. */
function ybr422ToRgb(bytes: Uint8Array, pm: PixelModule): Uint8Array {
  const pixels = pm.rows * pm.columns;
  const full = new Uint8Array(pixels * 3);
  for (let p = 0, i = 0; p < pixels; p += 2, i += 4) {
    full[p * 3] = bytes[i]!;
    full[p * 3 + 1] = bytes[i + 2]!;
    full[p * 3 + 2] = bytes[i + 3]!;
    if (p + 1 < pixels) {
      full[p * 3 + 3] = bytes[i + 1]!;
      full[p * 3 + 4] = bytes[i + 2]!;
      full[p * 3 + 5] = bytes[i + 3]!;
    }
  }
  return ybrFullToRgb(full);
}
