/**
 * What a run records about its device (device.json in the run folder, TrainResult.device, the
 * report's meta table): the setting, where each part ran and why the CPU where it did, and every
 * onnxruntime session with the providers it was created with.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import type { DeviceContext, SessionRecord } from './context.js';
import { describeDevicePlan, type DevicePlan } from './plan.js';

export interface DeviceReport extends DevicePlan {
  sessions: SessionRecord[];
}

export function deviceReport(context: DeviceContext): DeviceReport {
  return { ...context.plan, sessions: context.sessions.map((s) => ({ ...s })) };
}

/** The report's meta rows: the setting and each part's device (with the reason for a CPU). */
export function deviceMeta(plan: DevicePlan, sessions: readonly SessionRecord[] = []): Record<string, string> {
  const lines = describeDevicePlan(plan);
  const fellBack = sessions.filter((s) => s.requested.includes('cuda') && !s.providers.includes('cuda')).length;
  const partial = sessions.filter((s) => s.cpuOperators && s.cpuOperators.length > 0).length;
  return {
    device: plan.setting,
    onnxruntime:
      lines.onnxruntime +
      (fellBack > 0 ? `; ${fellBack} of ${sessions.length} sessions fell back to cpu (device.json says why)` : '') +
      (partial > 0 ? `; ${partial} sessions have operators without a CUDA kernel (device.json)` : ''),
    kernels: lines.kernels,
  };
}

export async function writeDeviceReport(runDir: string, context: DeviceContext): Promise<string> {
  const path = join(runDir, 'device.json');
  await writeJsonAtomic(path, deviceReport(context));
  return path;
}
