import { backendInfo } from '../../src/index.js';

/** Whether CUDA tests can run here, and why not (printed once so a skipped run says why). */
export function cudaStatus(): { available: boolean; reason: string } {
  try {
    const info = backendInfo();
    if (!info.cudaCompiled) return { available: false, reason: 'the addon was built without CUDA' };
    if (!info.device) return { available: false, reason: info.fallbackReason ?? 'no CUDA device' };
    return { available: true, reason: `${info.device.name} (cc ${info.device.computeCapability})` };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  }
}

export const cuda = cudaStatus();
if (!cuda.available) console.log(`[gpu tests] skipped: ${cuda.reason}`);
else console.log(`[gpu tests] running on ${cuda.reason}`);
