/**
 * ICC profiles embedded in images: what one says about itself (colour space, description), and
 * the profile a PNG carries in its iCCP chunk, read from the file's own bytes. libpng (under
 * libvips) drops profiles its checks reject (e.g. some printer-class grey profiles) without a
 * word, while Pillow keeps them; reading the chunk here lets radlearn report such a profile and
 * refuse to "apply" one the decoder never saw.
 */
import { inflateSync } from 'node:zlib';

export interface IccProfileInfo {
  bytes: number;
  /** Data colour space from the profile header: 'GRAY', 'RGB', 'CMYK', 'Lab', ... */
  colourSpace: string;
  /** The profile's description tag, when readable. */
  description?: string;
  /**
   * false when the decoder (libpng) rejected the profile: Pillow still reports it, but radlearn
   * cannot apply it, and readImage with `applyIccProfile` refuses the file (ERR_IMAGE_ICC).
   */
  applicable: boolean;
}

/** The colour space and description of an ICC profile (ICC.1 header and 'desc' tag, v2 or v4). */
export function describeIccProfile(icc: Uint8Array): IccProfileInfo {
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const text = (start: number, length: number) => String.fromCharCode(...icc.subarray(start, start + length));
  const result: IccProfileInfo = { bytes: icc.length, colourSpace: icc.length >= 20 ? text(16, 4).trim() : 'unknown', applicable: true };
  if (icc.length < 132) return result;
  const tags = Math.min(view.getUint32(128), Math.floor((icc.length - 132) / 12));
  for (let t = 0; t < tags; t++) {
    const entry = 132 + 12 * t;
    if (text(entry, 4) !== 'desc') continue;
    const offset = view.getUint32(entry + 4);
    const size = view.getUint32(entry + 8);
    if (offset + size > icc.length || size < 12) break;
    const type = text(offset, 4);
    if (type === 'desc') {
      // textDescriptionType: ASCII count (with its NUL) then the characters.
      const count = Math.min(view.getUint32(offset + 8), size - 12);
      result.description = text(offset + 12, count).replace(/\0+$/, '');
    } else if (type === 'mluc' && size >= 28) {
      // multiLocalizedUnicodeType: first record's UTF-16BE string.
      const length = view.getUint32(offset + 20);
      const start = offset + view.getUint32(offset + 24);
      if (start + length <= icc.length) {
        let s = '';
        for (let i = 0; i + 1 < length; i += 2) s += String.fromCharCode(view.getUint16(start + i));
        result.description = s.replace(/\0+$/, '');
      }
    }
    break;
  }
  return result;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The decompressed profile, or undefined when the PNG has no (readable) iCCP chunk before its image data. */
export function pngIccProfile(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = at + 8;
    if (body + length > bytes.length) return undefined;
    // the PNG specification places iCCP before the first IDAT
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'iCCP') {
      const chunk = bytes.subarray(body, body + length);
      const nul = chunk.indexOf(0);
      // keyword (1-79 bytes), NUL, compression method 0 (deflate), then the zlib stream
      if (nul < 1 || nul > 79 || chunk[nul + 1] !== 0) return undefined;
      try {
        return new Uint8Array(inflateSync(chunk.subarray(nul + 2)));
      } catch {
        return undefined;
      }
    }
    at = body + length + 4;
  }
  return undefined;
}
