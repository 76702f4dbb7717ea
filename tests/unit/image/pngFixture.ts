/** A minimal PNG writer (IHDR, one IDAT, IEND; filter 0), independent of the decoder under test. */
import { crc32, deflateSync } from 'node:zlib';

/** colorType: 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA. Samples are interleaved, written big-endian when 16-bit. */
export function encodePng(samples: Uint8Array | Uint16Array, width: number, height: number, colorType: 0 | 2 | 4 | 6): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const depth = samples instanceof Uint16Array ? 16 : 8;
  const bytesPerSample = depth / 8;
  const stride = width * channels * bytesPerSample;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    for (let i = 0; i < width * channels; i++) {
      const v = samples[y * width * channels + i]!;
      const at = y * (stride + 1) + 1 + i * bytesPerSample;
      if (depth === 16) raw.writeUInt16BE(v, at);
      else raw[at] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** One PNG chunk: length, type, data and CRC. */
export function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}
