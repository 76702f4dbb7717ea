/**
 * readImageInfo: what a PNG or JPEG header says (size, bit depth, channels, ICC profile) without
 * decoding the pixels, for `radlearn dicom info` and for checking a dataset before training.
 */
import sharp, { type Metadata } from 'sharp';
import { describeIccProfile, pngIccProfile, type IccProfileInfo } from './icc-profile.js';
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
  const own = meta.icc ? undefined : format === 'png' ? pngIccProfile(bytes) : undefined;
  if (meta.icc) info.iccProfile = describeIccProfile(meta.icc);
  else if (own) info.iccProfile = { ...describeIccProfile(own), applicable: false };
  return info;
}
