/**
 * Reads a JPEG 2000 codestream's image and tile sizes (SIZ) and walks its tile-parts (SOT)
 * without decoding, so a frame that disagrees with the dataset, or lacks some of its tiles, is
 * refused before OpenJPEG runs: OpenJPEG allocates for whatever SIZ claims and fills the tiles
 * a stream lacks with zeros, returning an image the file never held.
 */
import { DicomError } from './errors.js';
import type { CodestreamHeader } from './jpegInfo.js';

const SOC = 0xff4f;
const SIZ = 0xff51;
const SOT = 0xff90;

export function readJ2kFrameHeader(frame: Uint8Array): CodestreamHeader {
  const bytes = codestreamOf(frame);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2 + 41 || view.getUint16(0) !== SOC || view.getUint16(2) !== SIZ) {
    throw new DicomError('ERR_DICOM_DECODE', 'JPEG 2000 frame does not start with the SOC and SIZ markers (FF4F FF51)');
  }
  const siz = 2;
  const [xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz] = [6, 10, 14, 18, 22, 26, 30, 34].map((o) => view.getUint32(siz + o));
  const components = view.getUint16(siz + 38);
  const header = { rows: ysiz! - yosiz!, columns: xsiz! - xosiz!, components, precision: (bytes[siz + 40]! & 0x7f) + 1 };
  if (header.rows <= 0 || header.columns <= 0 || xtsiz === 0 || ytsiz === 0 || xtosiz! > xosiz! || ytosiz! > yosiz!) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `JPEG 2000 SIZ describes no image: ${xsiz}x${ysiz} from offset ${xosiz},${yosiz} in tiles of ${xtsiz}x${ytsiz}`,
    );
  }
  const tiles = Math.ceil((xsiz! - xtosiz!) / xtsiz!) * Math.ceil((ysiz! - ytosiz!) / ytsiz!);
  const present = tileCount(bytes, view, siz + 2 + view.getUint16(siz + 2), tiles);
  if (present < tiles) {
    throw new DicomError(
      'ERR_DICOM_TRUNCATED',
      `JPEG 2000 frame holds tile-parts for ${present} of the ${tiles} tiles its SIZ marker describes`,
    );
  }
  return header;
}

const JP2_SIGNATURE = [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const JP2C = 0x6a703263; // 'jp2c', the contiguous codestream box

/** Some writers put the JP2 file format around the codestream (OpenJPEG reads both): unwrap it. */
function codestreamOf(frame: Uint8Array): Uint8Array {
  if (frame.length < JP2_SIGNATURE.length || JP2_SIGNATURE.some((b, i) => frame[i] !== b)) return frame;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let pos = 0;
  while (pos + 8 <= frame.length) {
    let length = view.getUint32(pos);
    let header = 8;
    if (length === 1 && pos + 16 <= frame.length) {
      length = view.getUint32(pos + 8) * 2 ** 32 + view.getUint32(pos + 12);
      header = 16;
    }
    if (length === 0) length = frame.length - pos; // the last box runs to the end
    if (view.getUint32(pos + 4) === JP2C) return frame.subarray(pos + header, Math.min(frame.length, pos + length));
    if (length < header) break;
    pos += length;
  }
  throw new DicomError('ERR_DICOM_DECODE', 'JPEG 2000 frame is a JP2 file without a codestream (jp2c) box');
}

/** Distinct tile indices among the tile-parts, following each SOT's length (Psot) to the next. */
function tileCount(bytes: Uint8Array, view: DataView, from: number, tiles: number): number {
  let pos = skipToSot(bytes, view, from);
  const seen = new Set<number>();
  while (pos >= 0 && pos + 12 <= bytes.length && view.getUint16(pos) === SOT) {
    const index = view.getUint16(pos + 4);
    const length = view.getUint32(pos + 6);
    if (index < tiles) seen.add(index);
    if (length === 0) break; // the last tile-part runs to EOC
    if (length < 14) break;
    pos += length;
  }
  return seen.size;
}

/** Main-header marker segments end at the first SOT. */
function skipToSot(bytes: Uint8Array, view: DataView, from: number): number {
  let pos = from;
  while (pos + 4 <= bytes.length) {
    const marker = view.getUint16(pos);
    if (marker === SOT) return pos;
    if ((marker & 0xff00) !== 0xff00) return -1;
    pos += 2 + view.getUint16(pos + 2);
  }
  return -1;
}
