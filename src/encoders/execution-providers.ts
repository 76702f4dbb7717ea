import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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

const require = createRequire(import.meta.url);

/** Providers whose shared library onnxruntime-node does not bundle, by library file name. */
const UNBUNDLED: Record<string, string> = {
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
};

/** The folder holding onnxruntime_binding.node for this platform, or undefined if not found. */
export function onnxruntimeBinaryDir(): string | undefined {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = join(pkg, 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(join(dir, 'onnxruntime_binding.node'))) return dir;
    }
  } catch {
    // fall through: callers report the provider as unavailable
  }
  return undefined;
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
    const lib = UNBUNDLED[name];
    if (lib) {
      const dir = onnxruntimeBinaryDir();
      const path = dir ? join(dir, lib) : lib;
      if (!dir || !existsSync(path)) {
        reasons.push(
          `onnxruntime-node's ${name.toUpperCase()} execution provider is not installed (expected ${path}); ` +
            'install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` on a machine with CUDA 12',
        );
        continue;
      }
    }
    if (!providers.includes(name)) providers.push(name);
  }
  providers.push('cpu');
  return reasons.length > 0 ? { providers, fallbackReason: reasons.join('; ') } : { providers };
}
