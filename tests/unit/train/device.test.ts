/**
 * The `device` setting through whole training runs on this CPU-only machine. `auto` resolves to
 * the CPU and says why; `cuda` fails before any data is read. A plan that puts onnxruntime on CUDA
 * (given explicitly, since none resolves to it here) shows that every session of a run asks
 * onnxruntime for the CUDA provider: onnxruntime's own refusal is recorded for each, and the run
 * goes on with the CPU. The trained numbers are bit-identical whatever the plan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { DeviceUnavailableError } from '../../../src/device/errors.js';
import { resolveDevicePlan, type DevicePlan } from '../../../src/device/plan.js';
import { train, type TrainResult } from '../../../src/index.js';
import type { TrainConfigInput } from '../../../src/train/config.js';

const ORT_REFUSAL = /OrtSessionOptionsAppendExecutionProvider_Cuda|libonnxruntime_providers/;
const onnxOnCuda: DevicePlan = { setting: 'auto', onnxruntime: { device: 'cuda' }, kernels: { device: 'cpu', reason: 'test plan' } };

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Every session asked onnxruntime for CUDA first, and onnxruntime's refusal is what the record says. */
function expectEverySessionAskedForCuda(result: TrainResult): void {
  expect(result.device.sessions.length).toBeGreaterThan(0);
  for (const s of result.device.sessions) {
    expect(s.requested, s.label).toEqual(['cuda', 'cpu']);
    expect(s.providers, s.label).toEqual(['cpu']);
    expect(s.fallbackReason, s.label).toMatch(ORT_REFUSAL);
  }
}

describe('the device setting in train()', () => {
  let root = '';
  let manifest = '';
  let cudaHere = false;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'radlearn-device-'));
    manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 6 })).manifestPath;
    cudaHere = await resolveDevicePlan('cuda').then(
      () => true,
      () => false,
    );
  });

  const finetune = (name: string, device?: 'auto' | 'cpu' | 'cuda'): TrainConfigInput =>
    ({
      name,
      mode: 'supervised-finetune',
      runsDir: join(root, 'runs'),
      seed: 5,
      steps: 3,
      batchSize: 8,
      checkpoint: { every: 3, keep: 1 },
      data: { manifest },
      image: { model: 'builtin:resnet', size: 32 },
      optim: { lr: 1e-3, warmupSteps: 1 },
      finetune: { chunkSize: 4 },
      eval: { probeSteps: 10, zeroShot: false },
      ...(device ? { device } : {}),
    }) as TrainConfigInput;

  it("device 'cuda' without a usable GPU fails before reading any data, saying why", async () => {
    if (cudaHere) return; // a GPU machine runs it: tests/gpu/device.test.ts
    const error = await train({ ...finetune('cuda'), device: 'cuda', data: { manifest: join(root, 'no-such-manifest.csv') } }).result.catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect((error as DeviceUnavailableError).code).toBe('ERR_DEVICE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/device: 'cuda' asks for CUDA, but /);
  });

  it('auto runs on the CPU and says so; a plan on CUDA makes every session ask onnxruntime for it; the numbers never change', async () => {
    const auto = await train(finetune('auto')).result;
    expect(auto.config.device).toBe('auto');
    if (!cudaHere) {
      expect(auto.device.onnxruntime.device).toBe('cpu');
      expect(auto.device.onnxruntime.reason).toMatch(/CUDA/);
      expect(auto.device.kernels.device).toBe('cpu');
      expect(auto.device.kernels.reason).toBeTruthy();
      for (const s of auto.device.sessions) expect(s, s.label).toMatchObject({ requested: ['cpu'], providers: ['cpu'] });
    }
    // training graph and forward graph of the encoder, the evaluation encoder, the composed classifier
    const labels = auto.device.sessions.map((s) => s.label);
    expect(labels.some((l) => /training graph/.test(l))).toBe(true);
    expect(labels.some((l) => /forward graph/.test(l))).toBe(true);
    expect(labels.some((l) => /classifier/.test(l))).toBe(true);
    expect(auto.device.sessions.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(await readFile(join(auto.runDir, 'device.json'), 'utf8'))).toEqual(auto.device);
    const meta = (JSON.parse(await readFile(auto.reportJsonPath!, 'utf8')) as { meta: Record<string, string> }).meta;
    expect(meta.device).toBe('auto');
    expect(meta.onnxruntime).toBe(auto.device.onnxruntime.reason ? `cpu (${auto.device.onnxruntime.reason})` : 'cuda');
    expect(meta.kernels).toBe(auto.device.kernels.reason ? `cpu (${auto.device.kernels.reason})` : 'cuda');
    expect(await readFile(auto.reportPath!, 'utf8')).toContain('**onnxruntime**: ');

    // an evaluation of the finished run records its device in its own folder and leaves the run's alone
    const runDevice = await readFile(join(auto.runDir, 'device.json'), 'utf8');
    const evalDir = join(auto.runDir, 'eval-test');
    await mkdir(evalDir);
    const evaluated = await train(finetune('auto'), { resume: true, evalDir }).result;
    expect(JSON.parse(await readFile(join(evalDir, 'device.json'), 'utf8'))).toEqual(evaluated.device);
    expect(await readFile(join(auto.runDir, 'device.json'), 'utf8')).toBe(runDevice);

    const cpu = await train(finetune('cpu', 'cpu'), { skipEvaluation: true }).result;
    expect(cpu.device.onnxruntime).toEqual({ device: 'cpu', reason: "device: 'cpu'" });
    expect(sameBits(cpu.parameters, auto.parameters)).toBe(true);

    const forced = await train(finetune('forced'), { device: onnxOnCuda }).result;
    expectEverySessionAskedForCuda(forced);
    expect(forced.device.sessions.map((s) => s.label)).toEqual(labels);
    expect(sameBits(forced.parameters, auto.parameters)).toBe(true);
    expect(forced.evaluations).toEqual(auto.evaluations);
    const forcedMeta = (JSON.parse(await readFile(forced.reportJsonPath!, 'utf8')) as { meta: Record<string, string> }).meta;
    expect(forcedMeta.onnxruntime).toMatch(/^cuda; \d+ of \d+ sessions fell back to cpu/);
  }, 240_000);

  it('dino: the student graphs at both crop sizes follow the plan, with unchanged numbers', async () => {
    const dino = (name: string): TrainConfigInput =>
      ({
        name,
        mode: 'dino',
        runsDir: join(root, 'runs'),
        seed: 3,
        steps: 2,
        batchSize: 8,
        checkpoint: { every: 2, keep: 1 },
        data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
        image: { size: 32 },
        optim: { lr: 2e-3, warmupSteps: 1 },
        dino: {
          vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
          head: { hidden: 32, bottleneck: 8, prototypes: 64 },
          crops: { localCount: 1, localSize: 16 },
        },
      }) as TrainConfigInput;
    const cpu = await train({ ...dino('dino-cpu'), device: 'cpu' }).result;
    const forced = await train(dino('dino-forced'), { device: onnxOnCuda }).result;
    expectEverySessionAskedForCuda(forced);
    expect(forced.device.sessions.map((s) => s.label)).toEqual([
      'DINO student at 32 px: training graph',
      'DINO student at 32 px: forward graph',
      'DINO student at 16 px (local crops): training graph',
      'DINO student at 16 px (local crops): forward graph',
    ]);
    expect(sameBits(forced.parameters, cpu.parameters)).toBe(true);
  }, 240_000);
});
