/**
 * One image → cache-ready pixels: decode (DICOM/PNG/JPEG), window to [0, 1]
 * (MONOCHROME1 inverted), optionally to grey, antialiased resize, quantize.
 * Runs inside cache worker threads, and in-process when workers = 0.
 */
import { ImageError, readAnyImage } from '../image/read.js';
import { frameSizeProblem } from '../dicom/limits.js';
import type { WindowOption } from '../dicom/image.js';
import { padToSquare, resizeImage, targetShape, type ResizeFilter, type ResizeFit } from '../resize/resize.js';

export type CacheDtype = 'uint16' | 'uint8';

export interface PreprocessSettings {
  size: number;
  dtype: CacheDtype;
  window: WindowOption;
  fit: ResizeFit;
  filter: ResizeFilter;
  /** 'grey' turns RGB sources into luminance (radiographs saved as RGB JPEG); 'keep' stores 3 channels. */
  color: 'grey' | 'keep';
}

export interface CachedImageMeta {
  format: string;
  sourceRows: number;
  sourceColumns: number;
  numberOfFrames: number;
  photometricInterpretation: string;
  bitsStored: number;
  /** Samples per pixel of the source (1 grey, 3 colour); decides which settings matter (format.ts). Absent in v1 caches. */
  sourceChannels?: number;
  transferSyntaxUID?: string;
  modality?: string;
  viewPosition?: string;
  patientId?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  /** mm per cached pixel (source spacing times the resize factor). */
  pixelSpacing?: [number, number];
}

export interface PreprocessedImage {
  rows: number;
  columns: number;
  channels: number;
  data: Uint16Array | Uint8Array;
  meta: CachedImageMeta;
}

export async function preprocessImage(path: string, settings: PreprocessSettings): Promise<PreprocessedImage> {
  const image = await readAnyImage(path);
  const [rows, columns] = targetShape(image.rows, image.columns, settings.size, settings.fit);
  // A very elongated image resized by its short side (1 x 65535 to 512) would be billions of pixels.
  const tooLarge = settings.fit === 'squarePad' ? frameSizeProblem(settings.size, settings.size) : frameSizeProblem(rows, columns);
  if (tooLarge) {
    throw new ImageError(
      'ERR_IMAGE_TOO_LARGE',
      `${path}: resizing ${image.columns}x${image.rows} with fit '${settings.fit}' and size ${settings.size} gives ${tooLarge}`,
      { path, rows, columns },
    );
  }
  let pixels = image.toImage(0, { window: settings.window });
  let channels = image.samplesPerPixel;
  if (channels === 3 && settings.color === 'grey') {
    const grey = new Float32Array(image.rows * image.columns);
    for (let i = 0; i < grey.length; i++) {
      grey[i] = 0.299 * pixels[3 * i]! + 0.587 * pixels[3 * i + 1]! + 0.114 * pixels[3 * i + 2]!;
    }
    pixels = grey;
    channels = 1;
  }
  let resized = resizeImage(pixels, image.rows, image.columns, channels, rows, columns, settings.filter);
  let outRows = rows,
    outColumns = columns;
  if (settings.fit === 'squarePad') {
    resized = padToSquare(resized, rows, columns, channels, settings.size);
    outRows = outColumns = settings.size;
  }
  const max = settings.dtype === 'uint16' ? 65535 : 255;
  const data = settings.dtype === 'uint16' ? new Uint16Array(resized.length) : new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) {
    const v = resized[i]!;
    data[i] = v <= 0 ? 0 : v >= 1 ? max : Math.round(v * max);
  }
  const spacing = image.pixelSpacing;
  return {
    rows: outRows,
    columns: outColumns,
    channels,
    data,
    meta: {
      format: image.format,
      sourceRows: image.rows,
      sourceColumns: image.columns,
      numberOfFrames: image.numberOfFrames,
      photometricInterpretation: image.photometricInterpretation,
      bitsStored: image.bitsStored,
      sourceChannels: image.samplesPerPixel,
      transferSyntaxUID: image.transferSyntaxUID || undefined,
      modality: image.modality,
      viewPosition: image.viewPosition,
      patientId: image.patientId,
      studyInstanceUID: image.studyInstanceUID,
      seriesInstanceUID: image.seriesInstanceUID,
      sopInstanceUID: image.sopInstanceUID,
      pixelSpacing: spacing ? [spacing[0] * (image.rows / rows), spacing[1] * (image.columns / columns)] : undefined,
    },
  };
}
