/**
 * Writes a [0, 1] float image (grey or interleaved RGB) as an 8- or 16-bit PNG.
 * The PNG is assembled here (IHDR, IDAT with the Sub filter, IEND) with Node's
 * zlib: sharp reinterprets 16-bit raw input through colour management, and an
 * exact 16-bit write is what `radlearn dicom png --depth 16` promises.
 */
import { crc32, deflateSync } from 'node:zlib';
import { ShapeError, InvalidArgumentError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';

export interface WritePngOptions {
  bitDepth?: 8 | 16;
}

export function encodePngImage(
  image: Float32Array,
  rows: number,
  columns: number,
  channels: 1 | 3,
  options: WritePngOptions = {},
): Uint8Array {
  if (image.length !== rows * columns * channels) {
    throw new ShapeError(`PNG input has ${image.length} values, expected ${rows}x${columns}x${channels}`);
  }
  const depth = options.bitDepth ?? 8;
  if (depth !== 8 && depth !== 16) throw new InvalidArgumentError(`PNG bit depth must be 8 or 16, got ${depth}`);
  const max = depth === 16 ? 65535 : 255;
  const bytesPerPixel = channels * (depth / 8);
  const stride = columns * bytesPerPixel;
  const raw = Buffer.alloc((stride + 1) * rows);
  const row = Buffer.alloc(stride);
  for (let y = 0; y < rows; y++) {
    for (let i = 0; i < columns * channels; i++) {
      const v = image[y * columns * channels + i]!;
      const s = v <= 0 || Number.isNaN(v) ? 0 : v >= 1 ? max : Math.round(v * max);
      if (depth === 16) row.writeUInt16BE(s, i * 2);
      else row[i] = s;
    }
    const at = y * (stride + 1);
    raw[at] = 1; // Sub filter: smooth radiographs compress far better than unfiltered
    for (let x = 0; x < stride; x++) raw[at + 1 + x] = (row[x]! - (x >= bytesPerPixel ? row[x - bytesPerPixel]! : 0)) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(columns, 0);
  header.writeUInt32BE(rows, 4);
  header[8] = depth;
  header[9] = channels === 1 ? 0 : 2;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

export async function writePngImage(
  path: string,
  image: Float32Array,
  rows: number,
  columns: number,
  channels: 1 | 3,
  options: WritePngOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodePngImage(image, rows, columns, channels, options), { createFolder: false });
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}
