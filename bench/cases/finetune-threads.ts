/**
 * Thread settings of a clip-finetune step on the CPU, measured: the demo's step (built-in ResNet
 * at 128 px and the built-in text transformer, batch 128 in chunks of 32; both encoders' forward
 * chunks, then both encoders' training-graph chunks, the two encoders at once) with its chunks in
 * the main thread (onnxruntime's own thread settings, today's baseline) and on chunk worker pools
 * of several sizes, intra-op thread counts, spinning and graph optimisation levels. The loss and
 * the optimizer are left out: they are the same in every row. Ratios are against the main thread.
 */
import { availableParallelism } from 'node:os';
import { buildResNetEncoder } from '../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../src/onnx/models/text-transformer.js';
import type { TensorLike } from '../../src/onnx/tensor.js';
import { ChunkPool, type PoolTuning } from '../../src/train/finetune/chunk-pool.js';
import { TrainableEncoder, type ChunkInputs } from '../../src/train/finetune/trainable-encoder.js';
import { randomArray, time, withRatio, type BenchCase, type BenchRow } from '../harness.js';

interface Variant {
  name: string;
  workers: number;
  intraOp?: number;
  tuning?: PoolTuning;
}

const B = 128;
const CHUNK = 32;

function inputs(quick: boolean): { image: ChunkInputs; text: ChunkInputs; size: number } {
  const size = quick ? 64 : 128;
  const pixels = randomArray(B * size * size, 3);
  const T = 40;
  const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(1 + ((i * 7919) % 1998)));
  const mask = BigInt64Array.from({ length: B * T }, (_, i) => (i % T < 24 + (Math.floor(i / T) % 16) ? 1n : 0n));
  return {
    size,
    image: (s, e) => ({ image: { type: 'float32', data: pixels.slice(s * size * size, e * size * size), dims: [e - s, 1, size, size] } }),
    text: (s, e) => ({
      input_ids: { type: 'int64', data: ids.slice(s * T, e * T), dims: [e - s, T] } as TensorLike,
      attention_mask: { type: 'int64', data: mask.slice(s * T, e * T), dims: [e - s, T] } as TensorLike,
    }),
  };
}

async function measure(variant: Variant, quick: boolean): Promise<BenchRow> {
  const data = inputs(quick);
  const pool = variant.workers > 0 ? ChunkPool.create(variant.workers, variant.intraOp ?? 1, variant.tuning) : undefined;
  const image = await TrainableEncoder.create(
    buildResNetEncoder({ inChannels: 1, seed: 1 }).model,
    'embedding',
    [],
    'image',
    undefined,
    pool,
  );
  const text = await TrainableEncoder.create(
    buildTextTransformer({ vocabSize: 2000, maxLength: 64, seed: 1 }).model,
    'embedding',
    [],
    'text',
    undefined,
    pool,
  );
  try {
    const encoders = [
      { encoder: image, feed: data.image, params: image.initialParametersFlat(), grads: new Float32Array(image.size) },
      { encoder: text, feed: data.text, params: text.initialParametersFlat(), grads: new Float32Array(text.size) },
    ];
    const t = await time(
      async () => {
        const embedded = await Promise.all(encoders.map((e) => e.encoder.embed(e.params, B, CHUNK, e.feed)));
        await Promise.all(
          encoders.map((e, i) => {
            const { dim } = embedded[i]!;
            return e.encoder.backward(e.params, e.grads, B, dim, CHUNK, e.feed, randomArray(B * dim, 9 + i, 0.01), true);
          }),
        );
      },
      { warmup: 2, minRuns: quick ? 3 : 8, minTimeMs: quick ? 500 : 4000, maxRuns: 40 },
    );
    return {
      op: 'clip-finetune step, image + text encoders',
      backend: variant.name,
      shape: `B=${B} chunk=${CHUNK} ${data.size}px`,
      medianMs: t.medianMs,
      p90Ms: t.p90Ms,
      itemsPerSec: (B / t.medianMs) * 1000,
      itemName: 'samples',
    };
  } finally {
    await image.release();
    await text.release();
    await pool?.release();
  }
}

export const cases: BenchCase[] = [
  {
    name: 'finetune-threads',
    async run({ quick }) {
      const cores = availableParallelism();
      const variants: Variant[] = [
        { name: 'main thread (onnxruntime default threads)', workers: 0 },
        { name: '1 worker x 1 thread', workers: 1, intraOp: 1 },
        { name: `1 worker x ${cores} threads`, workers: 1, intraOp: cores },
        { name: `1 worker x ${cores} threads, spinning`, workers: 1, intraOp: cores, tuning: { allowSpinning: true } },
        { name: `${cores} workers x 1 thread (default)`, workers: cores, intraOp: 1 },
        { name: `${cores} workers x 1 thread, spinning`, workers: cores, intraOp: 1, tuning: { allowSpinning: true } },
        {
          name: `${cores} workers x 1 thread, graph opt extended`,
          workers: cores,
          intraOp: 1,
          tuning: { graphOptimizationLevel: 'extended' },
        },
        { name: `${cores} workers x 1 thread, graph opt basic`, workers: cores, intraOp: 1, tuning: { graphOptimizationLevel: 'basic' } },
        { name: `${2 * cores} workers x 1 thread (oversubscribed)`, workers: 2 * cores, intraOp: 1 },
      ];
      const rows: BenchRow[] = [];
      for (const v of variants) rows.push(await measure(v, quick));
      return rows.map((r, i) => (i === 0 ? r : withRatio(r, rows[0])));
    },
  },
];
