/**
 * A small JPEG lossless encoder (ITU T.81 process 14, Huffman, any predictor
 * 1-7, point transform 0), for writing JPEG Lossless DICOM fixtures and phantoms.
 * No installed package encodes process 14. It uses one fixed Huffman table of
 * 5-bit codes for the 17 difference categories: valid and simple, not optimal.
 */
import { DicomError } from './errors.js';

export interface JpegLosslessOptions {
  rows: number;
  columns: number;
  components: 1 | 3;
  /** 2..16 */ precision: number;
  /** 1..7; 1 (left neighbour) is DICOM's "SV1" syntax. */ predictor?: number;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private count = 0;
  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >>> b) & 1);
      if (++this.count === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing
    this.acc = 0;
    this.count = 0;
  }
  finish(): number[] {
    if (this.count > 0) this.write(0xff, 8 - this.count); // pad with ones
    return this.bytes;
  }
}

/** `samples`: unsigned values (two's complement bit patterns for signed data), interleaved per pixel. */
export function encodeJpegLossless(samples: Uint8Array | Uint16Array, options: JpegLosslessOptions): Uint8Array {
  const { rows, columns, components, precision } = options;
  const predictor = options.predictor ?? 1;
  if (precision < 2 || precision > 16 || predictor < 1 || predictor > 7) {
    throw new DicomError('ERR_DICOM_BAD_SPEC', `JPEG lossless needs precision 2..16 and predictor 1..7, got ${precision}, ${predictor}`);
  }
  if (samples.length !== rows * columns * components) {
    throw new DicomError('ERR_DICOM_PIXEL_LENGTH', `expected ${rows * columns * components} samples, got ${samples.length}`);
  }
  const mask = precision === 16 ? 0xffff : (1 << precision) - 1;
  const header: number[] = [0xff, 0xd8];
  // SOF3: lossless, Huffman
  header.push(0xff, 0xc3, 0, 8 + 3 * components, precision, rows >> 8, rows & 0xff, columns >> 8, columns & 0xff, components);
  for (let c = 0; c < components; c++) header.push(c + 1, 0x11, 0);
  // DHT: DC table 0, seventeen 5-bit codes for categories 0..16
  const counts = new Array<number>(16).fill(0);
  counts[4] = 17;
  header.push(0xff, 0xc4, 0, 2 + 1 + 16 + 17, 0x00, ...counts);
  for (let s = 0; s <= 16; s++) header.push(s);
  // SOS
  header.push(0xff, 0xda, 0, 6 + 2 * components, components);
  for (let c = 0; c < components; c++) header.push(c + 1, 0x00);
  header.push(predictor, 0, 0);

  const bits = new BitWriter();
  const at = (r: number, col: number, c: number) => samples[(r * columns + col) * components + c]! & mask;
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < columns; col++) {
      for (let c = 0; c < components; c++) {
        const x = at(r, col, c);
        let pred: number;
        if (r === 0 && col === 0) pred = 1 << (precision - 1);
        else if (r === 0) pred = at(r, col - 1, c);
        else if (col === 0) pred = at(r - 1, col, c);
        else pred = predict(predictor, at(r, col - 1, c), at(r - 1, col, c), at(r - 1, col - 1, c));
        writeDifference(bits, x - pred);
      }
    }
  }
  const entropy = bits.finish();
  const out = new Uint8Array(header.length + entropy.length + 2);
  out.set(header, 0);
  out.set(entropy, header.length);
  out.set([0xff, 0xd9], header.length + entropy.length);
  return out;
}

function predict(selector: number, a: number, b: number, c: number): number {
  switch (selector) {
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return c;
    case 4:
      return a + b - c;
    case 5:
      return a + ((b - c) >> 1);
    case 6:
      return b + ((a - c) >> 1);
    default:
      return (a + b) >> 1;
  }
}

function writeDifference(bits: BitWriter, raw: number): void {
  // Differences are taken modulo 2^16 (T.81 H.1.2.1).
  let diff = raw & 0xffff;
  if (diff >= 0x8000) diff -= 0x10000;
  if (diff === -0x8000) {
    bits.write(16, 5);
    return;
  } // category 16 carries no extra bits
  const magnitude = Math.abs(diff);
  const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
  bits.write(category, 5);
  if (category > 0) bits.write(diff > 0 ? diff : diff - 1 + (1 << category), category);
}
