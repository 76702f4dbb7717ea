import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { exportClassifier, train, buildResNetEncoder } from '../../../src/index.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { parseTrainConfig } from '../../../src/train/config.js';
import { loadImages } from '../../../src/train/features.js';
import { Head, sigmoid } from '../../../src/train/heads.js';
import { referenceOps } from '../../helpers/train-reference-ops.js';
import { FlatParameters } from '../../../src/train/parameters.js';
import { readSafetensors } from '../../../src/train/safetensors.js';

let root = '';
let manifest = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-export-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 64, seed: 9 })).manifestPath;
});

async function run(model: Uint8Array, images: Float32Array, n: number, side: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ image: new ort.Tensor('float32', images, [n, 1, side, side]) });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('exportClassifier', () => {
  it('composes encoder + MLP head + sigmoid into one model whose outputs match the head on the encoder features', async () => {
    const encoder = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], seed: 4 });
    const n = 5;
    const side = 40;
    let s = 17;
    const images = Float32Array.from({ length: n * side * side }, () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1);
    const features = (await run(serializeModel(encoder.model), images, n, side)).embedding!;
    const params = new FlatParameters(
      [
        { name: 'h.fc1.weight', shape: [7, 16], init: { kind: 'normal', std: 0.5 } },
        { name: 'h.fc1.bias', shape: [7], init: { kind: 'uniform', bound: 0.3 } },
        { name: 'h.fc2.weight', shape: [3, 7], init: { kind: 'normal', std: 0.5 } },
        { name: 'h.fc2.bias', shape: [3], init: { kind: 'uniform', bound: 0.3 } },
      ],
      2,
    );
    const head = new Head(params, 'h', { kind: 'mlp', inDim: 16, outDim: 3, hidden: 7 }, referenceOps);
    const expected = head.forward(features, n, { keep: false }).map(sigmoid);
    const exported = exportClassifier({
      encoder: encoder.model,
      layers: head.layers(),
      labels: ['a', 'b', 'c'],
      out: join(root, 'mlp.onnx'),
    });
    const out = await run(serializeModel(exported.model), images, n, side);
    expect(out.probabilities).toHaveLength(n * 3);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(out.probabilities![i]! - expected[i]!)).toBeLessThan(1e-5);
    expect(exported.model.metadataProps?.find((p) => p.key === 'radlearn.labels')?.value).toBe('["a","b","c"]');
    expect(() => exportClassifier({ encoder: encoder.model, layers: head.layers(), labels: ['a'], out: join(root, 'x.onnx') })).toThrow(
      /1 labels for a head with 3 outputs/,
    );
  });

  it("a supervised run's classifier.onnx reproduces the trainer's predictions within 1e-5", async () => {
    const raw = {
      name: 'sup',
      mode: 'supervised' as const,
      runsDir: join(root, 'runs'),
      steps: 30,
      batchSize: 8,
      seed: 2,
      data: { manifest },
      image: { size: 64 },
      head: { kind: 'mlp' as const, hidden: 16 },
      optim: { lr: 1e-2 },
      eval: { linearProbe: false },
    };
    const result = await train(raw).result;
    expect(result.classifierPath).toBeDefined();
    const config = parseTrainConfig(raw);
    const cacheDir = join(root, 'runs', '.cache');
    const featureFile = readdirSync(cacheDir).find((f) => f.startsWith('features-'))!;
    const features = (await readSafetensors(join(cacheDir, featureFile))).tensors.get('image')!;
    const { loadManifest } = await import('../../../src/index.js');
    const rows = (await loadManifest(manifest)).rows;
    const images = await loadImages(
      config,
      rows.map((r) => r.imagePaths[0]!),
    );
    const dim = features.shape[1]!;
    const params = new FlatParameters(
      [
        { name: 'classifier.fc1.weight', shape: [16, dim], init: { kind: 'constant', value: 0 } },
        { name: 'classifier.fc1.bias', shape: [16], init: { kind: 'constant', value: 0 } },
        { name: 'classifier.fc2.weight', shape: [8, 16], init: { kind: 'constant', value: 0 } },
        { name: 'classifier.fc2.bias', shape: [8], init: { kind: 'constant', value: 0 } },
      ],
      0,
    );
    params.data.set(result.parameters);
    const head = new Head(params, 'classifier', { kind: 'mlp', inDim: dim, outDim: 8, hidden: 16 }, referenceOps);
    const expected = head.forward(features.data as Float32Array, rows.length, { keep: false }).map(sigmoid);
    const session = await ort.InferenceSession.create(result.classifierPath!);
    const out = await session.run({ image: new ort.Tensor('float32', images.data, images.dims) });
    await session.release();
    const probabilities = out.probabilities!.data as Float32Array;
    expect(probabilities).toHaveLength(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(probabilities[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(new Set(Array.from(expected, (v) => v.toFixed(3))).size).toBeGreaterThan(10);
  });
});
