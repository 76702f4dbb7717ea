import { onnxruntimeProviderStatus } from '../device/onnxruntime-providers.js';

export { onnxruntimeBinaryDir } from '../device/onnxruntime-providers.js';

/** Execution providers by onnxruntime's names ('cpu', 'cuda', 'tensorrt', 'webgpu', ...). */
export type ExecutionProvider = string;

export interface ProviderResolution {
  /** What the session is created with, in order of preference; always ends with 'cpu'. */
  providers: string[];
  /** Why a requested provider was dropped (absent when everything asked for is available). */
  fallbackReason?: string;
}

export interface ResolveProvidersOptions {
  /**
   * Providers the caller knows to be usable (e.g. from radlearn's backendInfo()); when given, any
   * requested provider outside this list is dropped with a reason.
   */
  available?: readonly string[];
}

/**
 * Decides which execution providers to ask onnxruntime for. CPU is the default and the fallback;
 * a GPU provider whose library is not installed is dropped with a reason that says how to get it
 * (onnxruntime-node downloads the CUDA provider only at install time, which radlearn never does).
 */
export function resolveExecutionProviders(
  requested: readonly ExecutionProvider[] = ['cpu'],
  options: ResolveProvidersOptions = {},
): ProviderResolution {
  const providers: string[] = [];
  const reasons: string[] = [];
  for (const raw of requested) {
    const name = raw.toLowerCase();
    if (name === 'cpu') continue;
    if (options.available && !options.available.map((a) => a.toLowerCase()).includes(name)) {
      reasons.push(`${name} is not among the available backends (${options.available.join(', ') || 'none'})`);
      continue;
    }
    const status = onnxruntimeProviderStatus(name);
    if (!status.available) {
      reasons.push(status.reason!);
      continue;
    }
    if (!providers.includes(name)) providers.push(name);
  }
  providers.push('cpu');
  return reasons.length > 0 ? { providers, fallbackReason: reasons.join('; ') } : { providers };
}
