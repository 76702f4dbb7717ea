/**
 * A sequential DCT JPEG decoder (ITU T.81 processes 1, 2 and 4: SOF0/SOF1,
 * Huffman coded, 8- or 12-bit precision, any sampling factors, restart markers).
 * It exists for DICOM's JPEG Extended 12-bit (1.2.840.10008.1.2.4.51), which no
 * installed package decodes; 8-bit frames still go to libjpeg-turbo. Checked in
 * the tests against libjpeg-turbo on 8-bit streams and against an encoder on
 * 12-bit ones.
 */
import { DicomError } from './errors.js';
import { idctIslow } from './idctIslow.js';

export interface DctImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Interleaved samples (RGB after colour conversion for 3 components). */
  data: Uint16Array;
}

export const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57,
  50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** cos((2x+1)uπ/16) · C(u)/2, the encoder's FDCT basis. */
export const DCT_BASIS = (() => {
  const t = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++) t[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return t;
})();

/** Canonical Huffman table plus a 9-bit lookup (length << 8 | symbol) for the common short codes. */
interface HuffmanTable {
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
  lookup: Uint16Array;
}
const LOOKUP_BITS = 9;
interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  plane: Float32Array;
  pred: number;
  dc: number;
  ac: number;
}

const fail = (message: string): never => {
  throw new DicomError('ERR_DICOM_DECODE', `JPEG: ${message}`);
};

export function decodeJpegDct(bytes: Uint8Array): DctImage {
  const quant: (Int32Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let frame: { precision: number; width: number; height: number; components: Component[]; hMax: number; vMax: number } | undefined;
  let restartInterval = 0;
  let adobeTransform: number | undefined;
  let pos = 2;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('missing SOI marker');
  const u16 = (at: number) => {
    if (at + 2 > bytes.length) fail('stream ends inside a marker segment');
    return (bytes[at]! << 8) | bytes[at + 1]!;
  };
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) fail(`marker expected at byte ${pos}`);
    const marker = bytes[pos + 1]!;
    pos += 2;
    if (marker === 0xff) {
      pos -= 1;
      continue;
    }
    if (marker === 0xd9) break; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) continue; // stray RSTn
    const length = u16(pos);
    const end = pos + length;
    if (length < 2 || end > bytes.length) fail(`segment FF${marker.toString(16)} overruns the stream`);
    let p = pos + 2;
    switch (marker) {
      case 0xdb: // DQT
        while (p < end) {
          const pq = bytes[p]! >> 4,
            tq = bytes[p]! & 15;
          p++;
          if (tq > 3) fail('quantization table id > 3');
          const table = new Int32Array(64);
          for (let k = 0; k < 64; k++) table[k] = pq ? u16(p + 2 * k) : bytes[p + k]!;
          quant[tq] = table;
          p += pq ? 128 : 64;
        }
        break;
      case 0xc4: // DHT
        while (p < end) {
          const tc = bytes[p]! >> 4,
            th = bytes[p]! & 15;
          const counts = bytes.subarray(p + 1, p + 17);
          const total = counts.reduce((a, b) => a + b, 0);
          if (th > 3 || p + 17 + total > end) fail('bad Huffman table');
          const table = buildHuffman(counts, bytes.subarray(p + 17, p + 17 + total));
          (tc === 0 ? dcTables : acTables)[th] = table;
          p += 17 + total;
        }
        break;
      case 0xc0:
      case 0xc1: {
        // SOF0 baseline, SOF1 extended sequential
        const precision = bytes[p]!;
        const height = u16(p + 1),
          width = u16(p + 3),
          count = bytes[p + 5]!;
        if ((precision !== 8 && precision !== 12) || !width || !height || (count !== 1 && count !== 3)) {
          fail(`unsupported frame: ${precision}-bit, ${width}x${height}, ${count} components`);
        }
        const components: Component[] = [];
        for (let c = 0; c < count; c++) {
          const at = p + 6 + 3 * c;
          const h = bytes[at + 1]! >> 4,
            v = bytes[at + 1]! & 15;
          if (h < 1 || h > 4 || v < 1 || v > 4) fail('bad sampling factors');
          components.push({
            id: bytes[at]!,
            h,
            v,
            tq: bytes[at + 2]! & 3,
            blocksPerLine: 0,
            blocksPerColumn: 0,
            plane: new Float32Array(0),
            pred: 0,
            dc: 0,
            ac: 0,
          });
        }
        const hMax = Math.max(...components.map((c) => c.h)),
          vMax = Math.max(...components.map((c) => c.v));
        const mcusPerLine = Math.ceil(width / (8 * hMax)),
          mcusPerColumn = Math.ceil(height / (8 * vMax));
        for (const c of components) {
          c.blocksPerLine = mcusPerLine * c.h;
          c.blocksPerColumn = mcusPerColumn * c.v;
          c.plane = new Float32Array(c.blocksPerLine * 8 * c.blocksPerColumn * 8);
        }
        frame = { precision, width, height, components, hMax, vMax };
        break;
      }
      case 0xc2:
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw new DicomError(
          'ERR_DICOM_UNSUPPORTED_SYNTAX',
          `JPEG process with SOF marker FF${marker.toString(16).toUpperCase()} (progressive, lossless, hierarchical or arithmetic) is not supported by the DCT decoder`,
        );
      case 0xdd:
        restartInterval = u16(p);
        break;
      case 0xee: // APP14 Adobe: colour transform flag
        if (length >= 14 && String.fromCharCode(...bytes.subarray(p, p + 5)) === 'Adobe') adobeTransform = bytes[p + 11];
        break;
      case 0xda: {
        // SOS
        if (!frame) fail('scan before frame header');
        const ns = bytes[p]!;
        const scan: Component[] = [];
        for (let s = 0; s < ns; s++) {
          const id = bytes[p + 1 + 2 * s]!,
            tables = bytes[p + 2 + 2 * s]!;
          const c = frame!.components.find((k) => k.id === id) ?? fail(`scan names unknown component ${id}`);
          c.dc = tables >> 4;
          c.ac = tables & 15;
          scan.push(c);
        }
        pos = decodeScan(bytes, end, frame!, scan, quant, dcTables, acTables, restartInterval);
        continue;
      }
      default:
        break; // APPn, COM and others carry nothing the pixels need
    }
    pos = end;
  }
  if (!frame) fail('no frame header');
  return assemble(frame!, adobeTransform);
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxCode = new Int32Array(18).fill(-1),
    valPtr = new Int32Array(17),
    minCode = new Int32Array(17);
  let code = 0,
    k = 0;
  for (let len = 1; len <= 16; len++) {
    valPtr[len] = k;
    minCode[len] = code;
    code += counts[len - 1]!;
    k += counts[len - 1]!;
    maxCode[len] = counts[len - 1] ? code - 1 : -1;
    code <<= 1;
  }
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  for (let len = 1, next = 0; len <= LOOKUP_BITS; len++) {
    for (let i = 0; i < counts[len - 1]!; i++, next++) {
      const code = minCode[len]! + i;
      const first = code << (LOOKUP_BITS - len);
      lookup.fill((len << 8) | values[next]!, first, first + (1 << (LOOKUP_BITS - len)));
    }
  }
  return { maxCode, valPtr, minCode, values: values.slice(), lookup };
}

function decodeScan(
  bytes: Uint8Array,
  start: number,
  frame: NonNullable<Parameters<typeof assemble>[0]>,
  scan: Component[],
  quant: (Int32Array | undefined)[],
  dcTables: (HuffmanTable | undefined)[],
  acTables: (HuffmanTable | undefined)[],
  restartInterval: number,
): number {
  // Bit reader with a 32-bit window: `nbits` valid bits at the bottom of `acc`. At a marker
  // (or the end) it feeds zero bytes and counts them in `fakeBits`, so reading past the real
  // data is detected instead of decoding garbage.
  let pos = start,
    acc = 0,
    nbits = 0,
    fakeBits = 0,
    markerHit = false;
  const fill = () => {
    while (nbits <= 24) {
      let byte = 0;
      if (!markerHit && pos < bytes.length) {
        byte = bytes[pos]!;
        if (byte === 0xff) {
          if (bytes[pos + 1] === 0x00) pos += 2;
          else {
            markerHit = true;
            byte = 0;
          }
        } else pos++;
      } else markerHit = true;
      if (markerHit) fakeBits += 8;
      acc = (acc << 8) | byte;
      nbits += 8;
    }
  };
  const receive = (n: number): number => {
    if (n === 0) return 0;
    if (nbits < n) fill();
    nbits -= n;
    return (acc >>> nbits) & ((1 << n) - 1);
  };
  const extend = (v: number, n: number) => (n === 0 ? 0 : v < 1 << (n - 1) ? v - (1 << n) + 1 : v);
  const decodeSymbol = (t: HuffmanTable): number => {
    if (nbits < 16) fill();
    const hit = t.lookup[(acc >>> (nbits - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)]!;
    if (hit) {
      nbits -= hit >> 8;
      return hit & 0xff;
    }
    for (let len = LOOKUP_BITS + 1; len <= 16; len++) {
      const code = (acc >>> (nbits - len)) & ((1 << len) - 1);
      if (code <= t.maxCode[len]!) {
        nbits -= len;
        return t.values[t.valPtr[len]! + code - t.minCode[len]!]!;
      }
    }
    return fail('invalid Huffman code');
  };
  const coefficients = new Float64Array(64);
  const decodeBlock = (c: Component, q: Int32Array, dc: HuffmanTable, ac: HuffmanTable, row: number, col: number) => {
    coefficients.fill(0);
    const t = decodeSymbol(dc);
    if (t > 16) fail('DC category out of range');
    c.pred += extend(receive(t), t);
    coefficients[0] = c.pred * q[0]!;
    for (let k = 1; k < 64;) {
      const rs = decodeSymbol(ac);
      const r = rs >> 4,
        s = rs & 15;
      if (s === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) fail('AC coefficient index out of range');
      coefficients[ZIGZAG[k]!] = extend(receive(s), s) * q[k]!;
      k++;
    }
    idctIslow(coefficients, c.plane, c.blocksPerLine * 8, row * 8, col * 8, frame.precision);
  };
  const tablesFor = (c: Component) =>
    [
      quant[c.tq] ?? fail(`missing quantization table ${c.tq}`),
      dcTables[c.dc] ?? fail(`missing DC table ${c.dc}`),
      acTables[c.ac] ?? fail(`missing AC table ${c.ac}`),
    ] as const;
  const tables = scan.map(tablesFor);
  const single = scan.length === 1;
  const mcusPerLine = single
    ? Math.ceil(Math.ceil((frame.width * scan[0]!.h) / frame.hMax) / 8)
    : Math.ceil(frame.width / (8 * frame.hMax));
  const mcusPerColumn = single
    ? Math.ceil(Math.ceil((frame.height * scan[0]!.v) / frame.vMax) / 8)
    : Math.ceil(frame.height / (8 * frame.vMax));
  const total = mcusPerLine * mcusPerColumn;
  for (const c of scan) c.pred = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restartInterval && mcu > 0 && mcu % restartInterval === 0) {
      // Drop the partial byte, expect RSTn, reset predictors. Lookahead never passes a marker,
      // so `pos` is at or just before it.
      acc = 0;
      nbits = 0;
      fakeBits = 0;
      markerHit = false;
      while (pos + 1 < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1]! >= 0xd0 && bytes[pos + 1]! <= 0xd7)) pos++;
      if (pos + 1 >= bytes.length) fail('missing restart marker');
      pos += 2;
      for (const c of scan) c.pred = 0;
    }
    const mr = Math.floor(mcu / mcusPerLine),
      mc = mcu % mcusPerLine;
    if (single) {
      const [q, dc, ac] = tables[0]!;
      decodeBlock(scan[0]!, q, dc, ac, mr, mc);
    } else {
      scan.forEach((c, i) => {
        const [q, dc, ac] = tables[i]!;
        for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) decodeBlock(c, q, dc, ac, mr * c.v + v, mc * c.h + h);
      });
    }
    if (nbits < fakeBits && mcu < total - 1) fail(`entropy-coded data ends after ${mcu + 1} of ${total} MCUs`);
  }
  // Skip to the next marker that is not a restart marker or stuffed byte.
  while (pos + 1 < bytes.length && !(bytes[pos] === 0xff && bytes[pos + 1] !== 0 && !(bytes[pos + 1]! >= 0xd0 && bytes[pos + 1]! <= 0xd7)))
    pos++;
  return pos;
}

function assemble(
  frame: { precision: number; width: number; height: number; components: Component[]; hMax: number; vMax: number },
  adobeTransform: number | undefined,
): DctImage {
  const { width, height, components, precision } = frame;
  const n = components.length;
  const shift = 1 << (precision - 1),
    max = (1 << precision) - 1;
  const data = new Uint16Array(width * height * n);
  const samples = new Float32Array(width * height * n);
  components.forEach((c, ci) => {
    const stride = c.blocksPerLine * 8;
    const sx = c.h / frame.hMax,
      sy = c.v / frame.vMax;
    if (sx === 1 && sy === 1) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) samples[(y * width + x) * n + ci] = c.plane[y * stride + x]! + shift;
      }
      return;
    }
    // Subsampled chroma: centred bilinear upsampling (libjpeg's "fancy" 3/4-1/4 weights for factor 2).
    const cw = Math.ceil(width * sx),
      ch = Math.ceil(height * sy);
    for (let y = 0; y < height; y++) {
      const fy = Math.min(ch - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const y0 = Math.floor(fy),
        y1 = Math.min(ch - 1, y0 + 1),
        wy = fy - y0;
      for (let x = 0; x < width; x++) {
        const fx = Math.min(cw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const x0 = Math.floor(fx),
          x1 = Math.min(cw - 1, x0 + 1),
          wx = fx - x0;
        const top = c.plane[y0 * stride + x0]! * (1 - wx) + c.plane[y0 * stride + x1]! * wx;
        const bottom = c.plane[y1 * stride + x0]! * (1 - wx) + c.plane[y1 * stride + x1]! * wx;
        samples[(y * width + x) * n + ci] = top * (1 - wy) + bottom * wy + shift;
      }
    }
  });
  const rgbIds = n === 3 && components[0]!.id === 0x52 && components[1]!.id === 0x47 && components[2]!.id === 0x42;
  const ycc = n === 3 && (adobeTransform !== undefined ? adobeTransform !== 0 : !rgbIds);
  for (let i = 0; i < width * height; i++) {
    if (ycc) {
      const y = samples[i * 3]!,
        cb = samples[i * 3 + 1]! - shift,
        cr = samples[i * 3 + 2]! - shift;
      samples[i * 3] = y + 1.402 * cr;
      samples[i * 3 + 1] = y - 0.344136 * cb - 0.714136 * cr;
      samples[i * 3 + 2] = y + 1.772 * cb;
    }
    for (let k = 0; k < n; k++) {
      const v = Math.round(samples[i * n + k]!);
      data[i * n + k] = v < 0 ? 0 : v > max ? max : v;
    }
  }
  return { width, height, components: n, precision, data };
}
