/**
 * readDicom: parse with dicom-parser, check the pixel module against the data,
 * load the codec the transfer syntax needs, and return a DicomImage whose frames
 * decode on demand. Every failure is a DicomError naming the file.
 */
import { readFile } from 'node:fs/promises';
import { DicomError } from './errors.js';
import { parseDicomBytes } from './parse.js';
import { checkRescale, readMetadata, readPixelModule } from './attributes.js';
import { pixelDataElement, nativeFrameBytes } from './frames.js';
import { decodeFrameSamples, prepareCodec } from './decode.js';
import { toStoredArray } from './stored.js';
import { readLutSequence, readVoiFunction } from './lut.js';
import { isEncapsulatedSyntax } from './syntax.js';
import { DecodedImage, type DicomImage } from './image.js';
import { frameSizeProblem } from './limits.js';

export interface ReadDicomOptions {
  /** Decode frame 0 before returning, so a corrupt frame fails here (default true). */
  eager?: boolean;
  /** Names the source in error messages when `source` is bytes. */
  path?: string;
}

export async function readDicom(source: string | Uint8Array, options: ReadDicomOptions = {}): Promise<DicomImage> {
  const path = typeof source === 'string' ? source : options.path;
  try {
    const bytes = typeof source === 'string' ? await readSource(source) : plain(source);
    const image = await buildImage(bytes, path);
    if (options.eager !== false) image.storedPixels(0);
    return image;
  } catch (error) {
    throw asDicomError(error, path);
  }
}

/** Header only: metadata and pixel module, no pixel decoding or codec loading. */
export async function readDicomHeader(source: string | Uint8Array, options: { path?: string } = {}) {
  const path = typeof source === 'string' ? source : options.path;
  try {
    const bytes = typeof source === 'string' ? await readSource(source) : plain(source);
    const { dataSet, transferSyntaxUID, hasMetaHeader } = parseDicomBytes(bytes);
    return { transferSyntaxUID, hasMetaHeader, ...readPixelModule(dataSet), ...readMetadata(dataSet), path };
  } catch (error) {
    throw asDicomError(error, path);
  }
}

async function readSource(path: string): Promise<Uint8Array> {
  try {
    // A plain Uint8Array view: Buffer#slice shares memory, which later copies rely on not doing.
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DicomError(code === 'ENOENT' ? 'ERR_MISSING_FILE' : 'ERR_DICOM_IO', `cannot read DICOM file: ${(error as Error).message}`, {
      path,
    });
  }
}

async function buildImage(bytes: Uint8Array, path: string | undefined): Promise<DicomImage> {
  const { dataSet, transferSyntaxUID } = parseDicomBytes(bytes);
  const element = pixelDataElement(dataSet);
  const pm = readPixelModule(dataSet);
  const tooLarge = frameSizeProblem(pm.rows, pm.columns);
  if (tooLarge) {
    throw new DicomError('ERR_DICOM_TOO_LARGE', `Columns (0028,0011) x Rows (0028,0010) = ${tooLarge}`, {
      rows: pm.rows,
      columns: pm.columns,
    });
  }
  const meta = readMetadata(dataSet);
  const signed = pm.pixelRepresentation === 1;
  const modalityLut = readLutSequence(dataSet, 'x00283000', signed);
  // Rescale maps greyscale stored values when no Modality LUT replaces it.
  if (pm.samplesPerPixel === 1 && !modalityLut) checkRescale(pm, meta);
  await prepareCodec(transferSyntaxUID);
  // Native data: check the whole length now, not when a late frame is read.
  if (!isEncapsulatedSyntax(transferSyntaxUID)) nativeFrameBytes(dataSet, element, pm, 0);
  return new DecodedImage({
    format: 'dicom',
    rows: pm.rows,
    columns: pm.columns,
    numberOfFrames: pm.numberOfFrames,
    samplesPerPixel: pm.samplesPerPixel,
    photometricInterpretation: pm.photometricInterpretation,
    bitsAllocated: pm.bitsAllocated,
    bitsStored: pm.bitsStored,
    highBit: pm.highBit,
    pixelRepresentation: pm.pixelRepresentation,
    transferSyntaxUID,
    ...meta,
    voiFunction: readVoiFunction(dataSet),
    path,
    modalityLut,
    voiLut: readLutSequence(dataSet, 'x00283010', signed),
    decodeFrame: (frame) => {
      try {
        const samples = decodeFrameSamples(dataSet, element, pm, transferSyntaxUID, frame);
        return toStoredArray(samples.bytes, pm, samples.colorConverted);
      } catch (error) {
        throw asDicomError(error, path);
      }
    },
  });
}

function asDicomError(error: unknown, path: string | undefined): DicomError {
  if (error instanceof DicomError) return error.withPath(path);
  const message = error instanceof Error ? error.message : String(error);
  return new DicomError('ERR_DICOM_DECODE', `unexpected failure while reading DICOM: ${message}`, {}, { cause: error }).withPath(path);
}

function plain(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}
