import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError, describeValue } from '../errors.js';
import { addon, loadAddon, type AddonSource } from './addon.js';
import { BackendUnavailableError, fromNativeError } from './errors.js';
import type { NativeBackend, NativeBuildInfo } from './types.js';

export type { AddonSource } from './addon.js';

/** How the loaded addon binary was built: radlearn version, builder, compiler, flags, CPU ISA, CUDA architectures. */
export type AddonBuildInfo = NativeBuildInfo;

/** Which addon was loaded. */
export interface AddonInfo {
  /** 'prebuilt' (the platform package), 'local' (built in the package folder) or 'override' (RADLEARN_ADDON). */
  source: AddonSource;
  /** The platform package and its version, e.g. "radlearn-linux-x64-gnu@0.1.0", for a prebuilt. */
  package?: string;
  /** Absent for an addon built before it could report it. */
  build?: AddonBuildInfo;
}

export interface DeviceInfo {
  name: string;
  /** e.g. "9.0" for Hopper */
  computeCapability: string;
  memoryBytes: number;
  /** CUDA driver version as the driver reports it, e.g. 13000 for 13.0 */
  driverVersion: number;
  /** CUDA runtime version the addon was built with, e.g. 13000 */
  runtimeVersion: number;
  multiprocessors: number;
}

export interface BackendInfo {
  /** Where kernels run by default. */
  backend: NativeBackend;
  /** The loaded addon contains CUDA kernels. */
  cudaCompiled: boolean;
  /** Present when a CUDA device answered. */
  device?: DeviceInfo;
  /** Threads in the shared CPU pool. */
  threads: number;
  /** Why the CUDA backend is not used, when it is not. */
  fallbackReason?: string;
  /** Ops are annotated with NVTX ranges (visible in Nsight Systems). */
  nvtx: boolean;
  /** The addon file that was loaded. */
  addonPath: string;
  /** Where that addon came from and how it was built. */
  addon: AddonInfo;
}

/** RADLEARN_DEVICE as a backend, or undefined when unset or 'auto'; any other value throws. */
export function requestedDevice(): 'cpu' | 'cuda' | undefined {
  const value = process.env.RADLEARN_DEVICE;
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'cpu' || value === 'cuda') return value;
  throw new InvalidArgumentError(`RADLEARN_DEVICE must be 'cpu', 'cuda' or 'auto', got '${value}'`);
}

/**
 * What radlearn will run on here. CUDA is chosen only when the addon was built with it and a
 * device answers; RADLEARN_DEVICE=cpu|cuda overrides (cuda without a device throws, saying why).
 */
export function backendInfo(): BackendInfo {
  const loaded = loadAddon();
  const native = addon().backend();
  const addonInfo: AddonInfo = {
    source: loaded.source,
    ...(loaded.package ? { package: `${loaded.package.name}@${loaded.package.version}` } : {}),
    ...(loaded.build ? { build: loaded.build } : {}),
  };
  const base = { cudaCompiled: native.cudaCompiled, threads: native.threads, nvtx: native.nvtx, addonPath: loaded.path, addon: addonInfo };
  const device = native.device ?? undefined;
  const requested = requestedDevice();
  if (requested === 'cuda' && !device) {
    throw new BackendUnavailableError(
      `RADLEARN_DEVICE=cuda but CUDA is not usable: ${native.deviceReason ?? 'no device'}. ` +
        'Run `npx radlearn doctor` for details, or unset RADLEARN_DEVICE to fall back to the CPU.',
    );
  }
  if (requested === 'cpu') {
    return { backend: 'cpu', ...base, ...(device ? { device } : {}), fallbackReason: 'RADLEARN_DEVICE=cpu' };
  }
  if (device) return { backend: 'cuda', ...base, device };
  return { backend: 'cpu', ...base, fallbackReason: native.deviceReason ?? 'no CUDA device' };
}

/** Whether the kernels can run on CUDA here (addon built with CUDA, a device answering), RADLEARN_DEVICE aside. */
export function kernelCudaStatus(): { available: boolean; reason?: string } {
  loadAddon();
  const native = addon().backend();
  if (native.device) return { available: true };
  return { available: false, reason: native.deviceReason ?? (native.cudaCompiled ? 'no CUDA device' : 'this addon was built without CUDA') };
}

let defaultBackend: NativeBackend | undefined;
const scopedBackend = new AsyncLocalStorage<NativeBackend>();

/** The backend kernels use when the caller does not say: the enclosing runWithKernelBackend's, else the process default (cached). */
export function defaultKernelBackend(): NativeBackend {
  const scoped = scopedBackend.getStore();
  if (scoped) return scoped;
  defaultBackend ??= backendInfo().backend;
  return defaultBackend;
}

/** Runs `fn` with `backend` as the default of every kernel call made in it and in what it awaits (a training run's device). */
export function runWithKernelBackend<T>(backend: NativeBackend, fn: () => T): T {
  return scopedBackend.run(backend, fn);
}

/** Resizes the shared CPU thread pool (0 restores the default: cores, or RADLEARN_THREADS). */
export function setThreads(threads: number): number {
  const max = addon().maxThreads();
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > max) {
    throw new InvalidArgumentError(`threads must be an integer from 0 (the default) to ${max} (4 x this machine's hardware threads), got ${describeValue(threads)}`);
  }
  try {
    return addon().setThreads(threads);
  } catch (error) {
    throw fromNativeError(error, 'setThreads');
  }
}
