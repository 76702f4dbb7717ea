/**
 * Reads the frame header (SOFn) of a JPEG codestream without decoding it, so the
 * decoder is chosen from what the stream is (precision, process) and never by
 * trial: jpeg-lossless-decoder-js returns garbage on lossy streams.
 */
import { DicomError } from './errors.js';

export interface JpegFrameHeader {
  /** SOF marker low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, ... */
  process: number;
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

export function readJpegFrameHeader(bytes: Uint8Array): JpegFrameHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new DicomError('ERR_DICOM_DECODE', 'JPEG frame does not start with an SOI marker (FFD8)');
  }
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) {
      throw new DicomError('ERR_DICOM_DECODE', `JPEG marker expected at byte ${pos}, found 0x${bytes[pos]!.toString(16)}`);
    }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) { pos += 1; continue; } // fill byte
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 10 > bytes.length) break;
      return {
        process: marker & 0x0f,
        precision: bytes[pos + 4]!,
        rows: (bytes[pos + 5]! << 8) | bytes[pos + 6]!,
        columns: (bytes[pos + 7]! << 8) | bytes[pos + 8]!,
        components: bytes[pos + 9]!,
      };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan or end before any frame header
    if (length < 2) break;
    pos += 2 + length;
  }
  throw new DicomError('ERR_DICOM_DECODE', 'JPEG frame has no frame header (SOF marker) before its scan data');
}
