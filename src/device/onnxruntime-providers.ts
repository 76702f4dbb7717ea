/**
 * Which of onnxruntime-node's execution providers can be used here, found offline: the binding's
 * own list (`listSupportedBackends()`: every provider the build knows, with `bundled: false` for
 * those whose shared library is downloaded by the package's install script, which radlearn's
 * .npmrc skips), then the library files next to the binding.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);

/** The folder holding onnxruntime_binding.node for this platform, or undefined if not found. */
export function onnxruntimeBinaryDir(): string | undefined {
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(join(dir, 'onnxruntime_binding.node'))) return dir;
    }
  } catch {
    // fall through: callers report the provider as unavailable
  }
  return undefined;
}

/** The shared libraries an unbundled provider loads from the binding's folder (provider bridge first). */
function providerLibraries(name: string): string[] {
  const file = (base: string): string => (process.platform === 'win32' ? `${base}.dll` : `lib${base}.so`);
  return [file('onnxruntime_providers_shared'), file(`onnxruntime_providers_${name}`)];
}

export interface ProviderStatus {
  name: string;
  available: boolean;
  /** Why it cannot be used (absent when available). */
  reason?: string;
}

export interface ProviderStatusOptions {
  /** The binding's provider list (default: onnxruntime-node's listSupportedBackends()). */
  supported?: ReadonlyArray<{ name: string; bundled: boolean }>;
  /** Where the binding and provider libraries live (default: onnxruntimeBinaryDir()). */
  binaryDir?: string;
}

export const ONNXRUNTIME_CUDA_INSTALL =
  'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (needs the network once, and CUDA 12 with cuDNN 9 at run time)';

/**
 * Whether onnxruntime-node can load provider `name` ('cuda', 'tensorrt', 'webgpu', ...): the
 * build must list it, and an unbundled one needs its libraries installed. Loading those libraries
 * can still fail (CUDA or cuDNN missing, no GPU); probeOnnxruntimeProvider finds that out.
 */
export function onnxruntimeProviderStatus(name: string, options: ProviderStatusOptions = {}): ProviderStatus {
  const wanted = name.toLowerCase();
  if (wanted === 'cpu') return { name: wanted, available: true };
  const supported = options.supported ?? ort.listSupportedBackends();
  const entry = supported.find((b) => b.name.toLowerCase() === wanted);
  if (!entry)
    return {
      name: wanted,
      available: false,
      reason: `this onnxruntime-node build (${process.platform}/${process.arch}) has no ${wanted.toUpperCase()} execution provider (it lists ${supported.map((b) => b.name).join(', ')})`,
    };
  if (entry.bundled) return { name: wanted, available: true };
  const dir = options.binaryDir ?? onnxruntimeBinaryDir();
  const missing = providerLibraries(wanted).filter((lib) => !dir || !existsSync(join(dir, lib)));
  if (missing.length > 0)
    return {
      name: wanted,
      available: false,
      reason:
        `onnxruntime-node's ${wanted.toUpperCase()} execution provider is not installed (missing ${missing.map((m) => (dir ? join(dir, m) : m)).join(', ')})` +
        (wanted === 'cuda' ? `; install it with ${ONNXRUNTIME_CUDA_INSTALL}` : ''),
    };
  return { name: wanted, available: true };
}
