// The prebuilt platform packages, as the install script sees them (scripts/build-native.mjs).
// The loader's copy of the same rules is src/native/prebuilt.ts; tests/unit/native/prebuilt.test.ts
// checks that the two agree.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The platform packages that exist: `${platform}-${arch}` -> napi-rs target name. */
export const PREBUILT_TARGETS = {
  'linux-x64': 'linux-x64-gnu',
  'linux-arm64': 'linux-arm64-gnu',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64-msvc',
};

/** napi-rs target name -> the Rust-style triple that package.json's `napi.targets` lists. */
export const TARGET_TRIPLES = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64-msvc': 'x86_64-pc-windows-msvc',
};

/** Whether this Linux runs glibc (the -gnu packages); musl (Alpine) gets a source build. */
export function isGlibc() {
  try {
    const ldd = readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return false;
    if (ldd.includes('GNU C Library')) return true;
  } catch {
    // no ldd: ask Node
  }
  const header = process.report?.getReport().header;
  return Boolean(header && header.glibcVersionRuntime);
}

/** The napi-rs target name for a platform, or undefined when no prebuilt is published for it. */
export function prebuiltTarget(platform = process.platform, arch = process.arch, glibc = platform === 'linux' ? isGlibc() : false) {
  const target = PREBUILT_TARGETS[`${platform}-${arch}`];
  if (!target) return undefined;
  if (platform === 'linux' && !glibc) return undefined;
  return target;
}

/**
 * Whether the prebuilt for this machine can be used by the radlearn package at `root`:
 * installed, of the same version (package.json and the version compiled into the binary), and
 * loadable here (tried in a child process, so a binary that crashes on load cannot take npm down).
 * Returns { usable: true, packageName, version, path, build } or { usable: false, reason }.
 */
export function findPrebuilt(root) {
  const radlearnVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const target = prebuiltTarget();
  if (!target)
    return {
      usable: false,
      reason: `no prebuilt addon is published for ${process.platform}-${process.arch}${process.platform === 'linux' ? ' (glibc)' : ''}`,
    };
  const packageName = `radlearn-${target}`;
  let manifestPath;
  try {
    manifestPath = createRequire(join(root, 'package.json')).resolve(`${packageName}/package.json`);
  } catch {
    return { usable: false, reason: `the prebuilt package ${packageName} is not installed` };
  }
  const version = JSON.parse(readFileSync(manifestPath, 'utf8')).version;
  if (version !== radlearnVersion) {
    return {
      usable: false,
      reason: `the installed prebuilt ${packageName}@${version} belongs to radlearn ${version}, not to this radlearn ${radlearnVersion}, so it is not used (install ${packageName}@${radlearnVersion})`,
    };
  }
  const path = join(dirname(manifestPath), `radlearn.${target}.node`);
  if (!existsSync(path)) return { usable: false, reason: `the prebuilt package ${packageName}@${version} has no ${path}` };
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const a = require(${JSON.stringify(path)}); process.stdout.write(JSON.stringify(typeof a.buildInfo === 'function' ? a.buildInfo() : null))`,
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) {
    const why = (probe.stderr || '').split('\n').find((line) => /Error|error/.test(line)) ?? `exit code ${probe.status ?? probe.signal}`;
    return { usable: false, reason: `the prebuilt ${path} does not load here (${why.trim()})` };
  }
  const build = JSON.parse(probe.stdout);
  if (!build || build.version !== radlearnVersion) {
    return {
      usable: false,
      reason: `the prebuilt ${path} was compiled from radlearn ${build?.version || 'of an unknown version'}, not ${radlearnVersion}, so it is not used`,
    };
  }
  return { usable: true, packageName, version, path, build };
}
