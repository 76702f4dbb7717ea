/**
 * The `device` setting on a machine with an NVIDIA GPU and onnxruntime-node's CUDA provider
 * installed (docs/gpu.md, "The first GPU session"). Skipped, with the reason printed, where either
 * is missing; RADLEARN_REQUIRE_CUDA=1 makes the kernels' half fail instead (tests/helpers/gpu.ts).
 * Nothing here has run yet: no machine this was written on had a GPU.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../src/data/phantom/generate.js';
import { DeviceContext, runWithDevice } from '../../src/device/context.js';
import { profilePlacement, summarizePlacement } from '../../src/device/placement.js';
import { probeOnnxruntimeCuda, resolveDevicePlan } from '../../src/device/plan.js';
import { train, type TrainConfigInput } from '../../src/index.js';
import { serializeModel } from '../../src/onnx/model-io.js';
import { cuda } from '../helpers/gpu.js';
import { resnetTrainingRun } from '../helpers/resnet-training.js';

const onnxruntime = await probeOnnxruntimeCuda();
console.log(
  onnxruntime.available ? '[gpu tests] onnxruntime CUDA provider: usable' : `[gpu tests] onnxruntime CUDA provider: ${onnxruntime.reason}`,
);
const both = cuda.available && onnxruntime.available;

describe.skipIf(!both)('device cuda', () => {
  let root = '';
  let manifest = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'radlearn-gpu-device-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 64, size: 64, seed: 8 })).manifestPath;
  });

  it('auto and cuda resolve to CUDA for both parts', async () => {
    for (const setting of ['auto', 'cuda'] as const)
      expect(await resolveDevicePlan(setting)).toEqual({ setting, onnxruntime: { device: 'cuda' }, kernels: { device: 'cuda' } });
  });

  it('onnxruntime runs every heavy node of a ResNet training graph on CUDA; what stays on the CPU is listed', async () => {
    const { training, feeds } = resnetTrainingRun({ inChannels: 1, seed: 2 }, 8, 64, 0.1);
    const context = new DeviceContext(await resolveDevicePlan('cuda'));
    const nodes = await runWithDevice(context, () =>
      profilePlacement(serializeModel(training.model), feeds, { label: 'resnet training graph' }),
    );
    const summary = summarizePlacement(nodes);
    console.log('[gpu tests] resnet training graph placement', JSON.stringify(summary, null, 1));
    for (const op of ['Conv', 'ConvTranspose', 'MaxPool', 'SpaceToDepth', 'Equal', 'Where', 'Pad', 'BatchNormalization'])
      expect(
        nodes.filter((n) => n.op === op).every((n) => n.provider === 'CUDAExecutionProvider'),
        op,
      ).toBe(true);
    expect(context.sessions[0]).toMatchObject({ requested: ['cuda', 'cpu'], providers: ['cuda', 'cpu'] });
    expect(context.sessions[0]!.fallbackReason).toBeUndefined();
  });

  it('supervised-finetune on CUDA: every session on the CUDA provider, numbers near the CPU run, the report says cuda', async () => {
    const config = (name: string, device: 'cpu' | 'cuda'): TrainConfigInput =>
      ({
        name,
        device,
        mode: 'supervised-finetune',
        runsDir: join(root, 'runs'),
        seed: 5,
        steps: 4,
        batchSize: 16,
        data: { manifest },
        image: { model: 'builtin:resnet', size: 64 },
        optim: { lr: 1e-3, warmupSteps: 1 },
        finetune: { chunkSize: 8 },
        eval: { probeSteps: 20, zeroShot: false },
      }) as TrainConfigInput;
    const gpu = await train(config('gpu', 'cuda')).result;
    for (const s of gpu.device.sessions) {
      expect(s.providers, s.label).toEqual(['cuda', 'cpu']);
      expect(s.fallbackReason, s.label).toBeUndefined();
      expect(s.cpuOperators, s.label).toBeUndefined();
    }
    const meta = (JSON.parse(await readFile(gpu.reportJsonPath!, 'utf8')) as { meta: Record<string, string> }).meta;
    expect(meta).toMatchObject({ device: 'cuda', onnxruntime: 'cuda', kernels: 'cuda' });
    const cpu = await train(config('cpu', 'cpu')).result;
    // float32 with other summation orders (cuDNN, cuBLAS, atomics in ScatterND): close, not identical
    let num = 0;
    let den = 0;
    for (let i = 0; i < cpu.parameters.length; i++) {
      num += (gpu.parameters[i]! - cpu.parameters[i]!) ** 2;
      den += cpu.parameters[i]! ** 2;
    }
    console.log(`[gpu tests] relative parameter difference after 4 steps: ${Math.sqrt(num / den).toExponential(2)}`);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
    expect(Math.abs(gpu.lastLoss - cpu.lastLoss)).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu.lastLoss)));
  }, 600_000);

  it('dino on CUDA trains with finite losses and every session on the CUDA provider', async () => {
    const result = await train({
      name: 'dino-gpu',
      device: 'cuda',
      mode: 'dino',
      runsDir: join(root, 'runs'),
      seed: 3,
      steps: 4,
      batchSize: 16,
      data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
      image: { size: 64 },
      dino: {
        vit: { patchSize: 16, dim: 32, depth: 2, heads: 2 },
        head: { hidden: 64, bottleneck: 16, prototypes: 128 },
        crops: { localCount: 2 },
      },
    } as TrainConfigInput).result;
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    for (const s of result.device.sessions) expect(s.providers, s.label).toEqual(['cuda', 'cpu']);
  }, 600_000);
});
