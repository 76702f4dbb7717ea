/**
 * Encoder training on CPU (clip-finetune machinery, src/train/finetune): for each built-in encoder,
 * the forward-only embedding of a batch, the training graph (forward + backward) on the same batch,
 * and a full encoder step as the trainer runs it with gradient caching (forward-only embeddings,
 * then the training graph with d loss / d embedding, then fused AdamW over the flat buffer).
 * Ratios are against the forward-only row (a healthy autodiff lands near 3x for forward + backward).
 */
import { buildResNetEncoder } from '../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../src/onnx/models/vit.js';
import type { ModelProto } from '../../src/onnx/proto.js';
import type { TensorLike } from '../../src/onnx/tensor.js';
import { SegmentedAdamW } from '../../src/train/finetune/segmented-adamw.js';
import { TrainableEncoder } from '../../src/train/finetune/trainable-encoder.js';
import { time, type BenchCase, type BenchRow } from '../harness.js';

interface Subject {
  name: string;
  model: ModelProto;
  batch: number;
  item: string;
  shape: string;
  inputs: (s: number, e: number) => Record<string, TensorLike>;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function subjects(quick: boolean): Subject[] {
  const r = random(17);
  const size = quick ? 64 : 128;
  const batch = quick ? 8 : 32;
  const images = Float32Array.from({ length: batch * size * size }, r);
  const imageInputs = (s: number, e: number): Record<string, TensorLike> => ({
    image: { type: 'float32', data: images.subarray(s * size * size, e * size * size), dims: [e - s, 1, size, size] },
  });
  const T = 48;
  const vocab = 2000;
  const texts = quick ? 16 : 64;
  const ids = BigInt64Array.from({ length: texts * T }, (_, i) => BigInt(i % T < 40 ? 1 + Math.floor(((r() + 1) / 2) * (vocab - 2)) : 0));
  const mask = BigInt64Array.from({ length: texts * T }, (_, i) => (i % T < 40 ? 1n : 0n));
  const textInputs = (s: number, e: number): Record<string, TensorLike> => ({
    input_ids: { type: 'int64', data: ids.subarray(s * T, e * T), dims: [e - s, T] },
    attention_mask: { type: 'int64', data: mask.subarray(s * T, e * T), dims: [e - s, T] },
  });
  return [
    {
      name: 'builtin:resnet',
      model: buildResNetEncoder({ inChannels: 1, seed: 1 }).model,
      batch,
      item: 'images',
      shape: `${batch}x1x${size}x${size}`,
      inputs: imageInputs,
    },
    {
      name: 'builtin:vit',
      model: buildViTEncoder({ imageSize: size, patchSize: 16, inChannels: 1, seed: 1 }).model,
      batch,
      item: 'images',
      shape: `${batch}x1x${size}x${size}`,
      inputs: imageInputs,
    },
    {
      name: 'builtin:transformer',
      model: buildTextTransformer({ vocabSize: vocab, maxLength: 64, seed: 1 }).model,
      batch: texts,
      item: 'texts',
      shape: `${texts}x${T} tokens`,
      inputs: textInputs,
    },
  ];
}

export const cases: BenchCase[] = [
  {
    name: 'train-encoders',
    async run({ quick }) {
      const rows: BenchRow[] = [];
      const opts = { warmup: 1, minRuns: quick ? 2 : 5, minTimeMs: quick ? 200 : 3000, maxRuns: 50 };
      for (const s of subjects(quick)) {
        const encoder = await TrainableEncoder.create(s.model, 'embedding', [], s.name);
        try {
          const params = encoder.initialParametersFlat();
          const grads = new Float32Array(encoder.size);
          const { dim } = await encoder.embed(params, 1, 1, s.inputs);
          const gradOut = Float32Array.from({ length: s.batch * dim }, random(5));
          const optimizer = new SegmentedAdamW(params, new Uint8Array(params.length).fill(1), [
            { start: 0, end: params.length, lrScale: 1 },
          ]);
          const fwd = await time(() => encoder.embed(params, s.batch, s.batch, s.inputs), opts);
          const fused = await time(() => encoder.backward(params, grads, s.batch, dim, s.batch, s.inputs, gradOut, true), opts);
          const step = await time(async () => {
            await encoder.embed(params, s.batch, s.batch, s.inputs);
            await encoder.backward(params, grads, s.batch, dim, s.batch, s.inputs, gradOut, true);
            optimizer.update(grads, { lr: 1e-6, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
          }, opts);
          const row = (op: string, t: { medianMs: number; p90Ms: number }, note?: string): BenchRow => ({
            op: `${s.name} ${op}`,
            backend: 'onnxruntime cpu',
            shape: s.shape,
            medianMs: t.medianMs,
            p90Ms: t.p90Ms,
            itemsPerSec: (s.batch / t.medianMs) * 1000,
            itemName: s.item,
            note,
          });
          rows.push(row('forward (no grad)', fwd, `${encoder.size} parameters`));
          rows.push(row('training graph (fwd+bwd)', fused, `${(fused.medianMs / fwd.medianMs).toFixed(2)}x forward`));
          rows.push(
            row(
              'clip-finetune encoder step',
              step,
              `${(1000 / step.medianMs).toFixed(2)} steps/s; ${(step.medianMs / fwd.medianMs).toFixed(2)}x forward (gradient caching: forward + training graph + AdamW)`,
            ),
          );
        } finally {
          await encoder.release();
        }
      }
      return rows;
    },
  },
];
