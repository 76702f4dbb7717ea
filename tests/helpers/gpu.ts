import { backendInfo } from '../../src/index.js';

export interface CudaStatus {
  available: boolean;
  reason: string;
}

/** Whether CUDA tests can run here, and why not (printed once so a skipped run says why). */
export function cudaStatus(): CudaStatus {
  try {
    const info = backendInfo();
    if (!info.cudaCompiled) return { available: false, reason: 'the addon was built without CUDA' };
    if (!info.device) return { available: false, reason: info.fallbackReason ?? 'no CUDA device' };
    return { available: true, reason: `${info.device.name} (cc ${info.device.computeCapability})` };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}

/**
 * On a GPU runner (RADLEARN_REQUIRE_CUDA=1) a missing device must fail the run, not skip every
 * test and pass with none run.
 */
export function gpuGate(status: CudaStatus, env: NodeJS.ProcessEnv = process.env): string {
  if (status.available) return `[gpu tests] running on ${status.reason}`;
  if (env.RADLEARN_REQUIRE_CUDA === '1') throw new Error(`RADLEARN_REQUIRE_CUDA=1 but CUDA is not usable: ${status.reason}`);
  return `[gpu tests] skipped: ${status.reason}`;
}

export const cuda = cudaStatus();
console.log(gpuGate(cuda));
