import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../../src/random/index.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { listParameters, readParameters, writeParameters } from '../../../src/onnx/parameters.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { appendDinoHead } from '../../../src/train/dino/head.js';
import { train } from '../../../src/train/train.js';
import { checkModelGradients, randomArray } from '../autodiff/gradcheck.js';

const rng = new Rng(2024);

describe('DINO head graph', () => {
  it('gradients of encoder + head (CLS and patch-token paths, weight-normalised prototypes) match finite differences', async () => {
    const { model: encoder } = buildViTEncoder({ imageSize: 8, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 11, patchTokens: true });
    const model = appendDinoHead(encoder, {
      inDim: 8,
      hidden: 10,
      bottleneck: 5,
      prototypes: 7,
      patchOutput: 'patch_tokens',
      patches: 4,
      seed: 12,
      initStd: 0.5,
    });
    // (the wider init keeps the bottleneck norm well above the finite-difference step)
    const image = randomArray(rng, 3 * 64, 'float32');
    const r = await checkModelGradients(
      model,
      { image: { data: image, dims: [3, 1, 8, 8] } },
      {
        parameters: /./,
        maxEntries: 4,
        seed: 13,
        outputs: ['embedding', 'dino_logits', 'ibot_logits'],
      },
    );
    expect(r.checked).toBeGreaterThan(40);
    expect(r.relativeError).toBeLessThanOrEqual(2e-3);
  });

  it('prototype logits are cosines: |logit| <= 1 and unchanged when a prototype vector is scaled (weight norm, g = 1)', async () => {
    const { model: encoder } = buildViTEncoder({ imageSize: 8, patchSize: 4, dim: 8, depth: 1, heads: 2, seed: 1, patchTokens: true });
    const model = appendDinoHead(encoder, {
      inDim: 8,
      hidden: 6,
      bottleneck: 4,
      prototypes: 5,
      patchOutput: 'patch_tokens',
      patches: 4,
      initStd: 0.3,
    });
    expect(model.graph?.output?.map((o) => o.name)).toEqual(['embedding', 'dino_logits', 'ibot_logits']);
    const image = randomArray(rng, 2 * 64, 'float32') as Float32Array;
    const run = async (m: typeof model): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(serializeModel(m));
      const out = await s.run({ image: new ort.Tensor('float32', image, [2, 1, 8, 8]) });
      return out.dino_logits!.data as Float32Array;
    };
    const base = await run(model);
    expect(base.length).toBe(10);
    for (const v of base) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
    const layout = listParameters(model, { select: ['dino_head.prototypes.weight_v'] });
    const v = readParameters(model, layout);
    for (let r = 0; r < 4; r++) v[r * 5 + 2] *= 7.5; // scale prototype (column) 2
    const scaled = await run(writeParameters(model, layout, v));
    for (let i = 0; i < base.length; i++) expect(scaled[i]).toBeCloseTo(base[i]!, 5);
  });
});

describe('trainer mode dino', () => {
  let manifest = '';
  let root = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'radlearn-dino-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 5 })).manifestPath;
  });

  const config = (name: string, steps: number, crops: Record<string, number> = { localCount: 1, localSize: 0 }) => ({
    name,
    mode: 'dino' as const,
    runsDir: join(root, 'runs'),
    seed: 3,
    steps,
    batchSize: 8,
    logEvery: 1,
    checkpoint: { every: 3, keep: 2 },
    data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
    image: { size: 32 },
    optim: { lr: 2e-3, warmupSteps: 1 },
    dino: { vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 }, head: { hidden: 32, bottleneck: 8, prototypes: 64 }, crops },
  });

  it('a few steps lower the loss, write encoder.onnx, and resume bit-identically (local crops at image.size)', async () => {
    const full = await train(config('full', 8)).result;
    expect(full.steps).toBe(8);
    const losses =
      full.parameters.length > 0
        ? await import('node:fs/promises').then((f) => f.readFile(join(full.runDir, 'metrics.jsonl'), 'utf8'))
        : '';
    const steps = losses
      .split('\n')
      .filter((l) => l.includes('"type":"step"'))
      .map((l) => JSON.parse(l) as { loss: number });
    expect(steps.length).toBe(8);
    const first = (steps[0]!.loss + steps[1]!.loss) / 2;
    const last = (steps[6]!.loss + steps[7]!.loss) / 2;
    expect(last).toBeLessThan(first);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(full.runDir, 'encoder.onnx'))).toBe(true);

    const part = await train(config('split', 8), { stopAtStep: 5 }).result;
    expect(part.interrupted).toBe(true);
    const resumed = await train(config('split', 8), { resume: true }).result;
    expect(resumed.steps).toBe(8);
    expect(Buffer.from(resumed.parameters.buffer).equals(Buffer.from(full.parameters.buffer))).toBe(true);
    expect(Buffer.from(resumed.ema!.buffer).equals(Buffer.from(full.ema!.buffer))).toBe(true);
  });

  it('local crops at 16 px (their own graph) train, record the local size, and resume bit-identically', async () => {
    const crops = { localCount: 2, localSize: 16 };
    const stages: string[] = [];
    const run = train(config('local16', 6, crops));
    for await (const e of run) if (e.type === 'stage') stages.push(e.message);
    const full = await run.result;
    expect(full.steps).toBe(6);
    expect(stages.some((m) => m.includes('2 local crops at 16 px'))).toBe(true);
    const { readFile } = await import('node:fs/promises');
    const written = JSON.parse(await readFile(join(full.runDir, 'config.json'), 'utf8')) as { dino: { crops: { localSize: number } } };
    expect(written.dino.crops.localSize).toBe(16);
    const steps = (await readFile(join(full.runDir, 'metrics.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"type":"step"'))
      .map((l) => JSON.parse(l) as { loss: number });
    expect(steps.length).toBe(6);
    expect(steps.every((r) => Number.isFinite(r.loss))).toBe(true);

    const part = await train(config('local16-split', 6, crops), { stopAtStep: 4 }).result;
    expect(part.interrupted).toBe(true);
    const resumed = await train(config('local16-split', 6, crops), { resume: true }).result;
    expect(resumed.steps).toBe(6);
    expect(Buffer.from(resumed.parameters.buffer).equals(Buffer.from(full.parameters.buffer))).toBe(true);
    expect(Buffer.from(resumed.ema!.buffer).equals(Buffer.from(full.ema!.buffer))).toBe(true);
  });
});
