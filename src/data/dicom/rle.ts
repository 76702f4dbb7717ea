/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header with up to 15 segment
 * offsets, one PackBits segment per byte plane (most significant byte first,
 * one plane set per sample). No package here decodes it, so it is done by hand.
 */
import { DicomError } from './errors.js';

/** Decodes one RLE frame into interleaved little-endian samples (planar input, interleaved output). */
export function decodeRle(frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const pixels = rows * columns;
  if (frame.length < 64) throw new DicomError('ERR_DICOM_DECODE', `RLE frame is ${frame.length} bytes, shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `RLE header lists ${segments} segments, expected samplesPerPixel*bytesPerSample = ${expected}`,
    );
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  if (pixels * expected > frame.length * 64 + 128 * segments) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `RLE frame of ${frame.length} bytes cannot hold ${rows}x${columns}x${samplesPerPixel} samples (rows/columns disagree with the data)`,
    );
  }
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s]!;
    const end = s + 1 < segments ? offsets[s + 1]! : frame.length;
    if (start < 64 || end > frame.length || end < start) {
      throw new DicomError('ERR_DICOM_DECODE', `RLE segment ${s} spans bytes ${start}..${end} of a ${frame.length}-byte frame`);
    }
    // PackBits expands at most 128 bytes from 2: a claim beyond that is a corrupt header, not a big image.
    if (pixels > (end - start) * 64 + 128) {
      throw new DicomError(
        'ERR_DICOM_DECODE',
        `RLE segment ${s} has ${end - start} bytes, too few to hold ${pixels} pixels (rows/columns disagree with the data)`,
      );
    }
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // segments are MSB first
    unpackBits(frame, start, end, out, sample * bytesPerSample + byteInSample, expected, pixels, s);
  }
  return out;
}

function unpackBits(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  first: number,
  stride: number,
  count: number,
  segment: number,
): void {
  let i = start;
  let n = 0;
  let o = first;
  while (n < count && i < end) {
    const header = src[i++]!;
    if (header < 128) {
      const run = header + 1;
      if (i + run > end || n + run > count) break;
      for (let k = 0; k < run; k++, o += stride) out[o] = src[i + k]!;
      i += run;
      n += run;
    } else if (header > 128) {
      const run = 257 - header;
      if (i >= end || n + run > count) break;
      const value = src[i++]!;
      for (let k = 0; k < run; k++, o += stride) out[o] = value;
      n += run;
    } // 128 is a no-op
  }
  if (n !== count) {
    throw new DicomError('ERR_DICOM_DECODE', `RLE segment ${segment} decodes to ${n} bytes, expected ${count}`);
  }
}

/** Encodes one frame of interleaved little-endian samples (the inverse of decodeRle). */
export function encodeRle(pixels: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const stride = samplesPerPixel * bytesPerSample;
  const count = rows * columns;
  const segments: Uint8Array[] = [];
  const plane = new Uint8Array(count);
  for (let s = 0; s < stride; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    for (let p = 0; p < count; p++) plane[p] = pixels[p * stride + sample * bytesPerSample + byteInSample]!;
    // Each row is packed separately, as PS3.5 G.3 recommends.
    const parts: number[] = [];
    for (let r = 0; r < rows; r++) packBits(plane.subarray(r * columns, (r + 1) * columns), parts);
    if (parts.length & 1) parts.push(128); // even segment length; 128 is a no-op
    segments.push(Uint8Array.from(parts));
  }
  const total = 64 + segments.reduce((a, s) => a + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((segment, s) => {
    view.setUint32(4 + 4 * s, offset, true);
    out.set(segment, offset);
    offset += segment.length;
  });
  return out;
}

function packBits(row: Uint8Array, out: number[]): void {
  let i = 0;
  while (i < row.length) {
    let run = 1;
    while (i + run < row.length && run < 128 && row[i + run] === row[i]) run++;
    if (run >= 2) {
      out.push(257 - run, row[i]!);
      i += run;
      continue;
    }
    let literal = 1;
    while (i + literal < row.length && literal < 128 && !(i + literal + 1 < row.length && row[i + literal] === row[i + literal + 1]))
      literal++;
    out.push(literal - 1);
    for (let k = 0; k < literal; k++) out.push(row[i + k]!);
    i += literal;
  }
}
