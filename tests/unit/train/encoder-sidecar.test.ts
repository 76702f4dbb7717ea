// Bringing an encoder from outside: its sidecar (<model>.radlearn.json) tells radlearn its
// channels and per-channel normalisation, names and pooling; a 3-channel model takes the grey
// image replicated and normalised inside the model (the grey-input adapter); a training-mode
// export is refused with the export call to use; `radlearn encoder inspect` reports it all.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  adaptGreyInput,
  buildResNetEncoder,
  checkInferenceForm,
  generatePhantom,
  inspectModel,
  listParameters,
  loadClassifier,
  readEncoderSidecar,
  saveModel,
  train,
  type ModelProto,
  type TrainConfigInput,
} from '../../../src/index.js';
import { gradientRules } from '../../../src/onnx/autodiff/rules/index.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { onnx } from '../../../src/onnx/proto.js';
import { buildProgram } from '../../../src/cli/main.js';
import { captureCli } from '../../helpers/cli.js';
import { expectPredictReproducesRun } from '../../helpers/predict.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
let root = '';
let manifest = '';
let rgbModel = '';

function writeSidecar(modelPath: string, fields: Record<string, unknown>): void {
  writeFileSync(
    modelPath.replace(/\.onnx$/, '.radlearn.json'),
    JSON.stringify({
      format: 'radlearn-encoder',
      version: 1,
      kind: 'image',
      model: modelPath.split('/').pop(),
      source: { framework: 'radlearn-test', weights: 'random(seed=4)' },
      input: 'image',
      channels: 3,
      size: null,
      mean: MEAN,
      std: STD,
      output: 'embedding',
      pooling: 'none',
      ...fields,
    }),
  );
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-sidecar-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 60, size: 64, seed: 9 })).manifestPath;
  rgbModel = join(root, 'rgb-resnet.onnx');
  saveModel(buildResNetEncoder({ inChannels: 3, seed: 4 }).model, rgbModel);
  writeSidecar(rgbModel, {});
}, 60_000);

async function run(model: ModelProto | Uint8Array, name: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model instanceof Uint8Array ? model : serializeModel(model));
  try {
    return (await session.run({ [name]: new ort.Tensor('float32', data, dims) })).embedding!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const base = (name: string): TrainConfigInput => ({
  name,
  mode: 'supervised',
  runsDir: join(root, 'runs'),
  steps: 4,
  batchSize: 16,
  seed: 1,
  data: { manifest },
  image: { model: rgbModel, size: 40 },
  head: { kind: 'linear' },
  eval: { linearProbe: false },
});

describe('the grey-input adapter', () => {
  it('gives the 3-channel model exactly what replicating and normalising per channel would', async () => {
    const model = buildResNetEncoder({ inChannels: 3, seed: 4 }).model;
    const [n, h, w] = [2, 24, 20];
    const x01 = Float32Array.from({ length: n * h * w }, (_, i) => ((i * 37) % 101) / 100);
    const [m, s] = [0.5, 0.25];
    const grey = x01.map((v) => (v - m) / s);
    const rgb = new Float32Array(n * 3 * h * w);
    for (let b = 0; b < n; b++)
      for (let c = 0; c < 3; c++) for (let k = 0; k < h * w; k++) rgb[(b * 3 + c) * h * w + k] = (x01[b * h * w + k]! - MEAN[c]!) / STD[c]!;
    const expected = await run(model, 'image', rgb, [n, 3, h, w]);
    const adapted = adaptGreyInput(model, { input: 'image', mean: MEAN, std: STD, runMean: m, runStd: s });
    const got = await run(adapted, 'image', grey, [n, 1, h, w]);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    // the adapter adds no parameters: the layout is the source model's
    expect(listParameters(adapted).size).toBe(listParameters(model).size);
    expect(adapted.graph!.input![0]!.type!.tensorType!.shape!.dim![1]!.dimValue).toBe(1);
  });
});

describe('training with a sidecar encoder', () => {
  it('records the sidecar in config.json and carries its normalisation into classifier.onnx, which radlearn predict reproduces', async () => {
    const result = await train(base('rgb')).result;
    const config = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8'));
    expect(config.image.encoderInput).toEqual({
      sidecar: rgbModel.replace(/\.onnx$/, '.radlearn.json'),
      channels: 3,
      mean: MEAN,
      std: STD,
    });
    expect(config.image.output).toBe('embedding');
    const report = readFileSync(result.reportPath!, 'utf8');
    expect(report).toContain('imageEncoderInput');
    expect(report).toContain('imageWeights');
    // the sidecar says random weights and the mode trains only the head
    expect(report).toContain('Untrained encoders: the image encoder');
    const model = await loadClassifier(result.classifierPath!);
    try {
      expect(model.preprocessing.channels).toBe(1);
      expect(model.preprocessing.encoderInput).toEqual({ channels: 3, mean: MEAN, std: STD });
      await expectPredictReproducesRun(result, manifest, model.labels, join(root, 'rgb-pred.csv'));
    } finally {
      await model.release();
    }
  }, 120_000);

  it('fine-tunes the adapted encoder (supervised-finetune) without hand edits', async () => {
    const result = await train({
      ...base('rgb-ft'),
      mode: 'supervised-finetune',
      steps: 2,
      finetune: { chunkSize: 8 },
      eval: { linearProbe: false, zeroShot: false },
    } as TrainConfigInput).result;
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    expect(result.parameterNames.some((p) => p.name.startsWith('image_encoder.'))).toBe(true);
    const report = readFileSync(result.reportPath!, 'utf8');
    expect(report).not.toContain('Untrained encoders');
  }, 120_000);

  it('refuses a 3-channel model without a sidecar, naming the export script', async () => {
    const bare = join(root, 'bare-rgb.onnx');
    saveModel(buildResNetEncoder({ inChannels: 3, seed: 1 }).model, bare);
    await expect(train({ ...base('bare'), image: { model: bare, size: 40 } }).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_CONFIG',
      message: expect.stringMatching(/3-channel images.*export-encoder\.py.*bare-rgb\.radlearn\.json/s),
    });
  });

  it('refuses a setting that contradicts the sidecar, and a malformed sidecar names its field', async () => {
    await expect(train({ ...base('clash'), image: { model: rgbModel, size: 40, output: 'other' } }).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_CONFIG',
      message: expect.stringContaining('config key image.output is "other"'),
    });
    const odd = join(root, 'odd.onnx');
    saveModel(buildResNetEncoder({ inChannels: 3, seed: 1 }).model, odd);
    writeSidecar(odd, { mean: [0.5, 0.5] });
    expect(() => readEncoderSidecar(odd)).toThrow(
      expect.objectContaining({ code: 'ERR_ENCODER_SIDECAR', message: expect.stringContaining('field mean: 2 values for 3 channel(s)') }),
    );
    writeSidecar(odd, { channels: 2 });
    expect(() => readEncoderSidecar(odd)).toThrow(
      expect.objectContaining({ code: 'ERR_ENCODER_SIDECAR', message: expect.stringContaining('field channels') }),
    );
    writeFileSync(odd.replace(/\.onnx$/, '.radlearn.json'), '{not json');
    expect(() => readEncoderSidecar(odd)).toThrow(expect.objectContaining({ code: 'ERR_ENCODER_SIDECAR' }));
  });
});

/** A copy of the model whose first BatchNormalization is in training form, as torch's TrainingMode.TRAINING exports it. */
function trainingModeCopy(model: ModelProto): ModelProto {
  const copy = onnx.ModelProto.decode(serializeModel(model));
  const bn = copy.graph!.node!.find((n) => n.opType === 'BatchNormalization');
  expect(bn).toBeDefined();
  bn!.attribute = [...(bn!.attribute ?? []), onnx.AttributeProto.create({ name: 'training_mode', type: 2, i: 1 })];
  return copy;
}

describe('training-mode exports', () => {
  it('are refused with the eval-mode export call, by the check and by train', async () => {
    const model = trainingModeCopy(buildResNetEncoder({ inChannels: 1, seed: 2 }).model);
    expect(() => checkInferenceForm(model, 'resnet-train.onnx')).toThrow(
      expect.objectContaining({
        code: 'ERR_MODEL_TRAINING_MODE',
        message: expect.stringContaining('training=torch.onnx.TrainingMode.PRESERVE'),
      }),
    );
    const path = join(root, 'resnet-train.onnx');
    saveModel(model, path);
    await expect(train({ ...base('trainmode'), image: { model: path, size: 40 } }).result).rejects.toMatchObject({
      code: 'ERR_MODEL_TRAINING_MODE',
    });
  });
});

describe('radlearn encoder inspect', () => {
  it('lists inputs, outputs, parameters, the sidecar and operators without a gradient rule', async () => {
    const built = buildResNetEncoder({ inChannels: 3, seed: 4 }).model;
    const info = inspectModel(built);
    const layout = listParameters(built);
    expect(info.parameters).toMatchObject({ tensors: layout.parameters.length, values: layout.size });
    expect(info.buffers.every((b) => /running_(mean|var)/.test(b))).toBe(true);
    expect(info.inputs).toEqual([{ name: 'image', type: 'float32', dims: ['batch', 3, 'height', 'width'] }]);
    expect(info.missingGradientRules).toEqual([]);
    const { stdout } = await captureCli(buildProgram(), ['encoder', 'inspect', rgbModel]);
    expect(stdout).toContain('input  image: float32 [batch, 3, height, width]');
    expect(stdout).toContain(`${layout.size.toLocaleString('en-US')} values in ${layout.parameters.length} trainable initializers`);
    expect(stdout).toContain('3 channel(s), mean [0.485, 0.456, 0.406]');
    expect(stdout).toContain('every operator has a gradient rule');
    // an activation without a rule, between the parameters and the output
    expect(gradientRules.Celu).toBeUndefined();
    const odd = onnx.ModelProto.decode(serializeModel(built));
    const last = odd.graph!.node![odd.graph!.node!.length - 1]!;
    const out = last.output![0]!;
    last.output = [`${out}_pre`];
    odd.graph!.node!.push(onnx.NodeProto.create({ opType: 'Celu', name: 'odd_celu', input: [`${out}_pre`], output: [out] }));
    expect(inspectModel(odd).missingGradientRules).toEqual([{ op: 'Celu', count: 1, firstNode: 'odd_celu' }]);
    const trained = inspectModel(trainingModeCopy(built));
    expect(trained.trainingModeNodes.length).toBe(1);
  });
});
