import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { packageRoot } from '../package-info.js';
import { InvalidArgumentError } from '../errors.js';
import { NativeLoadError, type LoadAttempt } from './errors.js';
import { attachTrace, setTraceLoader } from './trace.js';
import type { NativeAddon } from './types.js';

const require = createRequire(import.meta.url);

/** The calling convention this TS layer speaks (native/src/addon.cc): 2 = operands plus one named options object. */
const ABI_VERSION = 2;

export interface Candidate {
  path: string;
  fix: string;
}

/**
 * Where the addon may be, in the order tried: an explicit override (RADLEARN_ADDON, tried
 * alone so a wrong override is never silently bypassed), else the CMake build (CUDA-capable
 * when nvcc was found) and then the node-gyp CPU-only build.
 */
export function addonCandidates(): Candidate[] {
  const root = packageRoot();
  const override = process.env.RADLEARN_ADDON;
  if (override) return [{ path: resolve(override), fix: 'point RADLEARN_ADDON at a built radlearn.node, or unset it' }];
  const candidates: Candidate[] = [];
  candidates.push({
    path: join(root, 'build-cmake', 'Release', 'radlearn.node'),
    fix: 'run `npm run build:native` (needs CMake and a C++17 compiler; nvcc adds CUDA)',
  });
  candidates.push({
    path: join(root, 'build', 'Release', 'radlearn.node'),
    fix: 'run `node scripts/build-native.mjs --gyp` (node-gyp, CPU only; needs python3, make and a C++17 compiler)',
  });
  return candidates;
}

/**
 * RADLEARN_THREADS sizes the kernels' thread pool; a value the pool would refuse (not a
 * count, or above the cap the addon reports) is an error here, before any kernel runs.
 */
function checkThreadsVariable(native: NativeAddon): void {
  const text = process.env.RADLEARN_THREADS;
  if (text === undefined || text.trim() === '') return;
  const max = native.maxThreads();
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > max) {
    throw new InvalidArgumentError(`RADLEARN_THREADS must be a whole number from 1 to ${max} (4 x this machine's hardware threads), got '${text}'`);
  }
}

let cached: { addon: NativeAddon; path: string } | undefined;
setTraceLoader(() => loadAddon());

/** Loads the addon once; throws NativeLoadError listing every attempt when none loads. */
export function loadAddon(): { addon: NativeAddon; path: string } {
  if (!cached) {
    const loaded = tryLoadAddon(addonCandidates());
    checkThreadsVariable(loaded.addon);
    cached = loaded;
    attachTrace(cached.addon);
  }
  return cached;
}

/** Tries each candidate in order (exported for tests). */
export function tryLoadAddon(candidates: Candidate[]): { addon: NativeAddon; path: string } {
  const attempts: LoadAttempt[] = [];
  for (const candidate of candidates) {
    if (!existsSync(candidate.path)) {
      attempts.push({ path: candidate.path, error: 'not built', fix: candidate.fix });
      continue;
    }
    try {
      const addon = require(candidate.path) as NativeAddon;
      if (addon.abiVersion !== ABI_VERSION) {
        throw new Error(`built from other sources (abiVersion ${String(addon.abiVersion)}, expected ${ABI_VERSION}); rebuild it`);
      }
      return { addon, path: candidate.path };
    } catch (error) {
      attempts.push({ path: candidate.path, error: (error as Error).message, fix: candidate.fix });
    }
  }
  throw new NativeLoadError(attempts);
}

export function addon(): NativeAddon {
  return loadAddon().addon;
}
