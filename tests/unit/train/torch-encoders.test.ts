// A torchvision ResNet-18 and a BERT-shaped text encoder, exported from PyTorch with
// scripts/export-encoder.py, train in clip-finetune and supervised-finetune with no hand edits,
// and their preprocessing reaches classifier.onnx. Needs /usr/bin/python3 with torch,
// torchvision and onnx (Debian python3-torch, python3-torchvision, python3-onnx): skipped
// locally without them, required under CI=true (.ci/run installs them).
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom, inspectModel, loadClassifier, loadModel, train, type TrainConfigInput } from '../../../src/index.js';
import { expectPredictReproducesRun } from '../../helpers/predict.js';

const python = '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;
const required = process.env.CI === 'true';
if (!hasTorch && !required) console.warn('skipping the PyTorch-exported encoder tests: /usr/bin/python3 lacks torch, torchvision or onnx');

describe.skipIf(!hasTorch && !required)('encoders exported from PyTorch with scripts/export-encoder.py', () => {
  let root = '';
  let manifest = '';
  const exported = (name: string) => join(root, `${name}.onnx`);

  beforeAll(async () => {
    expect(hasTorch, 'CI needs python3-torch, python3-torchvision and python3-onnx').toBe(true);
    root = mkdtempSync(join(tmpdir(), 'radlearn-torch-encoders-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 48, size: 64, seed: 21 })).manifestPath;
    const script = 'scripts/export-encoder.py';
    execFileSync(python, [script, '--torchvision', 'resnet18', '--weights', 'random', '--size', '64', '--out', exported('resnet18')], {
      stdio: 'pipe',
    });
    execFileSync(python, [script, '--demo-bert', '--out', exported('bert')], { stdio: 'pipe' });
  }, 180_000);

  const config = (name: string, mode: 'clip-finetune' | 'supervised-finetune'): TrainConfigInput => ({
    name,
    mode,
    runsDir: join(root, 'runs'),
    steps: 2,
    batchSize: 8,
    seed: 1,
    data: { manifest },
    image: { model: exported('resnet18'), size: 64 },
    ...(mode === 'clip-finetune' ? { text: { model: exported('bert') } } : {}),
    finetune: { chunkSize: 4 },
    eval: { probeSteps: 20 },
  });

  it('the exported models are in inference form, every operator on the gradient path has a rule', () => {
    for (const name of ['resnet18', 'bert']) {
      const info = inspectModel(loadModel(exported(name)));
      expect(info.trainingModeNodes).toEqual([]);
      expect(info.missingGradientRules).toEqual([]);
      expect(info.parameters.tensors).toBeGreaterThan(10);
    }
  });

  it('clip-finetune trains both, with the sidecars filling the config', async () => {
    const result = await train(config('clip', 'clip-finetune')).result;
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    const recorded = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8'));
    expect(recorded.image).toMatchObject({ input: 'pixel_values', output: 'embedding', encoderInput: { channels: 3 } });
    expect(recorded.text).toMatchObject({ inputIds: 'input_ids', attentionMask: 'attention_mask', output: 'embedding' });
    expect(recorded.text.tokenizer).toBe(join(root, 'bert.tokenizer.json'));
    // PyTorch's parameter names reach the run's flat buffer, for both encoders
    expect(result.parameterNames.some((p) => p.name.includes('layer4.1.conv2.weight'))).toBe(true);
    expect(result.parameterNames.some((p) => p.name.includes('encoder.layer.0.attention'))).toBe(true);
  }, 300_000);

  it('supervised-finetune exports a classifier that carries the encoder normalisation and reproduces predictions.csv', async () => {
    const result = await train(config('sup', 'supervised-finetune')).result;
    const model = await loadClassifier(result.classifierPath!);
    try {
      expect(model.preprocessing).toMatchObject({ channels: 1, encoderInput: { channels: 3, mean: [0.485, 0.456, 0.406] } });
      await expectPredictReproducesRun(result, manifest, model.labels, join(root, 'pred.csv'));
    } finally {
      await model.release();
    }
  }, 300_000);
});
