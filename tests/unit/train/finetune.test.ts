import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { listParameters } from '../../../src/onnx/parameters.js';
import { train } from '../../../src/index.js';
import type { TrainConfigInput } from '../../../src/train/config.js';
import { SegmentedAdamW } from '../../../src/train/finetune/segmented-adamw.js';
import { blockOf, compilePatterns, frozenParameters } from '../../../src/train/finetune/selection.js';
import { TrainableEncoder } from '../../../src/train/finetune/trainable-encoder.js';
import { NativeAdamW } from '../../../src/train/ops-native.js';
import { readSafetensors } from '../../../src/train/safetensors.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

describe('gradient caching', () => {
  let encoder: TrainableEncoder;
  beforeAll(async () => {
    const model = buildViTEncoder({ imageSize: 16, patchSize: 4, inChannels: 1, dim: 24, depth: 2, heads: 3, seed: 7 }).model;
    encoder = await TrainableEncoder.create(model, 'embedding', [], 'test vit');
  });
  afterAll(async () => encoder.release());

  it('chunked embeddings and chunked backward equal the unchunked ones (awkward batch 7, chunks of 3)', async () => {
    const r = rng(3);
    const B = 7;
    const images = Float32Array.from({ length: B * 16 * 16 }, r);
    const inputs = (s: number, e: number) => ({
      image: { type: 'float32' as const, data: images.subarray(s * 256, e * 256), dims: [e - s, 1, 16, 16] },
    });
    const params = encoder.initialParametersFlat();
    const whole = await encoder.embed(params, B, B, inputs);
    const chunked = await encoder.embed(params, B, 3, inputs);
    expect(chunked.dim).toBe(whole.dim);
    chunked.data.forEach((v, i) => expect(v).toBeCloseTo(whole.data[i]!, 5));
    const gradOut = Float32Array.from({ length: B * whole.dim }, r);
    const g1 = new Float32Array(encoder.size);
    const g2 = Float32Array.from({ length: encoder.size }, r); // overwritten by the first chunk
    await encoder.backward(params, g1, B, whole.dim, B, inputs, gradOut, true);
    await encoder.backward(params, g2, B, whole.dim, 3, inputs, gradOut, true);
    let num = 0;
    let den = 0;
    for (let i = 0; i < g1.length; i++) {
      num += (g1[i]! - g2[i]!) ** 2;
      den += g1[i]! ** 2;
    }
    expect(den).toBeGreaterThan(0);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
  });
});

describe('partial unfreezing', () => {
  it('finds blocks in ResNet, ViT and BERT-style names', () => {
    expect(blockOf('layer3.0.conv1.weight')).toBe('layer3.0');
    expect(blockOf('blocks.11.attn.qkv.weight')).toBe('blocks.11');
    expect(blockOf('encoder.layer.5.mlp.fc1.bias')).toBe('encoder.layer.5');
    expect(blockOf('stem.conv.weight')).toBeUndefined();
    expect(blockOf('norm.weight')).toBeUndefined();
  });

  it('last N blocks (plus what follows them) train; patterns freeze more', () => {
    const vit = listParameters(
      buildViTEncoder({ imageSize: 16, patchSize: 4, inChannels: 1, dim: 24, depth: 3, heads: 3 }).model,
    ).parameters.map((p) => p.name);
    const frozen = new Set(frozenParameters(vit, { prefix: 'image_encoder.', freeze: [], unfreezeLastBlocks: 1 }));
    for (const n of vit) expect(frozen.has(n), n).toBe(!(n.startsWith('blocks.2.') || n.startsWith('norm.')));
    const withPattern = new Set(
      frozenParameters(vit, { prefix: 'image_encoder.', freeze: [/^image_encoder\.blocks\.2\.mlp\./], unfreezeLastBlocks: 1 }),
    );
    expect([...vit].filter((n) => !withPattern.has(n)).every((n) => /^blocks\.2\.(norm|attn)|^norm\./.test(n))).toBe(true);
    const resnet = listParameters(buildResNetEncoder({ inChannels: 1 }).model).parameters.map((p) => p.name);
    const rf = new Set(frozenParameters(resnet, { prefix: '', freeze: [], unfreezeLastBlocks: 2 }));
    expect(resnet.filter((n) => !rf.has(n)).every((n) => /^layer[34]\./.test(n))).toBe(true);
    expect(rf.has('stem.conv.weight')).toBe(true);
    expect(frozenParameters(resnet, { prefix: '', freeze: [/bn/], unfreezeLastBlocks: null }).every((n) => n.includes('bn'))).toBe(true);
  });

  it('bad settings name the config key', () => {
    expect(() => compilePatterns(['ok', '(unclosed'], 'finetune.freeze')).toThrow(/finetune\.freeze\.1/);
    expect(() => frozenParameters(['embed.weight', 'head.weight'], { prefix: '', freeze: [], unfreezeLastBlocks: 1 })).toThrow(
      /finetune\.unfreezeLastBlocks/,
    );
  });
});

describe('per-group learning rates', () => {
  it('segments with lr scales equal separate AdamW runs at scaled lr, with one global clipping norm', () => {
    const r = rng(9);
    const n = 37;
    const start = Float32Array.from({ length: n }, r);
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const seg = new SegmentedAdamW(start.slice(), mask, [
      { start: 0, end: 20, lrScale: 1 },
      { start: 20, end: 37, lrScale: 0.25, weightDecay: 0.5 },
    ]);
    const a = new NativeAdamW(start.slice(0, 20), mask.slice(0, 20));
    const b = new NativeAdamW(start.slice(20), mask.slice(20));
    const h = { lr: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
    for (let step = 0; step < 4; step++) {
      const g = Float32Array.from({ length: n }, r).map((v) => v * 3);
      const norm = Math.hypot(...g);
      const clip = norm > h.maxGradNorm ? h.maxGradNorm / (norm + 1e-6) : 1;
      const gc = g.map((v) => v * clip);
      expect(seg.update(g, h)).toBeCloseTo(norm, 4);
      a.update(gc.slice(0, 20), { ...h, maxGradNorm: 0 });
      b.update(gc.slice(20), { ...h, lr: h.lr * 0.25, weightDecay: 0.5, maxGradNorm: 0 });
    }
    seg.params.forEach((v, i) => expect(v).toBeCloseTo(i < 20 ? a.params[i]! : b.params[i - 20]!, 5));
    expect(seg.step).toBe(4);
  });
});

describe('clip-finetune runs', () => {
  let root = '';
  let manifest = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'radlearn-finetune-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 4 })).manifestPath;
  });
  const config = (name: string): TrainConfigInput =>
    ({
      name,
      mode: 'clip-finetune',
      runsDir: join(root, 'runs'),
      seed: 2,
      steps: 4,
      batchSize: 10,
      checkpoint: { every: 2, keep: 2 },
      data: { manifest, sentences: { min: 1, max: 2 } },
      image: { model: 'builtin:vit', size: 32 },
      text: { vocabSize: 200, maxLength: 24 },
      head: { kind: 'linear', projectionDim: 16 },
      loss: { groups: 'labels' },
      optim: { lr: 1e-3, warmupSteps: 1 },
      finetune: { chunkSize: 4, unfreezeLastBlocks: 2, groups: [{ pattern: '_projection\\.', lrScale: 5 }] },
    }) as TrainConfigInput;

  it('trains the encoders, checkpoints their parameters, and resumes exactly', async () => {
    const full = await train(config('full'), { skipEvaluation: true }).result;
    expect(full.parameterNames.some((p) => p.name.startsWith('image_encoder.blocks.3.'))).toBe(true);
    expect(full.parameterNames.some((p) => p.name.startsWith('image_encoder.blocks.0.'))).toBe(false);
    expect(full.parameterNames.some((p) => p.name.startsWith('text_encoder.'))).toBe(true);
    const file = await readSafetensors(join(root, 'runs', 'full', 'checkpoints', 'step-0000004.safetensors'));
    const name = full.parameterNames.find((p) => p.name.startsWith('image_encoder.'))!.name;
    expect(file.tensors.get(name)!.dtype).toBe('F32');
    await train(config('resumed'), { skipEvaluation: true, stopAtStep: 2 }).result;
    const resumed = await train(config('resumed'), { skipEvaluation: true, resume: true }).result;
    expect(resumed.steps).toBe(4);
    expect(Buffer.from(resumed.parameters.buffer).equals(Buffer.from(full.parameters.buffer))).toBe(true);
    // where the chunks run changes no number: chunks in the main thread, and a resume that switches
    const withWorkers = (name: string, workers: number | 'auto'): TrainConfigInput => {
      const c = config(name) as { finetune: Record<string, unknown> };
      return { ...c, finetune: { ...c.finetune, workers } } as TrainConfigInput;
    };
    const inThread = await train(withWorkers('in-thread', 0), { skipEvaluation: true }).result;
    expect(Buffer.from(inThread.parameters.buffer).equals(Buffer.from(full.parameters.buffer))).toBe(true);
    await train(withWorkers('switched', 3), { skipEvaluation: true, stopAtStep: 2 }).result;
    const switched = await train(withWorkers('switched', 0), { skipEvaluation: true, resume: true }).result;
    expect(Buffer.from(switched.parameters.buffer).equals(Buffer.from(full.parameters.buffer))).toBe(true);
  }, 180_000);

  it('supervised-finetune trains the image encoder with the classifier head and exports the trained encoder', async () => {
    const result = await train({
      ...config('sup'),
      mode: 'supervised-finetune',
      image: { model: 'builtin:resnet', size: 32 },
      steps: 3,
      finetune: { chunkSize: 3, freeze: ['^image_encoder\\.stem\\.'] },
      eval: { probeSteps: 20, zeroShot: false },
    } as TrainConfigInput).result;
    expect(result.parameterNames.some((p) => p.name === 'image_encoder.layer4.0.conv2.weight')).toBe(true);
    expect(result.parameterNames.some((p) => p.name.startsWith('image_encoder.stem.'))).toBe(false);
    expect(result.parameterNames.some((p) => p.name.startsWith('text_encoder.'))).toBe(false);
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    expect(result.evaluations.map((e) => e.name)).toContain('linear head (supervised)');
    expect(result.classifierPath).toBeDefined();
  }, 120_000);
});
