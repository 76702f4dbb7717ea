/**
 * readImageInfo: what a PNG or JPEG header says (size, bit depth, channels, ICC profile) without
 * decoding the pixels, for `radlearn dicom info` and for checking a dataset before training.
 */
import sharp, { type Metadata } from 'sharp';
import { ImageError, readBytes, sniffFormat } from './read.js';

export interface ImageInfo {
  format: 'png' | 'jpeg';
  path?: string;
  /** File size in bytes. */
  bytes: number;
  width: number;
  height: number;
  /** Bits per sample as stored (1, 2, 4, 8 or 16 for PNG; 8 for JPEG). */
  bitDepth: number;
  /** Channels as stored, alpha included (readImage drops alpha). */
  channels: number;
  hasAlpha: boolean;
  /** Palette PNG (readImage expands it to RGB). */
  palette: boolean;
  /** libvips' interpretation of the samples: 'b-w', 'grey16', 'srgb', 'rgb16', 'cmyk'. */
  space: string;
  /** Progressive JPEG or interlaced (Adam7) PNG. */
  progressive: boolean;
  /** The embedded ICC profile, if any; readImage ignores it unless `applyIccProfile` is set. */
  iccProfile?: IccProfileInfo;
}

export interface IccProfileInfo {
  bytes: number;
  /** Data colour space from the profile header: 'GRAY', 'RGB', 'CMYK', 'Lab', ... */
  colourSpace: string;
  /** The profile's description tag, when readable. */
  description?: string;
}

export async function readImageInfo(source: string | Uint8Array, options: { path?: string } = {}): Promise<ImageInfo> {
  const path = typeof source === 'string' ? source : options.path;
  const where = path ?? 'image';
  const bytes = typeof source === 'string' ? await readBytes(source) : source;
  const format = sniffFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    throw new ImageError('ERR_IMAGE_FORMAT', `${where}: not a PNG or JPEG file (unrecognised signature)`, { path });
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageError(
      'ERR_IMAGE_DECODE',
      `${where}: ${format.toUpperCase()} header (${bytes.length} bytes) could not be read: ${(error as Error).message}`,
      { path, format, bytes: bytes.length },
      { cause: error },
    );
  }
  const info: ImageInfo = {
    format,
    bytes: bytes.length,
    width: meta.width,
    height: meta.height,
    bitDepth: meta.bitsPerSample ?? (meta.depth === 'ushort' ? 16 : 8),
    channels: meta.channels,
    hasAlpha: meta.hasAlpha,
    palette: meta.isPalette,
    space: meta.space,
    progressive: meta.isProgressive,
  };
  if (path !== undefined) info.path = path;
  if (meta.icc) info.iccProfile = describeIccProfile(meta.icc);
  return info;
}

/** The colour space and description of an ICC profile (ICC.1 header and 'desc' tag, v2 or v4). */
export function describeIccProfile(icc: Uint8Array): IccProfileInfo {
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const text = (start: number, length: number) => String.fromCharCode(...icc.subarray(start, start + length));
  const result: IccProfileInfo = { bytes: icc.length, colourSpace: icc.length >= 20 ? text(16, 4).trim() : 'unknown' };
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
