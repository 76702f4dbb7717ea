import { afterAll, describe, expect, it } from 'vitest';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import type { TensorLike } from '../../../src/onnx/tensor.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { ChunkPool, ChunkWorkerError } from '../../../src/train/finetune/chunk-pool.js';
import { chunkWorkerPlan } from '../../../src/train/finetune/chunk-workers.js';
import { finetuneSchema } from '../../../src/train/finetune/config.js';
import { runChunksInOrder } from '../../../src/train/finetune/ordered-chunks.js';
import { TrainableEncoder, type ChunkInputs } from '../../../src/train/finetune/trainable-encoder.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length &&
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** Embeddings and parameter gradients of one gradient-caching step (rows in chunks), as the encoder computes them. */
async function step(
  encoder: TrainableEncoder,
  rows: number,
  chunk: number,
  inputs: ChunkInputs,
  upstream: (dim: number) => Float32Array,
): Promise<{ embeddings: Float32Array; gradients: Float32Array }> {
  const parameters = encoder.initialParametersFlat();
  const { data, dim } = await encoder.embed(parameters, rows, chunk, inputs);
  const gradients = new Float32Array(encoder.size).fill(Number.NaN);
  await encoder.backward(parameters, gradients, rows, dim, chunk, inputs, upstream(dim), true);
  return { embeddings: data, gradients };
}

describe('training chunks on worker threads', () => {
  const pools: ChunkPool[] = [];
  afterAll(async () => {
    for (const p of pools) await p.release();
  });

  it('gives the embeddings and gradients of the in-thread run bit for bit, for 1 to 3 workers and a ragged last chunk', async () => {
    const model = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], seed: 4, embedDim: 12 }).model;
    const B = 11;
    const chunk = 3;
    const r = rng(5);
    const images = Float32Array.from({ length: B * 24 * 20 }, () => r());
    const inputs: ChunkInputs = (s, e) => ({ image: { type: 'float32', data: images.slice(s * 480, e * 480), dims: [e - s, 1, 24, 20] } });
    const upstream = (dim: number): Float32Array => {
      const u = rng(9);
      return Float32Array.from({ length: B * dim }, () => u());
    };
    const inThread = await TrainableEncoder.create(model, 'embedding', [], 'resnet');
    const reference = await step(inThread, B, chunk, inputs, upstream);
    await inThread.release();
    expect(reference.gradients.every(Number.isFinite)).toBe(true);
    expect(reference.gradients.some((g) => g !== 0)).toBe(true);
    for (const workers of [1, 2, 3]) {
      const pool = ChunkPool.create(workers, 1);
      pools.push(pool);
      const encoder = await TrainableEncoder.create(model, 'embedding', [], 'resnet', undefined, pool);
      const got = await step(encoder, B, chunk, inputs, upstream);
      expect(sameBits(got.embeddings, reference.embeddings), `${workers} workers: embeddings`).toBe(true);
      expect(sameBits(got.gradients, reference.gradients), `${workers} workers: gradients`).toBe(true);
      // a second step with other parameters: the workers must read the new ones
      const parameters = encoder.initialParametersFlat().map((p, i) => p * (1 + 0.01 * (i % 7)));
      const moved = await encoder.embed(parameters, B, chunk, inputs);
      await encoder.release();
      const again = await TrainableEncoder.create(model, 'embedding', [], 'resnet');
      const expected = await again.embed(parameters, B, chunk, inputs);
      await again.release();
      expect(sameBits(moved.data, expected.data), `${workers} workers: updated parameters`).toBe(true);
    }
    // a batch packed once in shared memory, its chunks handed out as views (as image-feeds.ts
    // does): the workers and the in-thread graphs copy them privately, and nothing changes
    const shared = new Float32Array(new SharedArrayBuffer(images.byteLength));
    shared.set(images);
    const views: ChunkInputs = (s, e) => ({
      image: { type: 'float32', data: shared.subarray(s * 480, e * 480), dims: [e - s, 1, 24, 20] },
    });
    const pool = ChunkPool.create(2, 1);
    pools.push(pool);
    for (const where of [undefined, pool]) {
      const encoder = await TrainableEncoder.create(model, 'embedding', [], 'resnet', undefined, where);
      const got = await step(encoder, B, chunk, views, upstream);
      await encoder.release();
      const label = where ? 'workers' : 'in thread';
      expect(sameBits(got.embeddings, reference.embeddings), `shared batch, ${label}: embeddings`).toBe(true);
      expect(sameBits(got.gradients, reference.gradients), `shared batch, ${label}: gradients`).toBe(true);
    }
    expect(sameBits(shared, images), 'the shared batch is left as it was').toBe(true);
  }, 120_000);

  it('updates batch-statistics BatchNorm running statistics chunk by chunk in order, as the in-thread run does', async () => {
    const model = buildResNetEncoder({ widths: [6, 8], blocks: [1, 1], seed: 6 }).model;
    const B = 9;
    const r = rng(17);
    const images = Float32Array.from({ length: B * 256 }, () => 0.5 * r() + 0.2);
    const inputs: ChunkInputs = (s, e) => ({ image: { type: 'float32', data: images.slice(s * 256, e * 256), dims: [e - s, 1, 16, 16] } });
    const run = async (pool?: ChunkPool): Promise<{ embeddings: Float32Array; state: Float32Array }> => {
      const encoder = await TrainableEncoder.create(model, 'embedding', [], 'bn resnet', { momentum: 0.3 }, pool);
      const entries = encoder.runningStatistics!.initialEntries();
      const state = new Float32Array(entries.reduce((n, e) => n + e.values.length, 0));
      let at = 0;
      for (const e of entries) {
        state.set(e.values, at);
        at += e.values.length;
      }
      const parameters = encoder.initialParametersFlat();
      await encoder.embed(parameters, B, 4, inputs, state);
      const { data } = await encoder.embed(parameters, B, 4, inputs, state);
      await encoder.release();
      return { embeddings: data, state };
    };
    const reference = await run();
    const pool = ChunkPool.create(2, 1);
    pools.push(pool);
    const got = await run(pool);
    expect(sameBits(got.state, reference.state)).toBe(true);
    expect(sameBits(got.embeddings, reference.embeddings)).toBe(true);
  }, 120_000);

  it('runs two encoders on one pool at once (image and text chunks interleaved) with the same results', async () => {
    const text = buildTextTransformer({ vocabSize: 50, maxLength: 9, dim: 16, depth: 1, heads: 2, seed: 2 }).model;
    const B = 6;
    const T = 7;
    const r = rng(3);
    const ids = BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor((r() + 1) * 24)));
    const mask = BigInt64Array.from({ length: B * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 3) ? 1n : 0n));
    const textInputs: ChunkInputs = (s, e) => ({
      input_ids: { type: 'int64', data: ids.slice(s * T, e * T), dims: [e - s, T] } as TensorLike,
      attention_mask: { type: 'int64', data: mask.slice(s * T, e * T), dims: [e - s, T] } as TensorLike,
    });
    const image = buildResNetEncoder({ widths: [4], blocks: [1], seed: 8 }).model;
    const images = Float32Array.from({ length: B * 256 }, () => r());
    const imageInputs: ChunkInputs = (s, e) => ({
      image: { type: 'float32', data: images.slice(s * 256, e * 256), dims: [e - s, 1, 16, 16] },
    });
    const upstream = (dim: number): Float32Array => Float32Array.from({ length: B * dim }, (_, i) => Math.sin(i));
    const reference = await Promise.all(
      [
        [image, imageInputs],
        [text, textInputs],
      ].map(async ([m, inputs]) => {
        const e = await TrainableEncoder.create(m as typeof image, 'embedding', [], 'ref');
        const out = await step(e, B, 2, inputs as ChunkInputs, upstream);
        await e.release();
        return out;
      }),
    );
    const pool = ChunkPool.create(2, 1);
    pools.push(pool);
    const encoders = [
      await TrainableEncoder.create(image, 'embedding', [], 'image', undefined, pool),
      await TrainableEncoder.create(text, 'embedding', [], 'text', undefined, pool),
    ];
    const got = await Promise.all([step(encoders[0]!, B, 2, imageInputs, upstream), step(encoders[1]!, B, 2, textInputs, upstream)]);
    for (let i = 0; i < 2; i++) {
      expect(sameBits(got[i]!.embeddings, reference[i]!.embeddings)).toBe(true);
      expect(sameBits(got[i]!.gradients, reference[i]!.gradients)).toBe(true);
    }
    for (const e of encoders) await e.release();
  }, 120_000);

  it('reports a chunk that fails in a worker as ERR_TRAINING_WORKER naming the graph, and a lost worker as such', async () => {
    const model = buildResNetEncoder({ widths: [4], blocks: [1], seed: 1 }).model;
    const pool = ChunkPool.create(2, 1);
    pools.push(pool);
    const encoder = await TrainableEncoder.create(model, 'embedding', [], 'small resnet', undefined, pool);
    const wrong: ChunkInputs = (s, e) => ({ pixels: { type: 'float32', data: new Float32Array((e - s) * 256), dims: [e - s, 1, 16, 16] } });
    const failure = await encoder.embed(encoder.initialParametersFlat(), 4, 2, wrong).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ChunkWorkerError);
    expect((failure as ChunkWorkerError).code).toBe('ERR_TRAINING_WORKER');
    expect((failure as Error).message).toMatch(/forward of graph/);
    // the pool still works after a failed request
    const ok: ChunkInputs = (s, e) => ({
      image: { type: 'float32', data: new Float32Array((e - s) * 256).fill(0.5), dims: [e - s, 1, 16, 16] },
    });
    const fine = await encoder.embed(encoder.initialParametersFlat(), 4, 2, ok);
    expect(fine.data.every(Number.isFinite)).toBe(true);
    // a worker thread that dies fails what is in flight with a clear message instead of hanging
    const running = encoder.embed(encoder.initialParametersFlat(), 40, 1, ok);
    await (pool as unknown as { workers: Array<{ worker: { terminate(): Promise<number> } }> }).workers[0]!.worker.terminate();
    await expect(running).rejects.toThrow(/chunk worker thread exited/);
    await expect(encoder.embed(encoder.initialParametersFlat(), 2, 1, ok)).rejects.toBeInstanceOf(ChunkWorkerError);
  }, 120_000);
});

describe('runChunksInOrder', () => {
  it('consumes results in chunk order with at most `slots` in flight, whatever order they finish in', async () => {
    let inFlight = 0;
    let most = 0;
    const consumed: Array<[number, number]> = [];
    const held = new Set<number>();
    await runChunksInOrder(
      9,
      3,
      async (chunk, slot) => {
        expect(held.has(slot)).toBe(false);
        held.add(slot);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, ((chunk * 7) % 5) * 3));
        inFlight--;
        return chunk * 10;
      },
      (chunk, result, slot) => {
        held.delete(slot);
        consumed.push([chunk, result]);
      },
    );
    expect(consumed).toEqual(Array.from({ length: 9 }, (_, i) => [i, i * 10]));
    expect(most).toBe(3);
  });

  it('lets the chunks in flight finish before a failure goes on', async () => {
    let finished = 0;
    const error = await runChunksInOrder(
      6,
      2,
      async (chunk) => {
        if (chunk === 1) throw new Error('chunk 1 failed');
        await new Promise((r) => setTimeout(r, 20));
        finished++;
        return chunk;
      },
      () => undefined,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('chunk 1 failed');
    expect(finished).toBe(1); // chunk 0 was in flight and finished; nothing new started after the failure
  });
});

describe('chunkWorkerPlan', () => {
  const config = (batchSize: number) => ({ batchSize }) as TrainConfig;
  it("uses one worker per core up to the chunks of a batch, and the machine's cores between them", () => {
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32 }), 2)).toEqual({ workers: 2, intraOpThreads: 1 });
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32 }), 16)).toEqual({ workers: 4, intraOpThreads: 4 });
    expect(chunkWorkerPlan(config(32), finetuneSchema.parse({ chunkSize: 32 }), 8)).toEqual({ workers: 0, intraOpThreads: 0 });
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32 }), 1)).toEqual({ workers: 0, intraOpThreads: 0 });
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32, workers: 0 }), 8)).toEqual({ workers: 0, intraOpThreads: 0 });
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32, workers: 3 }), 8)).toEqual({ workers: 3, intraOpThreads: 2 });
    // one rank of 4: its 32 rows are one chunk, so no worker is started for chunks it never has
    expect(chunkWorkerPlan(config(128), finetuneSchema.parse({ chunkSize: 32 }), 16, 4)).toEqual({ workers: 0, intraOpThreads: 0 });
    expect(chunkWorkerPlan(config(256), finetuneSchema.parse({ chunkSize: 32 }), 16, 2)).toEqual({ workers: 4, intraOpThreads: 4 });
  });
});
