import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, tensor } from '../../../src/train/safetensors.js';

const header = (json: string): Uint8Array => {
  const text = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + text.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  return out;
};

describe('decodeSafetensors input', () => {
  it('decodes a Node Buffer that shares its pool with other data (tensors are copies of their own bytes)', () => {
    const encoded = encodeSafetensors({ w: tensor(Float32Array.from([1.5, -2, 3.25]), [3]) });
    const pooled = Buffer.from(encoded); // small Buffers are views into a shared pool
    const w = decodeSafetensors(pooled).tensors.get('w')!;
    expect(Array.from(w.data as Float32Array)).toEqual([1.5, -2, 3.25]);
  });

  it('a header whose entries are not objects, or whose metadata is not strings, is a typed error', () => {
    for (const json of [
      '{"w":null}',
      '{"w":[1]}',
      '{"__metadata__":{"a":1}}',
      '{"__metadata__":["a"]}',
      '{"w":{"dtype":"toString","shape":[],"data_offsets":[0,0]}}',
    ]) {
      let error: unknown;
      try {
        decodeSafetensors(header(json), 'bad.safetensors');
      } catch (e) {
        error = e;
      }
      expect(error, json).toMatchObject({ code: 'ERR_SAFETENSORS', message: expect.stringContaining('bad.safetensors') });
    }
  });
});
