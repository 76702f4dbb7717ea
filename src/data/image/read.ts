/**
 * readImage: PNG (8/16-bit, grey or RGB, alpha dropped) and JPEG through the same
 * DicomImage interface as readDicom, decoded by sharp (libvips). See
 * docs/data-images.md for why sharp rather than pure-JS decoders, and for the
 * pixel parity with Pillow (embedded ICC profiles are not applied by default).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { RadlearnError } from '../../errors.js';
import { DecodedImage, type DicomImage } from '../dicom/image.js';
import { readDicom } from '../dicom/read.js';
import { MAX_FRAME_PIXELS, frameSizeProblem } from '../dicom/limits.js';
import { describeIccProfile, pngIccProfile } from './icc-profile.js';

export class ImageError extends RadlearnError {}

export type ImageFormat = 'dicom' | 'png' | 'jpeg';

/**
 * The format named by the magic bytes. A PNG or JPEG cut short inside its signature still counts
 * as PNG or JPEG, so that a truncated file is reported as a damaged image of that format.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 4 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8 && (bytes.length === 2 || bytes[2] === 0xff)) return 'jpeg';
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    return 'dicom';
  }
  return undefined;
}

export interface ReadImageOptions {
  /** Shown in messages and kept as `image.path` when `source` is bytes. */
  path?: string;
  /**
   * Default false: stored values are the file's samples, as Pillow, torchvision and MONAI's
   * PILReader read them. true: an embedded ICC profile is applied (converted to sRGB, then to
   * grey for a grey file), as browsers and image viewers show the file.
   */
  applyIccProfile?: boolean;
}

export async function readImage(source: string | Uint8Array, options: ReadImageOptions = {}): Promise<DicomImage> {
  const path = typeof source === 'string' ? source : options.path;
  const where = path ?? 'image';
  const bytes = typeof source === 'string' ? await readBytes(source) : source;
  const format = sniffFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    throw new ImageError('ERR_IMAGE_FORMAT', `${where}: not a PNG or JPEG file (unrecognised signature)`, { path });
  }
  const failed = (error: unknown) =>
    new ImageError(
      'ERR_IMAGE_DECODE',
      `${where}: ${format.toUpperCase()} file (${bytes.length} bytes) could not be decoded, truncated or corrupt: ${(error as Error).message}`,
      { path, format, bytes: bytes.length },
      { cause: error },
    );
  // The header is read first so that a size above the budget is refused before libvips decodes.
  const limits = { limitInputPixels: MAX_FRAME_PIXELS };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw failed(error);
  }
  const tooLarge = frameSizeProblem(meta.height ?? 0, meta.width ?? 0);
  if (tooLarge) {
    throw new ImageError('ERR_IMAGE_TOO_LARGE', `${where}: ${format.toUpperCase()} header says ${tooLarge}`, {
      path,
      rows: meta.height,
      columns: meta.width,
    });
  }
  if (options.applyIccProfile === true && !meta.icc && format === 'png') {
    const rejected = pngIccProfile(bytes);
    if (rejected) {
      const { description, colourSpace } = describeIccProfile(rejected);
      throw new ImageError(
        'ERR_IMAGE_ICC',
        `${where}: applyIccProfile was asked for, but the PNG decoder (libpng) rejected the embedded ${colourSpace} ICC profile${description ? ` '${description}'` : ''}, so it cannot be applied; read it without applyIccProfile (as Pillow-based pipelines do) or convert the file`,
        { path, profile: description },
      );
    }
  }
  let decoded: { data: Buffer; info: OutputInfo };
  const depth16 = meta.depth === 'ushort';
  const grey = (meta.channels ?? 3) <= 2 || meta.space === 'b-w' || meta.space === 'grey16';
  try {
    // libvips applies an embedded profile unless told to ignore it; PyTorch pipelines (PIL) never do.
    let pipeline = sharp(bytes, { ...limits, ignoreIcc: options.applyIccProfile !== true }).removeAlpha();
    pipeline = grey ? pipeline.toColourspace(depth16 ? 'grey16' : 'b-w') : pipeline.toColourspace(depth16 ? 'rgb16' : 'srgb');
    decoded = await pipeline.raw({ depth: depth16 ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw failed(error);
  }
  const { info, data } = decoded;
  const samples = grey ? 1 : 3;
  if (info.channels !== samples) {
    throw new ImageError('ERR_IMAGE_DECODE', `${where}: decoder returned ${info.channels} channels, expected ${samples}`, { path });
  }
  const count = info.width * info.height * samples;
  const copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const stored = depth16 ? new Uint16Array(copy.buffer, 0, count) : copy.subarray(0, count);
  return new DecodedImage({
    format,
    rows: info.height,
    columns: info.width,
    numberOfFrames: 1,
    samplesPerPixel: samples,
    photometricInterpretation: grey ? 'MONOCHROME2' : 'RGB',
    bitsAllocated: depth16 ? 16 : 8,
    bitsStored: depth16 ? 16 : 8,
    highBit: depth16 ? 15 : 7,
    pixelRepresentation: 0,
    transferSyntaxUID: '',
    rescaleSlope: 1,
    rescaleIntercept: 0,
    path,
    decodeFrame: () => stored,
  });
}

/**
 * DICOM, PNG or JPEG, chosen by content (DICOM without a preamble by elimination). A file that is
 * none of the three is an ImageError 'ERR_IMAGE_FORMAT' saying what the bytes look like; a DICOM
 * that fails later (truncated, bad pixel data) keeps its DicomError.
 */
export async function readAnyImage(source: string | Uint8Array, options: ReadImageOptions = {}): Promise<DicomImage> {
  const path = typeof source === 'string' ? source : options.path;
  const bytes = typeof source === 'string' ? await readBytes(source) : source;
  const format = sniffFormat(bytes);
  if (format === 'png' || format === 'jpeg') return readImage(bytes, { ...options, path });
  try {
    return await readDicom(bytes, { path });
  } catch (error) {
    if (format === 'dicom' || (error as { code?: unknown }).code !== 'ERR_DICOM_NOT_DICOM') throw error;
    const named = path === undefined ? undefined : EXTENSION_FORMATS[extname(path).toLowerCase()];
    const hint = named ? ` (the name says ${named}, the content is not)` : '';
    throw new ImageError(
      'ERR_IMAGE_FORMAT',
      `${path ?? 'image'}: not a DICOM, PNG or JPEG file${hint}: ${describeBytes(bytes)}`,
      { path, bytes: bytes.length },
      { cause: error },
    );
  }
}

const EXTENSION_FORMATS: Record<string, string> = {
  '.png': 'PNG',
  '.jpg': 'JPEG',
  '.jpeg': 'JPEG',
  '.dcm': 'DICOM',
  '.dicom': 'DICOM',
  '.dic': 'DICOM',
};

/** Formats users meet instead of the three radlearn reads, by their magic bytes. */
const OTHER_SIGNATURES: Array<[string, number[]]> = [
  ['a TIFF image', [0x49, 0x49, 0x2a, 0x00]],
  ['a TIFF image', [0x4d, 0x4d, 0x00, 0x2a]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a JPEG 2000 image', [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]],
  ['a JPEG 2000 codestream', [0xff, 0x4f, 0xff, 0x51]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['a BMP image', [0x42, 0x4d]],
];

/** What a file that is no DICOM, PNG or JPEG looks like, for the error message. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty (0 bytes)';
  const size = `${bytes.length} bytes`;
  for (const [name, signature] of OTHER_SIGNATURES) {
    if (bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b)) return `${name} (${size})`;
  }
  const head = bytes.subarray(0, 64);
  if (head.every((b) => b === 0)) return `the first ${head.length} bytes are zero (${size}; a zero-filled or incomplete copy?)`;
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80)) {
    const text = Buffer.from(head).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 40);
    const kind = /^<(!doctype|html|\?xml)/i.test(text) ? 'HTML/XML text' : 'text';
    return `${kind} (${size}) starting ${JSON.stringify(text)}`;
  }
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `unrecognised binary data (${size}) starting ${hex}`;
}

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_MISSING_FILE' : 'ERR_IMAGE_IO';
    throw new ImageError(code, `cannot read image file ${path}: ${(error as Error).message}`, { path });
  }
}
