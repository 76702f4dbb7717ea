/**
 * The session factory on this CPU-only machine: a run whose plan puts onnxruntime on CUDA makes
 * every session ask onnxruntime for the CUDA provider, and onnxruntime's own refusal (its provider
 * library is not installed here) is what the record shows; `device: 'cuda'` turns that into
 * DeviceUnavailableError. Plans are given explicitly, since none here resolves to CUDA.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DeviceContext, runWithDevice } from '../../../src/device/context.js';
import { operatorsWithoutCudaKernel } from '../../../src/device/cuda-operators.js';
import { DeviceUnavailableError } from '../../../src/device/errors.js';
import type { DevicePlan } from '../../../src/device/plan.js';
import { createOrtSession, planProviders } from '../../../src/device/session-factory.js';
import { ImageEncoder } from '../../../src/encoders/image-encoder.js';
import { defaultKernelBackend } from '../../../src/native/backend.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { parseModel } from '../../../src/onnx/model-io.js';

const onnxOnCuda = (setting: DevicePlan['setting']): DevicePlan => ({
  setting,
  onnxruntime: { device: 'cuda' },
  kernels: { device: 'cpu', reason: 'test plan' },
});
const cpuPlan: DevicePlan = {
  setting: 'cpu',
  onnxruntime: { device: 'cpu', reason: "device: 'cpu'" },
  kernels: { device: 'cpu', reason: "device: 'cpu'" },
};
const model = serializeModel(buildResNetEncoder({ widths: [4], blocks: [1], inChannels: 1, seed: 1 }).model);
const image = new ort.Tensor(
  'float32',
  Float32Array.from({ length: 2 * 16 * 16 }, (_, i) => Math.sin(i)),
  [2, 1, 16, 16],
);
// what onnxruntime-node says when asked for CUDA without its provider library
const ORT_REFUSAL = /OrtSessionOptionsAppendExecutionProvider_Cuda|libonnxruntime_providers/;

async function embed(session: ort.InferenceSession): Promise<Float32Array> {
  const out = await session.run({ [session.inputNames[0]!]: image });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

describe('createOrtSession', () => {
  it('outside a run: the CPU, nothing recorded', async () => {
    expect(planProviders()).toEqual(['cpu']);
    const session = await createOrtSession(model, { label: 'tiny resnet' });
    expect((await embed(session)).length).toBeGreaterThan(0);
    await session.release();
  });

  it("a run planned on CUDA asks onnxruntime for it; 'auto' records onnxruntime's refusal and runs on the CPU with the same numbers", async () => {
    const reference = await createOrtSession(model, { label: 'reference' });
    const expected = await embed(reference);
    await reference.release();
    const context = new DeviceContext(onnxOnCuda('auto'));
    const got = await runWithDevice(context, async () => {
      expect(planProviders()).toEqual(['cuda', 'cpu']);
      const session = await createOrtSession(model, { label: 'tiny resnet' });
      const values = await embed(session);
      await session.release();
      return values;
    });
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(context.sessions).toHaveLength(1);
    const [record] = context.sessions;
    expect(record).toMatchObject({ label: 'tiny resnet', requested: ['cuda', 'cpu'], providers: ['cpu'] });
    expect(record!.fallbackReason).toMatch(ORT_REFUSAL);
    expect(record!.cpuOperators).toBeUndefined();
  });

  it("device 'cuda' turns onnxruntime's refusal into DeviceUnavailableError naming the session", async () => {
    const context = new DeviceContext(onnxOnCuda('cuda'));
    const error = await runWithDevice(context, () => createOrtSession(model, { label: 'tiny resnet' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect((error as DeviceUnavailableError).code).toBe('ERR_DEVICE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/tiny resnet with cuda, cpu/);
    expect((error as Error).message).toMatch(ORT_REFUSAL);
  });

  it('a cpu plan asks for the CPU only and records it', async () => {
    const context = new DeviceContext(cpuPlan);
    await runWithDevice(context, async () => (await createOrtSession(model, { label: 'cpu session' })).release());
    expect(context.sessions).toEqual([{ label: 'cpu session', requested: ['cpu'], providers: ['cpu'] }]);
  });
});

describe('encoders inside a run', () => {
  for (const inProcess of [true, false]) {
    it(`${inProcess ? 'in process' : 'in a worker'}: the run's providers, onnxruntime's answer recorded; device 'cuda' refuses the fallback`, async () => {
      const built = buildResNetEncoder({ widths: [4], blocks: [1], inChannels: 1, seed: 1 }).model;
      const context = new DeviceContext(onnxOnCuda('auto'));
      await runWithDevice(context, async () => {
        const encoder = await ImageEncoder.create(built, { inProcess });
        expect(encoder.info.executionProviders).toEqual(['cpu']);
        expect(encoder.info.fallbackReason).toMatch(ORT_REFUSAL);
        await encoder.dispose();
      });
      expect(context.sessions).toHaveLength(1);
      expect(context.sessions[0]).toMatchObject({ requested: ['cuda', 'cpu'], providers: ['cpu'] });
      expect(context.sessions[0]!.fallbackReason).toMatch(ORT_REFUSAL);
      const strict = new DeviceContext(onnxOnCuda('cuda'));
      await expect(runWithDevice(strict, () => ImageEncoder.create(built, { inProcess }))).rejects.toBeInstanceOf(DeviceUnavailableError);
    });
  }

  it('an explicit executionProviders option still wins inside a run', async () => {
    const context = new DeviceContext(onnxOnCuda('auto'));
    await runWithDevice(context, async () => {
      const encoder = await ImageEncoder.create(buildResNetEncoder({ widths: [4], blocks: [1] }).model, {
        inProcess: true,
        executionProviders: ['cpu'],
      });
      expect(encoder.info.executionProviders).toEqual(['cpu']);
      expect(encoder.info.fallbackReason).toBeUndefined();
      await encoder.dispose();
    });
    expect(context.sessions).toEqual([expect.objectContaining({ requested: ['cpu'], providers: ['cpu'] })]);
  });
});

describe("the run's kernel backend", () => {
  it('is the default of every kernel call inside the run, and only there', async () => {
    const outside = defaultKernelBackend();
    const cudaKernels = new DeviceContext({ ...cpuPlan, setting: 'auto', kernels: { device: 'cuda' } });
    await runWithDevice(cudaKernels, async () => {
      await Promise.resolve();
      expect(defaultKernelBackend()).toBe('cuda');
      await new Promise((r) => setTimeout(r, 1));
      expect(defaultKernelBackend()).toBe('cuda');
    });
    await runWithDevice(new DeviceContext(cpuPlan), async () => expect(defaultKernelBackend()).toBe('cpu'));
    expect(defaultKernelBackend()).toBe(outside);
  });
});

describe('operatorsWithoutCudaKernel', () => {
  it('lists the ai.onnx operators missing from the CUDA kernel list; Constant needs none', () => {
    expect(operatorsWithoutCudaKernel(model)).toEqual([]);
    const edited = parseModel(model);
    const graph = edited.graph!;
    const first = graph.node![0]!;
    graph.node!.push(
      { opType: 'Det', input: [first.output![0]!], output: ['det_out'], name: 'det' },
      { opType: 'Constant', output: ['c'], name: 'c' },
      { opType: 'FusedConv', domain: 'com.microsoft', input: [], output: ['f'], name: 'f' },
    );
    expect(operatorsWithoutCudaKernel(serializeModel(edited))).toEqual(['Det']);
  });
});
