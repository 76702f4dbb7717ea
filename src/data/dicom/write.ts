/**
 * Writes DICOM Part 10 files from raw stored pixel values, through dcmjs
 * (DicomDict + denaturalizeDataset). Used by the phantom dataset generator and by
 * the tests, which compare what readDicom decodes against what was written here.
 *
 * dcmjs writes Implicit VR LE, Explicit VR LE and Explicit VR BE headers itself,
 * but writes pixel bytes as given, so big-endian pixel data is byte-swapped here;
 * it does not deflate, so the deflated syntax is the explicit LE dataset with the
 * body after the meta group raw-deflated here (PS3.5 A.5).
 */
import { deflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { writeFileAtomic } from '../../io/atomic.js';
import { DicomError } from './errors.js';
import { TransferSyntax } from './syntax.js';

export interface DicomWriteSpec {
  rows: number;
  columns: number;
  numberOfFrames?: number; // default 1
  samplesPerPixel?: 1 | 3;
  photometricInterpretation?: string; // default 1, 'MONOCHROME2'
  bitsAllocated: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1; // bitsStored defaults to bitsAllocated
  pixels: Uint8Array | Int8Array | Uint16Array | Int16Array; // stored values, frames concatenated, RGB interleaved
  transferSyntaxUID?: string; // default Explicit VR Little Endian '1.2.840.10008.1.2.1'
  rescaleSlope?: number;
  rescaleIntercept?: number;
  windowCenter?: number | number[];
  windowWidth?: number | number[];
  modality?: string;
  viewPosition?: string;
  patientId?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  pixelSpacing?: [number, number];
  extra?: Record<string, unknown>; // extra naturalized dcmjs attributes
}

const NATIVE_SYNTAXES = new Set<string>([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
]);

const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1473.1';

/** Writes stored pixels uncompressed in one of the four native transfer syntaxes. */
export function writeDicom(spec: DicomWriteSpec): Uint8Array {
  const syntax = spec.transferSyntaxUID ?? TransferSyntax.ExplicitVRLittleEndian;
  if (!NATIVE_SYNTAXES.has(syntax)) {
    throw new DicomError(
      'ERR_DICOM_UNSUPPORTED_SYNTAX',
      `writeDicom writes native transfer syntaxes only, got ${syntax}; use writeEncapsulatedDicom for compressed syntaxes`,
      { transferSyntaxUID: syntax },
    );
  }
  validateSpec(spec);
  let pixelBytes = new Uint8Array(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.byteLength);
  if (syntax === TransferSyntax.ExplicitVRBigEndian && spec.bitsAllocated === 16) pixelBytes = swap16(pixelBytes);
  const pixelBuffer = pixelBytes.slice().buffer;
  const bytes = writeWithDcmjs(spec, syntax, [pixelBuffer], false);
  return syntax === TransferSyntax.DeflatedExplicitVRLittleEndian ? deflateBody(bytes) : bytes;
}

/**
 * Writes already-encoded frames (one codestream per frame) in an encapsulated
 * transfer syntax; dcmjs lays out the offset table and fragments.
 */
export function writeEncapsulatedDicom(
  spec: Omit<DicomWriteSpec, 'pixels'> & { transferSyntaxUID: string },
  frames: Uint8Array[],
): Uint8Array {
  if (NATIVE_SYNTAXES.has(spec.transferSyntaxUID)) {
    throw new DicomError(
      'ERR_DICOM_UNSUPPORTED_SYNTAX',
      `writeEncapsulatedDicom needs an encapsulated transfer syntax, got native ${spec.transferSyntaxUID}`,
    );
  }
  const count = spec.numberOfFrames ?? 1;
  if (frames.length !== count) {
    throw new DicomError('ERR_DICOM_PIXEL_LENGTH', `expected ${count} encoded frames, got ${frames.length}`);
  }
  return writeWithDcmjs(
    spec,
    spec.transferSyntaxUID,
    frames.map((f) => f.slice().buffer),
    true,
  );
}

/** Atomic: writes a temporary file in the same folder, then renames it over `path`. */
export async function writeDicomFile(path: string, spec: DicomWriteSpec): Promise<void> {
  await writeFileAtomic(path, writeDicom(spec), { createFolder: false });
}

function validateSpec(spec: DicomWriteSpec): void {
  const frames = spec.numberOfFrames ?? 1;
  const samples = spec.samplesPerPixel ?? 1;
  const expected = spec.rows * spec.columns * frames * samples;
  if (![spec.rows, spec.columns, frames].every((n) => Number.isInteger(n) && n > 0)) {
    throw new DicomError(
      'ERR_DICOM_BAD_SPEC',
      `rows, columns and numberOfFrames must be positive integers, got ${spec.rows}x${spec.columns}x${frames}`,
    );
  }
  if (spec.pixels.length !== expected) {
    throw new DicomError(
      'ERR_DICOM_PIXEL_LENGTH',
      `pixels has ${spec.pixels.length} values, expected rows*columns*frames*samples = ${expected}`,
    );
  }
  if (spec.pixels.BYTES_PER_ELEMENT * 8 !== spec.bitsAllocated) {
    throw new DicomError(
      'ERR_DICOM_BAD_SPEC',
      `pixels is ${spec.pixels.BYTES_PER_ELEMENT * 8}-bit but bitsAllocated is ${spec.bitsAllocated}`,
    );
  }
}

function writeWithDcmjs(spec: Omit<DicomWriteSpec, 'pixels'>, syntax: string, pixelData: ArrayBuffer[], encapsulated: boolean): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const sopInstanceUID = spec.sopInstanceUID ?? DicomMetaDictionary.uid();
  const dataset = buildDataset(spec, sopInstanceUID, pixelData, encapsulated);
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: syntax,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'RADLEARN',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write({ fragmentMultiframe: false }));
}

function buildDataset(
  spec: Omit<DicomWriteSpec, 'pixels'>,
  sopInstanceUID: string,
  pixelData: ArrayBuffer[],
  encapsulated: boolean,
): Record<string, unknown> {
  const { DicomMetaDictionary } = dcmjs.data;
  const samples = spec.samplesPerPixel ?? 1;
  const frames = spec.numberOfFrames ?? 1;
  const ds: Record<string, unknown> = {
    SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    SOPInstanceUID: sopInstanceUID,
    StudyInstanceUID: spec.studyInstanceUID ?? DicomMetaDictionary.uid(),
    SeriesInstanceUID: spec.seriesInstanceUID ?? DicomMetaDictionary.uid(),
    PatientID: spec.patientId ?? 'ANON',
    Modality: spec.modality ?? 'OT',
    Rows: spec.rows,
    Columns: spec.columns,
    SamplesPerPixel: samples,
    PhotometricInterpretation: spec.photometricInterpretation ?? (samples === 3 ? 'RGB' : 'MONOCHROME2'),
    BitsAllocated: spec.bitsAllocated,
    BitsStored: spec.bitsStored ?? spec.bitsAllocated,
    HighBit: (spec.bitsStored ?? spec.bitsAllocated) - 1,
    PixelRepresentation: spec.pixelRepresentation ?? 0,
  };
  if (samples === 3) ds.PlanarConfiguration = 0;
  if (frames > 1) ds.NumberOfFrames = frames;
  if (spec.viewPosition !== undefined) ds.ViewPosition = spec.viewPosition;
  if (spec.pixelSpacing) ds.PixelSpacing = spec.pixelSpacing;
  if (spec.rescaleSlope !== undefined || spec.rescaleIntercept !== undefined) {
    ds.RescaleSlope = spec.rescaleSlope ?? 1;
    ds.RescaleIntercept = spec.rescaleIntercept ?? 0;
  }
  if (spec.windowCenter !== undefined) ds.WindowCenter = spec.windowCenter;
  if (spec.windowWidth !== undefined) ds.WindowWidth = spec.windowWidth;
  Object.assign(ds, spec.extra ?? {});
  ds.PixelData = pixelData;
  // 16-bit native data is OW; encapsulated pixel data is always OB (PS3.5 A.4).
  ds._vrMap = { PixelData: spec.bitsAllocated === 16 && !encapsulated ? 'OW' : 'OB' };
  return ds;
}

function swap16(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1]!;
    out[i + 1] = bytes[i]!;
  }
  return out;
}

/** Replaces everything after the file meta group with its raw-deflated form. */
function deflateBody(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // 128 preamble + 'DICM' + (0002,0000) UL element: tag 4, VR 2, length 2, value 4.
  const groupLength = view.getUint32(132 + 8, true);
  const bodyStart = 132 + 12 + groupLength;
  const deflated = deflateRawSync(file.subarray(bodyStart));
  const out = new Uint8Array(bodyStart + deflated.length + (deflated.length & 1));
  out.set(file.subarray(0, bodyStart), 0);
  out.set(deflated, bodyStart);
  return out;
}
