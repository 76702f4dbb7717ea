import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeLoadError, type LoadAttempt } from './errors.js';
import type { NativeAddon } from './types.js';

const require = createRequire(import.meta.url);

/** The package root (works from src/ under vitest and from dist/src/ when compiled). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'radlearn') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('radlearn: could not find the package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

interface Candidate {
  path: string;
  fix: string;
}

/** Where the addon may be, in the order tried: explicit override, CMake build (CUDA-capable), node-gyp CPU build. */
export function addonCandidates(): Candidate[] {
  const root = packageRoot();
  const candidates: Candidate[] = [];
  const override = process.env.RADLEARN_ADDON;
  if (override) candidates.push({ path: resolve(override), fix: 'point RADLEARN_ADDON at a built radlearn.node, or unset it' });
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

let cached: { addon: NativeAddon; path: string } | undefined;

/** Loads the addon once; throws NativeLoadError listing every attempt when none loads. */
export function loadAddon(): { addon: NativeAddon; path: string } {
  if (cached) return cached;
  const attempts: LoadAttempt[] = [];
  for (const candidate of addonCandidates()) {
    if (!existsSync(candidate.path)) {
      attempts.push({ path: candidate.path, error: 'not built', fix: candidate.fix });
      continue;
    }
    try {
      const addon = require(candidate.path) as NativeAddon;
      cached = { addon, path: candidate.path };
      return cached;
    } catch (error) {
      attempts.push({ path: candidate.path, error: (error as Error).message, fix: candidate.fix });
    }
  }
  throw new NativeLoadError(attempts);
}

export function addon(): NativeAddon {
  return loadAddon().addon;
}
