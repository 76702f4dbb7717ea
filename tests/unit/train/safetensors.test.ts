import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  SafetensorsError,
} from '../../../src/train/safetensors.js';

/** The layout of the format's documentation, built byte by byte: u64 LE header size, JSON header, raw data. */
function handBuilt(): Uint8Array {
  const header =
    '{"embedding":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"ids":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},"__metadata__":{"format":"pt"}}';
  const data = new DataView(new ArrayBuffer(40));
  [0.5, -1.25, 3, 7.75, -0.125, 1e-3].forEach((v, i) => data.setFloat32(i * 4, v, true));
  data.setBigInt64(24, 42n, true);
  data.setBigInt64(32, -7n, true);
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + headerBytes.length + 40);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true); // low 32 bits of the u64; the high word stays 0
  out.set(headerBytes, 8);
  out.set(new Uint8Array(data.buffer), 8 + headerBytes.length);
  return out;
}

describe('safetensors', () => {
  it('reads a hand-built file laid out as the format documents', () => {
    const file = decodeSafetensors(handBuilt());
    expect(file.metadata).toEqual({ format: 'pt' });
    const e = file.tensors.get('embedding')!;
    expect(e.dtype).toBe('F32');
    expect(e.shape).toEqual([2, 3]);
    expect(Array.from(e.data as Float32Array)).toEqual([0.5, -1.25, 3, 7.75, -0.125, Math.fround(1e-3)]);
    expect(Array.from(file.tensors.get('ids')!.data as BigInt64Array)).toEqual([42n, -7n]);
  });

  it('round-trips what it writes, header padded so data is 8-byte aligned, and re-encodes the fixture to equal tensors', async () => {
    const fixture = decodeSafetensors(handBuilt());
    const bytes = encodeSafetensors(fixture.tensors, fixture.metadata);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const again = decodeSafetensors(bytes);
    expect(Array.from(again.tensors.get('embedding')!.data as Float32Array)).toEqual(
      Array.from(fixture.tensors.get('embedding')!.data as Float32Array),
    );

    const dir = mkdtempSync(join(tmpdir(), 'radlearn-st-'));
    const values = Float32Array.from({ length: 129 }, (_, i) => Math.sin(i * 1.7) * 3.1);
    await writeSafetensors(
      join(dir, 'a.safetensors'),
      { w: { dtype: 'F32', shape: [3, 43], data: values }, b: { dtype: 'U8', shape: [5], data: Uint8Array.from([1, 0, 255, 7, 9]) } },
      { step: '12' },
    );
    const read = await readSafetensors(join(dir, 'a.safetensors'));
    expect(read.metadata.step).toBe('12');
    expect(Array.from(read.tensors.get('w')!.data as Float32Array)).toEqual(Array.from(values));
    expect(Array.from(read.tensors.get('b')!.data as Uint8Array)).toEqual([1, 0, 255, 7, 9]);
  });

  it('rejects truncated and inconsistent files with a typed error naming the problem', () => {
    const good = handBuilt();
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4))).toThrow(/spans bytes|cover/);
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(0, 1_000_000, true);
    expect(() => decodeSafetensors(lying)).toThrow(/runs past the end/);
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-st-'));
    writeFileSync(join(dir, 'x'), good);
    return expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(/not found/);
  });
});
