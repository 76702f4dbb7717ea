// Async ops own the host memory they use: a buffer detached (transferred) or resized while an op
// runs can neither crash the process nor receive a result silently.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BufferDetachedError,
  adamwStep,
  augment,
  augmentSync,
  similarity,
  similaritySync,
} from '../../src/index.js';
import { randomFloats } from '../helpers/random.js';

const detach = (view: ArrayBufferView): void => void structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });

describe('async ops and buffers that change under them', () => {
  it('an output detached while the op runs: the op rejects with ERR_BUFFER_DETACHED', async () => {
    const [n, m, d] = [37, 29, 65];
    const out = new Float32Array(n * m);
    const pending = similarity(randomFloats(n * d, 1), randomFloats(m * d, 2), { n, m, d, out, backend: 'cpu' });
    detach(out);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferDetachedError);
    expect((error as BufferDetachedError).code).toBe('ERR_BUFFER_DETACHED');
    expect((error as Error).message).toMatch(/out was detached/);
  });

  it('an input detached while the op runs: the op finishes on its own copy with the right values', async () => {
    const [n, m, d] = [31, 17, 33];
    const a = randomFloats(n * d, 3);
    const b = randomFloats(m * d, 4);
    const expected = similaritySync(a, b, { n, m, d, backend: 'cpu' });
    const pending = similarity(a, b, { n, m, d, backend: 'cpu' });
    detach(a);
    expect(Array.from(await pending)).toEqual(Array.from(expected));
  });

  it('an output whose resizable buffer shrinks while the op runs: rejected, nothing written', async () => {
    const [n, m, d] = [8, 8, 16];
    // ES2024's resizable ArrayBuffer (Node 20 has it; the ES2022 typings do not)
    const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
    const buffer = new Resizable(n * m * 4, { maxByteLength: n * m * 8 });
    const out = new Float32Array(buffer, 0, n * m);
    const pending = similarity(randomFloats(n * d, 5), randomFloats(m * d, 6), { n, m, d, out, backend: 'cpu' });
    buffer.resize(16);
    await expect(pending).rejects.toThrow(/out was resized/);
  });

  it('an in-place update whose buffer is detached: the other buffers of the step are not changed either', async () => {
    const length = 1000;
    const params = randomFloats(length, 7);
    const m = new Float32Array(length);
    const v = new Float32Array(length);
    const pending = adamwStep(params, randomFloats(length, 8), { m, v }, { lr: 1e-3, step: 1, backend: 'cpu' });
    detach(m);
    const before = params.slice();
    await expect(pending).rejects.toBeInstanceOf(BufferDetachedError);
    expect(Array.from(params)).toEqual(Array.from(before));
    expect(v.every((x) => x === 0)).toBe(true);
  });

  it('an augment source detached while the op runs: the views are those of the original image', async () => {
    const image = Uint16Array.from({ length: 40 * 30 }, (_, i) => (i * 2654435761) % 65536);
    const spec = { crops: [{ count: 2, size: 16, scale: [0.3, 1] as [number, number] }], flip: { horizontal: 0.5 } };
    const expected = augmentSync([{ data: image, height: 40, width: 30 }], spec, { seed: 3, backend: 'cpu' });
    const source = image.slice();
    const pending = augment([{ data: source, height: 40, width: 30 }], spec, { seed: 3, backend: 'cpu' });
    detach(source);
    const result = await pending;
    expect(Array.from(result.groups[0]!.views as Float32Array)).toEqual(Array.from(expected.groups[0]!.views as Float32Array));
  });

  it('a detached or SharedArrayBuffer-backed array passed to a kernel: typed error, or it just works', () => {
    const a = randomFloats(12, 9);
    detach(a);
    expect(() => similaritySync(a, randomFloats(12, 10), { n: 3, m: 3, d: 4, backend: 'cpu' })).toThrow(BufferDetachedError);
    const shared = new Float32Array(new SharedArrayBuffer(12 * 4));
    shared.set(randomFloats(12, 11));
    const image = new Uint8Array(new SharedArrayBuffer(64));
    image.set(Uint8Array.from({ length: 64 }, (_, i) => i * 3));
    expect(similaritySync(shared, shared, { n: 3, m: 3, d: 4, backend: 'cpu' })).toHaveLength(9);
    const views = augmentSync([{ data: image, height: 8, width: 8 }], { crops: [{ count: 1, size: 4, scale: [0.5, 1] }] }, { seed: 1, backend: 'cpu' });
    expect(views.groups[0]!.views).toHaveLength(16);
  });

  // The process itself must survive: freed memory is reached only after the collector runs, so
  // this runs in a child with --expose-gc and large buffers (freed with munmap).
  it('detaching and collecting buffers of running ops never crashes the process', () => {
    const script = `
      const k = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
      const n = 1536, d = 512;
      const fill = (len, x) => new Float32Array(len).fill(x);
      const runs = [];
      for (let round = 0; round < 3; round++) {
        const a = fill(n * d, 0.01), b = fill(n * d, 0.02), out = new Float32Array(n * n);
        runs.push(k.similarity(a, b, { n, m: n, d, out, backend: 'cpu' }).then(() => 'ok', (e) => e.code));
        structuredClone(round % 2 ? out.buffer : a.buffer, { transfer: [round % 2 ? out.buffer : a.buffer] });
        const image = new Uint16Array(1024 * 1024).fill(1000);
        runs.push(k.augment([{ data: image, height: 1024, width: 1024 }], { crops: [{ count: 4, size: 224, scale: [0.3, 1] }] }, { seed: round, backend: 'cpu' }).then(() => 'ok', (e) => e.code));
        structuredClone(image.buffer, { transfer: [image.buffer] });
        for (let i = 0; i < 10; i++) { globalThis.gc(); fill(n * n, 1); }
      }
      console.log(JSON.stringify(await Promise.all(runs)));
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout.trim().split('\n').pop()!)).toEqual(['ok', 'ok', 'ERR_BUFFER_DETACHED', 'ok', 'ok', 'ok']);
  });
});
