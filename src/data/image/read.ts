/**
 * readImage: PNG (8/16-bit, grey or RGB, alpha dropped) and JPEG through the same
 * DicomImage interface as readDicom, decoded by sharp (libvips). See
 * docs/data-images.md for why sharp rather than pure-JS decoders.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { RadlearnError } from '../../errors.js';
import { DecodedImage, type DicomImage } from '../dicom/image.js';
import { readDicom } from '../dicom/read.js';
import { MAX_FRAME_PIXELS, frameSizeProblem } from '../dicom/limits.js';

export class ImageError extends RadlearnError {}

export type ImageFormat = 'dicom' | 'png' | 'jpeg';

export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    return 'dicom';
  }
  return undefined;
}

export async function readImage(source: string | Uint8Array, options: { path?: string } = {}): Promise<DicomImage> {
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
      `${where}: ${format.toUpperCase()} could not be decoded: ${(error as Error).message}`,
      { path },
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
  let decoded: { data: Buffer; info: OutputInfo };
  const depth16 = meta.depth === 'ushort';
  const grey = (meta.channels ?? 3) <= 2 || meta.space === 'b-w' || meta.space === 'grey16';
  try {
    let pipeline = sharp(bytes, limits).removeAlpha();
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

/** DICOM, PNG or JPEG, chosen by content (DICOM without a preamble by elimination). */
export async function readAnyImage(source: string | Uint8Array, options: { path?: string } = {}): Promise<DicomImage> {
  const path = typeof source === 'string' ? source : options.path;
  const bytes = typeof source === 'string' ? await readBytes(source) : source;
  const format = sniffFormat(bytes);
  if (format === 'png' || format === 'jpeg') return readImage(bytes, { path });
  return readDicom(bytes, { path });
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_MISSING_FILE' : 'ERR_IMAGE_IO';
    throw new ImageError(code, `cannot read image file ${path}: ${(error as Error).message}`, { path });
  }
}
