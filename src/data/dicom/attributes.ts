/** Reads the image attributes radlearn needs from a parsed dataset, checking each one. */
import type { DataSet } from 'dicom-parser';
import { DicomError } from './errors.js';

export interface PixelModule {
  rows: number;
  columns: number;
  numberOfFrames: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
}

export interface DicomMetadata {
  modality?: string;
  viewPosition?: string;
  patientId?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  pixelSpacing?: [number, number];
  windowCenter?: number[];
  windowWidth?: number[];
  rescaleSlope: number;
  rescaleIntercept: number;
}

export function readPixelModule(ds: DataSet): PixelModule {
  const rows = requireUint16(ds, 'x00280010', 'Rows');
  const columns = requireUint16(ds, 'x00280011', 'Columns');
  const bitsAllocated = requireUint16(ds, 'x00280100', 'BitsAllocated');
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `BitsAllocated (0028,0100) is ${bitsAllocated}, expected 1, 8, 16 or 32`);
  }
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new DicomError(
      'ERR_DICOM_BAD_ATTRIBUTE',
      `BitsStored ${bitsStored} / HighBit ${highBit} do not fit in BitsAllocated ${bitsAllocated}`,
    );
  }
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `SamplesPerPixel (0028,0002) is ${samplesPerPixel}, expected 1 or 3`);
  }
  const photometricInterpretation = (ds.string('x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  if (samplesPerPixel === 1 && !['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR'].includes(photometricInterpretation)) {
    throw new DicomError(
      'ERR_DICOM_BAD_ATTRIBUTE',
      `PhotometricInterpretation ${photometricInterpretation} does not match SamplesPerPixel 1`,
    );
  }
  if (photometricInterpretation === 'PALETTE COLOR') {
    throw new DicomError('ERR_DICOM_UNSUPPORTED', 'PALETTE COLOR images are not supported (radiographs are MONOCHROME1/2 or RGB)');
  }
  // Subsampled chroma (two samples per pixel on average) is only defined for 8-bit samples.
  if ((photometricInterpretation === 'YBR_FULL_422' || photometricInterpretation === 'YBR_PARTIAL_422') && bitsAllocated !== 8) {
    throw new DicomError(
      'ERR_DICOM_UNSUPPORTED',
      `PhotometricInterpretation ${photometricInterpretation} with BitsAllocated (0028,0100) ${bitsAllocated} is not supported, expected 8`,
    );
  }
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `PixelRepresentation (0028,0103) is ${pixelRepresentation}, expected 0 or 1`);
  }
  const frames = ds.intString('x00280008') ?? 1;
  if (!Number.isInteger(frames) || frames < 1) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `NumberOfFrames (0028,0008) is ${frames}, expected a positive integer`);
  }
  return {
    rows,
    columns,
    numberOfFrames: frames,
    samplesPerPixel,
    photometricInterpretation,
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: pixelRepresentation as 0 | 1,
  };
}

export function readMetadata(ds: DataSet): DicomMetadata {
  const spacing = numbers(ds, 'x00280030') ?? numbers(ds, 'x00181164');
  const slope = ds.floatString('x00281053');
  const intercept = ds.floatString('x00281052');
  return {
    modality: text(ds, 'x00080060'),
    viewPosition: text(ds, 'x00185101'),
    patientId: text(ds, 'x00100020'),
    studyInstanceUID: text(ds, 'x0020000d'),
    seriesInstanceUID: text(ds, 'x0020000e'),
    sopInstanceUID: text(ds, 'x00080018'),
    pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0]!, spacing[1]!] : undefined,
    windowCenter: numbers(ds, 'x00281050'),
    windowWidth: numbers(ds, 'x00281051'),
    rescaleSlope: slope !== undefined && Number.isFinite(slope) && slope !== 0 ? slope : 1,
    rescaleIntercept: intercept !== undefined && Number.isFinite(intercept) ? intercept : 0,
  };
}

/** Largest finite float32: modality values are Float32Array entries. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Rescale slope and intercept must keep every stored value finite as a float32 modality value;
 * beyond that the values become ±Infinity and every window turns them into NaN.
 */
export function checkRescale(pm: PixelModule, meta: DicomMetadata): void {
  const largestStored = 2 ** pm.bitsStored;
  if (Math.abs(meta.rescaleSlope) * largestStored + Math.abs(meta.rescaleIntercept) > FLOAT32_MAX) {
    throw new DicomError(
      'ERR_DICOM_BAD_ATTRIBUTE',
      `RescaleSlope (0028,1053) ${meta.rescaleSlope} and RescaleIntercept (0028,1052) ${meta.rescaleIntercept} map ` +
        `${pm.bitsStored}-bit stored values beyond the float32 range (±3.4e38)`,
      { rescaleSlope: meta.rescaleSlope, rescaleIntercept: meta.rescaleIntercept },
    );
  }
}

function requireUint16(ds: DataSet, tag: string, name: string): number {
  const value = ds.elements[tag] ? ds.uint16(tag) : undefined;
  if (value === undefined || value === 0) {
    throw new DicomError(
      'ERR_DICOM_BAD_ATTRIBUTE',
      `${name} (${tag.slice(1, 5)},${tag.slice(5)}) is ${value === undefined ? 'missing' : 'zero'}; an image needs it`,
    );
  }
  return value;
}

function text(ds: DataSet, tag: string): string | undefined {
  const value = ds.string(tag)?.trim();
  return value ? value : undefined;
}

function numbers(ds: DataSet, tag: string): number[] | undefined {
  const count = ds.elements[tag] ? (ds.numStringValues(tag) ?? 0) : 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = ds.floatString(tag, i);
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return out.length ? out : undefined;
}
