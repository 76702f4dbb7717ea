import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceUnavailableError } from '../../../src/device/errors.js';
import { onnxruntimeProviderStatus } from '../../../src/device/onnxruntime-providers.js';
import { describeDevicePlan, probeOnnxruntimeCuda, resolveDevicePlan, type DeviceProbes } from '../../../src/device/plan.js';
import { kernelCudaStatus } from '../../../src/native/backend.js';

const probes = (onnxruntime: string | true, kernels: string | true): DeviceProbes => ({
  onnxruntimeCuda: async () => (onnxruntime === true ? { available: true } : { available: false, reason: onnxruntime }),
  kernelsCuda: () => (kernels === true ? { available: true } : { available: false, reason: kernels }),
});

describe('resolveDevicePlan', () => {
  const saved = process.env.RADLEARN_DEVICE;
  afterEach(() => {
    if (saved === undefined) delete process.env.RADLEARN_DEVICE;
    else process.env.RADLEARN_DEVICE = saved;
  });

  it('auto puts each part on CUDA where it is available and says why the CPU elsewhere', async () => {
    delete process.env.RADLEARN_DEVICE;
    expect(await resolveDevicePlan('auto', probes(true, true))).toEqual({
      setting: 'auto',
      onnxruntime: { device: 'cuda' },
      kernels: { device: 'cuda' },
    });
    expect(await resolveDevicePlan('auto', probes('provider library missing', 'no NVIDIA driver found'))).toEqual({
      setting: 'auto',
      onnxruntime: { device: 'cpu', reason: 'provider library missing' },
      kernels: { device: 'cpu', reason: 'no NVIDIA driver found' },
    });
    const mixed = await resolveDevicePlan('auto', probes(true, 'this addon was built without CUDA'));
    expect(mixed.onnxruntime).toEqual({ device: 'cuda' });
    expect(mixed.kernels).toEqual({ device: 'cpu', reason: 'this addon was built without CUDA' });
    expect(describeDevicePlan(mixed)).toEqual({ onnxruntime: 'cuda', kernels: 'cpu (this addon was built without CUDA)' });
  });

  it('cpu never probes; cuda with a part missing fails with ERR_DEVICE_UNAVAILABLE naming every missing part', async () => {
    delete process.env.RADLEARN_DEVICE;
    const never: DeviceProbes = {
      onnxruntimeCuda: () => Promise.reject(new Error('probed')),
      kernelsCuda: () => {
        throw new Error('probed');
      },
    };
    expect(await resolveDevicePlan('cpu', never)).toEqual({
      setting: 'cpu',
      onnxruntime: { device: 'cpu', reason: "device: 'cpu'" },
      kernels: { device: 'cpu', reason: "device: 'cpu'" },
    });
    expect(await resolveDevicePlan('cuda', probes(true, true))).toMatchObject({
      onnxruntime: { device: 'cuda' },
      kernels: { device: 'cuda' },
    });
    const error = await resolveDevicePlan('cuda', probes('no libonnxruntime_providers_cuda.so', 'no NVIDIA driver found')).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect((error as DeviceUnavailableError).code).toBe('ERR_DEVICE_UNAVAILABLE');
    expect((error as Error).message).toMatch(/onnxruntime \(the encoders\): no libonnxruntime_providers_cuda\.so/);
    expect((error as Error).message).toMatch(/radlearn's kernels: no NVIDIA driver found/);
    const one = await resolveDevicePlan('cuda', probes(true, 'no NVIDIA driver found')).catch((e: unknown) => e);
    expect((one as Error).message).not.toMatch(/onnxruntime \(the encoders\)/);
  });

  it('auto follows RADLEARN_DEVICE when it is set', async () => {
    process.env.RADLEARN_DEVICE = 'cpu';
    expect(await resolveDevicePlan('auto', probes(true, true))).toEqual({
      setting: 'auto',
      onnxruntime: { device: 'cpu', reason: 'RADLEARN_DEVICE=cpu' },
      kernels: { device: 'cpu', reason: 'RADLEARN_DEVICE=cpu' },
    });
    process.env.RADLEARN_DEVICE = 'cuda';
    await expect(resolveDevicePlan('auto', probes('missing', true))).rejects.toThrow(/RADLEARN_DEVICE=cuda asks for CUDA, but onnxruntime/);
    // an explicit setting wins over the environment
    expect((await resolveDevicePlan('cpu', probes(true, true))).kernels.reason).toBe("device: 'cpu'");
  });

  it('on this machine (no GPU, no CUDA provider library) auto is the CPU with both reasons, and cuda fails at once', async () => {
    delete process.env.RADLEARN_DEVICE;
    const kernels = kernelCudaStatus();
    const onnxruntime = await probeOnnxruntimeCuda();
    // the checks run everywhere; where a GPU and the provider exist the plan is CUDA instead
    const plan = await resolveDevicePlan('auto');
    expect(plan.kernels).toEqual(kernels.available ? { device: 'cuda' } : { device: 'cpu', reason: kernels.reason });
    expect(plan.onnxruntime).toEqual(onnxruntime.available ? { device: 'cuda' } : { device: 'cpu', reason: onnxruntime.reason });
    if (!onnxruntime.available) {
      expect(onnxruntime.reason).toMatch(/CUDA execution provider is not installed \(missing .*libonnxruntime_providers_cuda\.so/);
      await expect(resolveDevicePlan('cuda')).rejects.toMatchObject({ code: 'ERR_DEVICE_UNAVAILABLE' });
    }
  });
});

describe('onnxruntimeProviderStatus', () => {
  const listed = [
    { name: 'cpu', bundled: true },
    { name: 'webgpu', bundled: true },
    { name: 'cuda', bundled: false },
  ];

  it('needs the provider listed, and an unbundled one needs its libraries next to the binding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-ort-bin-'));
    const lib = (base: string): string => (process.platform === 'win32' ? `${base}.dll` : `lib${base}.so`);
    expect(onnxruntimeProviderStatus('webgpu', { supported: listed, binaryDir: dir })).toEqual({ name: 'webgpu', available: true });
    expect(onnxruntimeProviderStatus('tensorrt', { supported: listed, binaryDir: dir }).reason).toMatch(
      /has no TENSORRT execution provider \(it lists cpu, webgpu, cuda\)/,
    );
    const none = onnxruntimeProviderStatus('CUDA', { supported: listed, binaryDir: dir });
    expect(none.available).toBe(false);
    expect(none.reason).toContain(join(dir, lib('onnxruntime_providers_shared')));
    expect(none.reason).toContain(join(dir, lib('onnxruntime_providers_cuda')));
    writeFileSync(join(dir, lib('onnxruntime_providers_shared')), '');
    const half = onnxruntimeProviderStatus('cuda', { supported: listed, binaryDir: dir });
    expect(half.reason).not.toContain(lib('onnxruntime_providers_shared'));
    expect(half.reason).toContain(lib('onnxruntime_providers_cuda'));
    writeFileSync(join(dir, lib('onnxruntime_providers_cuda')), '');
    expect(onnxruntimeProviderStatus('cuda', { supported: listed, binaryDir: dir })).toEqual({ name: 'cuda', available: true });
  });
});
