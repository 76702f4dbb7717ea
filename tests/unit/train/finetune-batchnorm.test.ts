import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train } from '../../../src/index.js';
import { loadModel } from '../../../src/onnx/model-io.js';
import { readFloat32 } from '../../../src/onnx/tensor.js';
import type { ModelProto } from '../../../src/onnx/proto.js';
import { parseTrainConfig, TrainConfigError, type TrainConfigInput } from '../../../src/train/config.js';
import { SupervisedFinetuneTask } from '../../../src/train/finetune/supervised-task.js';

// finetune.batchNorm end to end on the tiny phantom: supervised-finetune of the built-in ResNet
// (BatchNorm after every conv) and of the built-in ViT (no BatchNorm).
describe('finetune.batchNorm', () => {
  let root = '';
  let manifest = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'radlearn-finetune-bn-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 4 })).manifestPath;
  });
  const config = (name: string, finetune: Record<string, unknown> = {}, model = 'builtin:resnet'): TrainConfigInput =>
    ({
      name,
      mode: 'supervised-finetune',
      runsDir: join(root, 'runs'),
      seed: 2,
      steps: 3,
      batchSize: 10,
      checkpoint: { every: 2, keep: 2 },
      data: { manifest },
      image: { model, size: 32 },
      head: { kind: 'linear' },
      optim: { lr: 1e-3, warmupSteps: 1 },
      eval: { probeSteps: 5, zeroShot: false },
      finetune: { chunkSize: 4, ...finetune },
    }) as TrainConfigInput;
  afterEach(() => vi.restoreAllMocks());
  const same = (a: Float32Array, b: Float32Array): boolean =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const stats = (names: { name: string }[]): string[] => names.map((p) => p.name).filter((n) => /running_(mean|var)/.test(n));

  it('absent is frozen BN: no running statistics in the parameters, no new config keys, the same numbers as batchNorm: frozen', async () => {
    const parsed = parseTrainConfig(config('absent'));
    expect(Object.keys(parsed.finetune!)).not.toContain('batchNorm');
    expect(Object.keys(parsed.finetune!)).not.toContain('batchNormMomentum');
    const absent = await train(config('absent'), { skipEvaluation: true }).result;
    const frozen = await train(config('frozen', { batchNorm: 'frozen' }), { skipEvaluation: true }).result;
    expect(stats(absent.parameterNames)).toEqual([]);
    expect(same(absent.parameters, frozen.parameters)).toBe(true);
  }, 120_000);

  it("'batch' updates the running statistics, and the evaluated and exported encoder carries them", async () => {
    // The model the evaluation computes its features with.
    let evaluated: ModelProto | undefined;
    const evaluationInputs = SupervisedFinetuneTask.prototype.evaluationInputs;
    vi.spyOn(SupervisedFinetuneTask.prototype, 'evaluationInputs').mockImplementation(async function (
      this: SupervisedFinetuneTask,
      ...args
    ) {
      const out = await evaluationInputs.apply(this, args);
      evaluated = out.encoders.imageModel;
      return out;
    });
    const result = await train(config('batch', { batchNorm: 'batch', batchNormMomentum: 0.3 })).result;
    const names = stats(result.parameterNames);
    expect(names).toContain('image_encoder.stem.bn.running_mean');
    expect(names).toContain('image_encoder.layer4.0.bn2.running_var');
    const entry = (name: string) => {
      const p = result.parameterNames.find((e) => e.name === name)!;
      return result.parameters.subarray(p.offset, p.offset + p.shape.reduce((a, b) => a * b, 1));
    };
    // Built-in ResNet starts at mean 0, var 1; three steps of batch statistics move every channel.
    expect(entry('image_encoder.stem.bn.running_mean').every((v) => v !== 0)).toBe(true);
    expect(entry('image_encoder.stem.bn.running_var').every((v) => v !== 1 && v > 0)).toBe(true);
    expect(result.classifierPath).toBeDefined();
    expect(result.evaluations.map((e) => e.name)).toContain('linear head (supervised)');
    const exported = new Map((loadModel(result.classifierPath!).graph!.initializer ?? []).map((t) => [t.name!, t]));
    const inEvaluation = new Map((evaluated!.graph!.initializer ?? []).map((t) => [t.name!, t]));
    for (const name of names) {
      const init = name.slice('image_encoder.'.length);
      expect(same(readFloat32(exported.get(init)!), entry(name)), name).toBe(true);
      expect(same(readFloat32(inEvaluation.get(init)!), entry(name)), name).toBe(true);
    }
    expect(evaluated!.graph!.node!.some((n) => n.opType === 'BatchNormalization')).toBe(true);
    expect(loadModel(result.classifierPath!).graph!.node!.some((n) => n.opType === 'BatchNormalization')).toBe(true);
  }, 120_000);

  it("'batch' stops and resumes bit for bit", async () => {
    const ft = { batchNorm: 'batch' };
    const full = await train({ ...config('bn-full', ft), steps: 4 } as TrainConfigInput, { skipEvaluation: true }).result;
    await train({ ...config('bn-resumed', ft), steps: 4 } as TrainConfigInput, { skipEvaluation: true, stopAtStep: 2 }).result;
    const resumed = await train({ ...config('bn-resumed', ft), steps: 4 } as TrainConfigInput, { skipEvaluation: true, resume: true })
      .result;
    expect(resumed.steps).toBe(4);
    expect(same(resumed.parameters, full.parameters)).toBe(true);
  }, 120_000);

  it("'batch' on an encoder without BatchNorm changes nothing", async () => {
    const tiny = { unfreezeLastBlocks: 1 };
    const frozen = await train(config('vit-frozen', tiny, 'builtin:vit'), { skipEvaluation: true }).result;
    const batch = await train(config('vit-batch', { ...tiny, batchNorm: 'batch' }, 'builtin:vit'), { skipEvaluation: true }).result;
    expect(batch.parameterNames).toEqual(frozen.parameterNames);
    expect(same(batch.parameters, frozen.parameters)).toBe(true);
  }, 120_000);

  it('bad values are typed errors naming the key', () => {
    const bad = (finetune: Record<string, unknown>) => () => parseTrainConfig(config('bad', finetune));
    expect(bad({ batchNorm: 'train' })).toThrow(TrainConfigError);
    expect(bad({ batchNorm: 'train' })).toThrow(/finetune\.batchNorm\b/);
    expect(bad({ batchNorm: 'batch', batchNormMomentum: 1.5 })).toThrow(/finetune\.batchNormMomentum/);
    expect(bad({ batchNorm: 'batch', batchNormMomentum: '0.1' })).toThrow(/finetune\.batchNormMomentum/);
    expect(bad({ batchNormMomentum: 0.2 })).toThrow(/finetune\.batchNormMomentum: .*'batch'/);
    let caught: unknown;
    try {
      bad({ batchNorm: 'frozen', batchNormMomentum: 0.2 })();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TrainConfigError);
    expect((caught as TrainConfigError).code).toBe('ERR_TRAIN_CONFIG');
    expect((caught as TrainConfigError).details).toMatchObject({ key: 'finetune.batchNormMomentum' });
  });
});
