/**
 * Reads the frame header of a JPEG (SOFn) or JPEG-LS (SOF55) codestream without decoding it,
 * so the decoder is chosen from what the stream is (precision, process) and never by trial
 * (jpeg-lossless-decoder-js returns garbage on lossy streams), and so a frame whose size
 * disagrees with the dataset is refused before a codec allocates for it.
 */
import { DicomError } from './errors.js';

export interface CodestreamHeader {
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

export interface JpegFrameHeader extends CodestreamHeader {
  /** SOF marker low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, ... */
  process: number;
  /** Largest horizontal and vertical sampling factors (an MCU is 8h x 8v pixels). */
  maxSampling: { h: number; v: number };
  /** Offset of the first scan's entropy-coded data; the stream length when there is no scan. */
  scanOffset: number;
}

const SOF55 = 0xf7;
const isJpegSof = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

export function readJpegFrameHeader(bytes: Uint8Array): JpegFrameHeader {
  const { marker, header, at } = readFrameHeader(bytes, isJpegSof, 'JPEG');
  let h = 1,
    v = 1;
  for (let c = 0; c < header.components && at + 12 + 3 * c < bytes.length; c++) {
    const factors = bytes[at + 11 + 3 * c]!;
    h = Math.max(h, factors >> 4);
    v = Math.max(v, factors & 15);
  }
  return { process: marker & 0x0f, ...header, maxSampling: { h, v }, scanOffset: scanOffset(bytes, at) };
}

/**
 * A lower bound on the entropy-coded bytes a frame needs: every Huffman code is at least one
 * bit, and lossless JPEG spends one per sample, DCT JPEG at least one per MCU. A stream with
 * less is truncated or lies about its size; it is refused before a decoder invents the missing
 * pixels (jpeg-lossless-decoder-js does) or spends seconds on a huge claim.
 */
export function minimumScanBytes(header: JpegFrameHeader): number {
  const units =
    header.process === 3
      ? header.rows * header.columns * header.components
      : Math.ceil(header.columns / (8 * header.maxSampling.h)) * Math.ceil(header.rows / (8 * header.maxSampling.v));
  return Math.ceil(units / 8);
}

/** Where the entropy-coded data of the first scan after `from` starts. */
function scanOffset(bytes: Uint8Array, from: number): number {
  let pos = from;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    if (marker === 0xda) return Math.min(bytes.length, pos + 2 + length);
    if (marker === 0xd9 || length < 2) break;
    pos += 2 + length;
  }
  return bytes.length;
}

/**
 * The SOF55 header of a JPEG-LS frame, which must also end with EOI (trailing zero padding
 * allowed): CharLS keeps reading past the end of a stream without one, for seconds, through
 * whatever memory follows it.
 */
export function readJpegLsFrameHeader(bytes: Uint8Array): CodestreamHeader {
  const { header } = readFrameHeader(bytes, (marker) => marker === SOF55, 'JPEG-LS');
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end < 2 || bytes[end - 2] !== 0xff || bytes[end - 1] !== 0xd9) {
    throw new DicomError('ERR_DICOM_TRUNCATED', 'JPEG-LS frame does not end with an EOI marker (FFD9): the codestream is truncated');
  }
  return header;
}

/** The first frame header, its marker and offset. */
function readFrameHeader(
  bytes: Uint8Array,
  isSof: (marker: number) => boolean,
  codec: string,
): { marker: number; header: CodestreamHeader; at: number } {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new DicomError('ERR_DICOM_DECODE', `${codec} frame does not start with an SOI marker (FFD8)`);
  }
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) {
      throw new DicomError('ERR_DICOM_DECODE', `${codec} marker expected at byte ${pos}, found 0x${bytes[pos]!.toString(16)}`);
    }
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos += 1;
      continue;
    } // fill byte
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    if (isSof(marker)) {
      if (pos + 10 > bytes.length) break;
      return {
        marker,
        at: pos,
        header: {
          precision: bytes[pos + 4]!,
          rows: (bytes[pos + 5]! << 8) | bytes[pos + 6]!,
          columns: (bytes[pos + 7]! << 8) | bytes[pos + 8]!,
          components: bytes[pos + 9]!,
        },
      };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan or end before any frame header
    if (length < 2) break;
    pos += 2 + length;
  }
  throw new DicomError('ERR_DICOM_DECODE', `${codec} frame has no frame header (SOF marker) before its scan data`);
}
