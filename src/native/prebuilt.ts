import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The platform packages that exist (npm/<target>/, made with @napi-rs/cli): `${platform}-${arch}`
 * to the napi-rs target name. scripts/prebuilt.mjs, which the install script reads, holds the
 * same table; tests/unit/native/prebuilt.test.ts checks that the two agree.
 */
export const PREBUILT_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'linux-x64-gnu',
  'linux-arm64': 'linux-arm64-gnu',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64-msvc',
};

/**
 * Whether this Linux runs glibc (the -gnu packages are linked against it; musl gets a source
 * build). ldd names its C library; Node's report, slower to make, settles the rest.
 */
export function isGlibc(): boolean {
  try {
    const ldd = readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return false;
    if (ldd.includes('GNU C Library')) return true;
  } catch {
    // no ldd: ask Node
  }
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return Boolean(report.header?.glibcVersionRuntime);
}

/** The napi-rs target name for a platform, or undefined when no prebuilt is published for it. */
export function prebuiltTarget(platform: string = process.platform, arch: string = process.arch, glibc?: boolean): string | undefined {
  const target = PREBUILT_TARGETS[`${platform}-${arch}`];
  if (!target) return undefined;
  if (platform === 'linux' && !(glibc ?? isGlibc())) return undefined;
  return target;
}

/** The platform package for this machine as found from the radlearn package at `root`. */
export interface PrebuiltPackage {
  /** e.g. radlearn-linux-x64-gnu */
  packageName: string;
  /** The platform package's version (package.json). */
  version: string;
  /** The .node file it carries. */
  path: string;
}

/**
 * Finds the installed platform package next to radlearn (an optional dependency, so npm installs
 * it only on its platform). Undefined when this platform has none or it is not installed.
 */
export function findPrebuiltPackage(root: string, target: string | undefined = prebuiltTarget()): PrebuiltPackage | undefined {
  if (!target) return undefined;
  const packageName = `radlearn-${target}`;
  let manifestPath: string;
  try {
    manifestPath = createRequire(join(root, 'package.json')).resolve(`${packageName}/package.json`);
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: string };
  const path = join(dirname(manifestPath), `radlearn.${target}.node`);
  return { packageName, version: manifest.version ?? '', path };
}
