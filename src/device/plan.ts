/**
 * Resolves a `device` setting into a plan for the run's two parts: onnxruntime's sessions (the
 * encoders' forward and backward passes, evaluation, the export check) and radlearn's native
 * kernels (losses, heads, AdamW, augmentation). Both availabilities are found before any data is
 * read, so `device: 'cuda'` on a machine that cannot run it fails at once, saying why.
 */
import { serializeModel } from '../onnx/model-io.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { kernelCudaStatus, requestedDevice } from '../native/backend.js';
import { DeviceUnavailableError } from './errors.js';
import { onnxruntimeProviderStatus } from './onnxruntime-providers.js';
import { createOrtSession } from './session-factory.js';
import type { Device, DeviceSetting } from './setting.js';

/** Where one part runs and, when that is the CPU, why. */
export interface PartPlan {
  device: Device;
  reason?: string;
}

export interface DevicePlan {
  /** The setting as the run asked for it. */
  setting: DeviceSetting;
  /** onnxruntime's execution provider for every session of the run. */
  onnxruntime: PartPlan;
  /** The backend of radlearn's kernels. */
  kernels: PartPlan;
}

/** Whether a part can run on CUDA here; `reason` says why not. */
export interface CudaAvailability {
  available: boolean;
  reason?: string;
}

export interface DeviceProbes {
  onnxruntimeCuda(): Promise<CudaAvailability>;
  kernelsCuda(): CudaAvailability;
}

/**
 * onnxruntime's CUDA provider is usable when its libraries are installed and a session with it
 * alone can be created: that loads CUDA, cuBLAS and cuDNN and opens the device, so a missing
 * library, driver or GPU surfaces here with onnxruntime's own message.
 */
export async function probeOnnxruntimeCuda(): Promise<CudaAvailability> {
  const status = onnxruntimeProviderStatus('cuda');
  if (!status.available) return { available: false, reason: status.reason };
  const g = new GraphBuilder('cuda_probe');
  g.output(g.relu(g.input('x', 'float32', [1])), 'y');
  try {
    const session = await createOrtSession(serializeModel(g.build()), {
      label: 'the CUDA availability probe',
      providers: ['cuda'],
      fallback: false,
      record: false,
    });
    await session.release();
    return { available: true };
  } catch (error) {
    return { available: false, reason: `onnxruntime's CUDA provider is installed but failed to start: ${(error as Error).message}` };
  }
}

export const defaultDeviceProbes: DeviceProbes = { onnxruntimeCuda: probeOnnxruntimeCuda, kernelsCuda: kernelCudaStatus };

/**
 * The plan for `setting`. 'auto' follows RADLEARN_DEVICE when that is set (the process-wide
 * choice), else puts each part on CUDA where it is available; 'cuda' throws
 * DeviceUnavailableError naming every part that cannot run there.
 */
export async function resolveDevicePlan(setting: DeviceSetting, probes: DeviceProbes = defaultDeviceProbes): Promise<DevicePlan> {
  const forced = setting === 'auto' ? requestedDevice() : undefined;
  const wanted: DeviceSetting = forced ?? setting;
  const why = forced ? `RADLEARN_DEVICE=${forced}` : `device: '${setting}'`;
  if (wanted === 'cpu') return { setting, onnxruntime: { device: 'cpu', reason: why }, kernels: { device: 'cpu', reason: why } };
  const kernels = probes.kernelsCuda();
  const onnxruntime = await probes.onnxruntimeCuda();
  if (wanted === 'cuda') {
    const problems = [
      ...(onnxruntime.available ? [] : [`onnxruntime (the encoders): ${onnxruntime.reason ?? 'CUDA is not available'}`]),
      ...(kernels.available ? [] : [`radlearn's kernels: ${kernels.reason ?? 'CUDA is not available'}`]),
    ];
    if (problems.length > 0)
      throw new DeviceUnavailableError(
        `${why} asks for CUDA, but ${problems.join('; ')}. Set device to 'auto' to use the CPU where CUDA is missing, or run \`radlearn doctor\`.`,
        { setting, problems },
      );
  }
  const part = (a: CudaAvailability): PartPlan =>
    a.available ? { device: 'cuda' } : { device: 'cpu', reason: a.reason ?? 'CUDA is not available' };
  return { setting, onnxruntime: part(onnxruntime), kernels: part(kernels) };
}

/** One line per part: where it runs, and why when that is the CPU. */
export function describeDevicePlan(plan: DevicePlan): { onnxruntime: string; kernels: string } {
  const line = (p: PartPlan): string => (p.reason ? `${p.device} (${p.reason})` : p.device);
  return { onnxruntime: line(plan.onnxruntime), kernels: line(plan.kernels) };
}
