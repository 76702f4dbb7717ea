/**
 * A small sequential DCT JPEG encoder for greyscale 8- or 12-bit images (SOF0 for
 * 8-bit, SOF1 for 12-bit), for writing JPEG Extended 12-bit DICOM fixtures and
 * phantoms: no installed package encodes 12-bit lossy JPEG. One flat quantization
 * step and fixed-length Huffman codes (5-bit DC, 8-bit AC): valid, not compact.
 */
import { DicomError } from './errors.js';
import { DCT_BASIS, ZIGZAG } from './jpegDct.js';

export interface JpegDctOptions {
  rows: number;
  columns: number;
  precision: 8 | 12;
  /** quantization step, 1..255 */ quantStep?: number;
  /** MCUs between restart markers (0: none). */ restartInterval?: number;
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private count = 0;
  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >>> b) & 1);
      if (++this.count === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0);
        this.acc = 0;
        this.count = 0;
      }
    }
  }
  /** Pads the last byte with ones (T.81 F.1.2.3). */
  align(): void {
    if (this.count > 0) this.write(0xff, 8 - this.count);
  }
  finish(): number[] {
    this.align();
    return this.bytes;
  }
}

const AC_SYMBOLS: number[] = (() => {
  const symbols = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 15; size++) symbols.push((run << 4) | size);
  return symbols;
})();
const AC_CODE = new Map(AC_SYMBOLS.map((s, i) => [s, i]));

export function encodeJpegDct(samples: Uint8Array | Uint16Array, options: JpegDctOptions): Uint8Array {
  const { rows, columns, precision } = options;
  const q = options.quantStep ?? 2;
  if (samples.length !== rows * columns) throw new DicomError('ERR_DICOM_PIXEL_LENGTH', `expected ${rows * columns} samples`);
  if (!(q >= 1 && q <= 255)) throw new DicomError('ERR_DICOM_BAD_SPEC', `quantStep must be 1..255, got ${q}`);
  const out: number[] = [0xff, 0xd8];
  out.push(0xff, 0xdb, 0, 67, 0x00, ...new Array<number>(64).fill(q));
  out.push(0xff, precision === 8 ? 0xc0 : 0xc1, 0, 11, precision, rows >> 8, rows & 0xff, columns >> 8, columns & 0xff, 1, 1, 0x11, 0);
  const dcCounts = new Array<number>(16).fill(0);
  dcCounts[4] = 16;
  out.push(0xff, 0xc4, 0, 3 + 16 + 16, 0x00, ...dcCounts, ...Array.from({ length: 16 }, (_, i) => i));
  const acCounts = new Array<number>(16).fill(0);
  acCounts[7] = AC_SYMBOLS.length;
  const acLength = 3 + 16 + AC_SYMBOLS.length;
  out.push(0xff, 0xc4, acLength >> 8, acLength & 0xff, 0x10, ...acCounts, ...AC_SYMBOLS);
  const restart = options.restartInterval ?? 0;
  if (restart > 0) out.push(0xff, 0xdd, 0, 4, restart >> 8, restart & 0xff);
  out.push(0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0);
  const bits = new BitWriter();
  const shift = 1 << (precision - 1);
  const block = new Float64Array(64),
    tmp = new Float64Array(64);
  let pred = 0;
  let mcu = 0;
  const category = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(Math.abs(v)));
  const writeValue = (v: number, size: number) => bits.write(v >= 0 ? v : v + (1 << size) - 1, size);
  for (let by = 0; by < Math.ceil(rows / 8); by++) {
    for (let bx = 0; bx < Math.ceil(columns / 8); bx++) {
      if (restart > 0 && mcu > 0 && mcu % restart === 0) {
        bits.align();
        bits.bytes.push(0xff, 0xd0 + ((mcu / restart - 1) % 8));
        pred = 0;
      }
      mcu++;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const r = Math.min(rows - 1, by * 8 + y),
            c = Math.min(columns - 1, bx * 8 + x); // edge replication
          block[y * 8 + x] = samples[r * columns + c]! - shift;
        }
      }
      // FDCT: F(v,u) = sum_y sum_x basis(y,v) basis(x,u) f(y,x)
      for (let y = 0; y < 8; y++)
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += DCT_BASIS[x * 8 + u]! * block[y * 8 + x]!;
          tmp[y * 8 + u] = s;
        }
      for (let v = 0; v < 8; v++)
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += DCT_BASIS[y * 8 + v]! * tmp[y * 8 + u]!;
          block[v * 8 + u] = Math.round(s / q);
        }
      const dc = block[0]!;
      const diff = dc - pred;
      pred = dc;
      const dcSize = category(diff);
      bits.write(dcSize, 5);
      if (dcSize) writeValue(diff, dcSize);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = block[ZIGZAG[k]!]!;
        if (v === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          bits.write(AC_CODE.get(0xf0)!, 8);
          run -= 16;
        }
        const size = category(v);
        bits.write(AC_CODE.get((run << 4) | size)!, 8);
        writeValue(v, size);
        run = 0;
      }
      if (run > 0) bits.write(AC_CODE.get(0x00)!, 8);
    }
  }
  return Uint8Array.from([...out, ...bits.finish(), 0xff, 0xd9]);
}
