#!/usr/bin/env node
// Builds the addon for this machine's platform package (npm/<target>/), the way a release does:
// cmake-js only, portable CPU code (RADLEARN_NATIVE_ARCH=0: no -march=native, so it runs on any
// CPU of the architecture), CUDA with the default architectures plus PTX and cudart linked
// statically where the target has CUDA (no driver needed to load). Writes
//   build-prebuilt/artifacts/bindings-<target>/radlearn.<target>.node
// the layout `napi artifacts` reads (the release workflow downloads its CI artifacts the same way).
//   --cpu-only      allow a build without CUDA on a CUDA target (a test package, never a release)
// Exit code 1 when the build fails or the binary is not what the target needs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuiltTarget } from './prebuilt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cpuOnly = process.argv.includes('--cpu-only');
/** Targets whose prebuilt carries CUDA kernels (there is no CUDA on macOS). */
export const CUDA_TARGETS = new Set(['linux-x64-gnu', 'linux-arm64-gnu', 'win32-x64-msvc']);

function fail(message) {
  process.stderr.write(`radlearn build-prebuilt: ${message}\n`);
  process.exit(1);
}

const target = prebuiltTarget();
if (!target) fail(`no platform package is defined for ${process.platform}-${process.arch}`);
const version = JSON.parse(
  spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: root, encoding: 'utf8' }).stdout,
);

const env = { ...process.env, RADLEARN_NATIVE_ARCH: '0' };
delete env.RADLEARN_CUDA_ARCHS; // the default architectures, whatever the caller's shell says
if (cpuOnly) env.RADLEARN_CUDA = '0';
const out = join('build-prebuilt', 'cmake');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--force', '--out', out], {
  cwd: root,
  env,
  stdio: 'inherit',
});
if (build.status !== 0) fail('the build failed');

const built = join(root, out, 'Release', 'radlearn.node');
const probe = spawnSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(built)}).buildInfo())`], { encoding: 'utf8' });
if (probe.status !== 0) fail(`the built addon does not load: ${probe.stderr}`);
const info = JSON.parse(probe.stdout);
if (info.version !== version) fail(`the built addon says radlearn ${info.version}, package.json says ${version}`);
if (/-march=native/.test(info.flags))
  fail(`the build was tuned for this CPU (${info.flags}); a prebuilt must run on any ${process.arch} CPU`);
if (CUDA_TARGETS.has(target) && !cpuOnly && !info.cudaArchs)
  fail(`${target} ships CUDA kernels, but nvcc was not found (pass --cpu-only for a CPU-only test package)`);

const dest = join(root, 'build-prebuilt', 'artifacts', `bindings-${target}`, `radlearn.${target}.node`);
mkdirSync(dirname(dest), { recursive: true });
copyFileSync(built, dest);
process.stdout.write(`${JSON.stringify({ target, path: dest, build: info }, null, 2)}\n`);
