// data layer barrel: each area appends its own lines.

// images: DICOM
export { writeDicom, writeDicomFile, writeEncapsulatedDicom, type DicomWriteSpec } from './dicom/write.js';
export { DicomError } from './dicom/errors.js';
export { TransferSyntax, transferSyntaxName, isEncapsulatedSyntax, type TransferSyntaxUID } from './dicom/syntax.js';
