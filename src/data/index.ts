// data layer barrel: each area appends its own lines.

// images: DICOM
export { writeDicom, writeDicomFile, writeEncapsulatedDicom, type DicomWriteSpec } from './dicom/write.js';
export { DicomError } from './dicom/errors.js';
export { TransferSyntax, transferSyntaxName, isEncapsulatedSyntax, type TransferSyntaxUID } from './dicom/syntax.js';
export { readDicom, readDicomHeader, type ReadDicomOptions } from './dicom/read.js';
export type { DicomImage, ToImageOptions, WindowOption } from './dicom/image.js';
export type { StoredArray } from './dicom/stored.js';
export type { VoiFunction, WindowSpec } from './dicom/lut.js';
export { encodeDicom, type EncodeOptions } from './dicom/encapsulate.js';
export { encodeRle, decodeRle } from './dicom/rle.js';
export { encodeJpegLossless, type JpegLosslessOptions } from './dicom/jpegLosslessEncode.js';

// images: PNG/JPEG
export { readImage, readAnyImage, sniffFormat, ImageError, type ImageFormat } from './image/read.js';
