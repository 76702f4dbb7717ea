import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { packageRoot, radlearnVersion } from '../package-info.js';
import { InvalidArgumentError } from '../errors.js';
import { NativeLoadError, PrebuiltVersionError, type LoadAttempt } from './errors.js';
import { findPrebuiltPackage, prebuiltTarget } from './prebuilt.js';
import { attachTrace, setTraceLoader } from './trace.js';
import type { NativeAddon, NativeBuildInfo } from './types.js';

const require = createRequire(import.meta.url);

/** The calling convention this TS layer speaks (native/src/addon.cc): 2 = operands plus one named options object. */
const ABI_VERSION = 2;

/** Where a loaded addon came from: RADLEARN_ADDON, a build in the package folder, or the platform package. */
export type AddonSource = 'override' | 'local' | 'prebuilt';

export interface Candidate {
  path: string;
  fix: string;
  source: AddonSource;
  /** For a prebuilt: its platform package, which must be of radlearn's own version. */
  package?: { name: string; version: string };
}

/** The addon in use and where it came from. */
export interface LoadedAddon {
  addon: NativeAddon;
  path: string;
  source: AddonSource;
  /** The platform package, for a prebuilt. */
  package?: { name: string; version: string };
  /** How the binary was built; undefined for an addon built before it could say. */
  build?: NativeBuildInfo;
}

const SOURCE_BUILD_FIX = 'RADLEARN_BUILD_FROM_SOURCE=1 npm rebuild radlearn (needs CMake and a C++17 compiler; nvcc adds CUDA)';

/**
 * Where the addon may be, in the order tried: an explicit override (RADLEARN_ADDON, tried
 * alone so a wrong override is never silently bypassed), else the CMake build (CUDA-capable
 * when nvcc was found), the node-gyp CPU-only build, and last the prebuilt platform package
 * (radlearn-<platform>). The install script compiles nothing when that prebuilt fits, so a
 * local build exists only when one was asked for (RADLEARN_BUILD_FROM_SOURCE=1, `npm run
 * build:native`, a source checkout) or the prebuilt did not load here; either way it is the one
 * meant. RADLEARN_BUILD_FROM_SOURCE=1 leaves the prebuilt out.
 */
export function addonCandidates(): Candidate[] {
  const root = packageRoot();
  const override = process.env.RADLEARN_ADDON;
  if (override) return [{ path: resolve(override), fix: 'point RADLEARN_ADDON at a built radlearn.node, or unset it', source: 'override' }];
  const candidates: Candidate[] = [];
  candidates.push({
    path: join(root, 'build-cmake', 'Release', 'radlearn.node'),
    fix: 'run `npm run build:native` (needs CMake and a C++17 compiler; nvcc adds CUDA)',
    source: 'local',
  });
  candidates.push({
    path: join(root, 'build', 'Release', 'radlearn.node'),
    fix: 'run `node scripts/build-native.mjs --gyp` (node-gyp, CPU only; needs python3, make and a C++17 compiler)',
    source: 'local',
  });
  if (process.env.RADLEARN_BUILD_FROM_SOURCE === '1') return candidates;
  const target = prebuiltTarget();
  if (!target) return candidates;
  const found = findPrebuiltPackage(root, target);
  const packageName = `radlearn-${target}`;
  candidates.push(
    found
      ? {
          path: found.path,
          fix: `reinstall radlearn so npm installs ${packageName}@${radlearnVersion()}, or build from source: ${SOURCE_BUILD_FIX}`,
          source: 'prebuilt',
          package: { name: found.packageName, version: found.version },
        }
      : {
          path: join(root, 'node_modules', packageName, `radlearn.${target}.node`),
          fix: `install the prebuilt (npm install ${packageName}@${radlearnVersion()}), or build from source: ${SOURCE_BUILD_FIX}`,
          source: 'prebuilt',
        },
  );
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

let cached: LoadedAddon | undefined;
setTraceLoader(() => loadAddon());

/** Loads the addon once; throws NativeLoadError listing every attempt when none loads. */
export function loadAddon(): LoadedAddon {
  if (!cached) {
    const loaded = tryLoadAddon(addonCandidates());
    checkThreadsVariable(loaded.addon);
    cached = loaded;
    attachTrace(cached.addon);
  }
  return cached;
}

function buildInfoOf(addon: NativeAddon): NativeBuildInfo | undefined {
  return typeof addon.buildInfo === 'function' ? addon.buildInfo() : undefined;
}

/** A prebuilt of another radlearn version, refused (before loading when its package.json says so). */
class VersionRefusal extends Error {
  constructor(
    readonly packageName: string,
    readonly prebuiltVersion: string,
    readonly radlearnVersion: string,
    subject: string,
  ) {
    super(
      `${subject} is for radlearn ${prebuiltVersion}, and this is radlearn ${radlearnVersion}; a prebuilt addon is used only with ` +
        'the radlearn version it was built from',
    );
  }
}

/** Loads one candidate, or throws why not. */
function loadCandidate(candidate: Candidate, version: string): LoadedAddon {
  const pkg = candidate.package;
  // Checked before loading: a foreign version's binary is never brought into the process.
  if (pkg && pkg.version !== version) throw new VersionRefusal(pkg.name, pkg.version, version, `${pkg.name}@${pkg.version}`);
  const addon = require(candidate.path) as NativeAddon;
  if (addon.abiVersion !== ABI_VERSION) {
    throw new Error(`built from other sources (abiVersion ${String(addon.abiVersion)}, expected ${ABI_VERSION}); rebuild it`);
  }
  const build = buildInfoOf(addon);
  if (candidate.source === 'prebuilt' && build?.version !== version) {
    const subject = pkg ? `the binary in ${pkg.name}@${pkg.version}` : 'the prebuilt binary';
    throw new VersionRefusal(pkg?.name ?? candidate.path, build?.version || 'an unknown version', version, subject);
  }
  return { addon, path: candidate.path, source: candidate.source, ...(pkg ? { package: pkg } : {}), ...(build ? { build } : {}) };
}

/**
 * Tries each candidate in order (exported for tests). When none loads, throws NativeLoadError
 * listing every attempt, or its subclass PrebuiltVersionError when a prebuilt of another
 * radlearn version was refused.
 */
export function tryLoadAddon(candidates: Candidate[], version: string = radlearnVersion()): LoadedAddon {
  const attempts: LoadAttempt[] = [];
  let refusal: VersionRefusal | undefined;
  for (const candidate of candidates) {
    const refused = candidate.package !== undefined && candidate.package.version !== version;
    if (!refused && !existsSync(candidate.path)) {
      const missing = candidate.package
        ? `${candidate.package.name}@${candidate.package.version} has no such file`
        : candidate.source === 'prebuilt'
          ? 'not installed'
          : 'not built';
      attempts.push({ path: candidate.path, error: missing, fix: candidate.fix });
      continue;
    }
    try {
      return loadCandidate(candidate, version);
    } catch (error) {
      if (error instanceof VersionRefusal) {
        refusal ??= error;
        attempts.push({ path: candidate.path, error: error.message, fix: candidate.fix, code: 'ERR_PREBUILT_VERSION' });
      } else {
        attempts.push({ path: candidate.path, error: (error as Error).message, fix: candidate.fix });
      }
    }
  }
  if (refusal) throw new PrebuiltVersionError(attempts, refusal);
  throw new NativeLoadError(attempts);
}

export function addon(): NativeAddon {
  return loadAddon().addon;
}
