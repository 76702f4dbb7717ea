#!/usr/bin/env node
// Builds the native addon (the package's `install` script). First, without --force: when the
// prebuilt platform package for this machine is installed (radlearn-<platform>, an optional
// dependency), is of this radlearn version and loads here, nothing is compiled. Otherwise, or
// with RADLEARN_BUILD_FROM_SOURCE=1, the order of attempts is:
//   1. cmake-js (CMakeLists.txt, the build of record; CUDA when nvcc is found) -> build-cmake/
//   2. if that was a CUDA build and it failed: cmake-js again with RADLEARN_CUDA=0, with a warning
//   3. if CMake is missing (or both failed): node-gyp, CPU only (binding.gyp)           -> build/
// RADLEARN_SKIP_BUILD=1 skips everything. Exit code 1 only when no build succeeded.
// --out DIR builds with cmake-js only, into DIR (scripts/build-prebuilt.mjs uses it).
// RADLEARN_WERROR=1 (CI): compiler warnings are errors in every build (CMake: -DRADLEARN_WERROR=ON;
// binding.gyp reads the variable itself), and a failed build is not retried in a weaker form
// (steps 2 and 3 are skipped), so a warning fails the build instead of falling back.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPrebuilt } from './prebuilt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const args = new Set(argv);
const outIndex = argv.indexOf('--out');
const outDir = outIndex >= 0 ? argv[outIndex + 1] : undefined;
const werror = process.env.RADLEARN_WERROR === '1';

function log(message) {
  process.stderr.write(`radlearn build: ${message}\n`);
}

function run(command, commandArgs, env = {}) {
  log(`$ ${[command, ...commandArgs].join(' ')}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function has(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

// The switches CMake reads at configure time; when they change, the build dir is reconfigured.
function configureKey(env) {
  const merged = { ...process.env, ...env };
  return JSON.stringify(['RADLEARN_CUDA', 'RADLEARN_CUDA_ARCHS', 'RADLEARN_NATIVE_ARCH', 'RADLEARN_WERROR'].map((k) => merged[k] ?? ''));
}

function cmakeJs(env, out = 'build-cmake') {
  const cli = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const parallel = String(Math.max(1, Number(process.env.RADLEARN_BUILD_JOBS) || 2));
  const stamp = join(resolve(root, out), 'radlearn-configure.json');
  const key = configureKey(env);
  const same = existsSync(stamp) && readFileSync(stamp, 'utf8') === key;
  // `compile` reuses an existing configuration; `rebuild` reconfigures from scratch.
  const werrorDefine = `--CDRADLEARN_WERROR=${werror ? 'ON' : 'OFF'}`;
  const ok = run(process.execPath, [cli, same ? 'compile' : 'rebuild', '--out', out, '--parallel', parallel, werrorDefine], env);
  if (ok) {
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, key);
  }
  return ok;
}

// node-gyp ships with npm; npm tells lifecycle scripts where it is.
function nodeGypPath() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : null;
}

// node-gyp would download Node's headers; point it at the installed ones instead (offline).
function nodeDirArgs() {
  const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')].filter(Boolean);
  for (const dir of candidates) if (existsSync(join(dir, 'include', 'node', 'common.gypi'))) return [`--nodedir=${dir}`];
  return [];
}

export function nodeGyp() {
  const gyp = nodeGypPath();
  if (!gyp) {
    log('node-gyp was not found next to npm');
    return false;
  }
  return run(process.execPath, [gyp, 'rebuild', ...nodeDirArgs()]);
}

function main() {
  if (process.env.RADLEARN_SKIP_BUILD === '1' && !args.has('--force')) {
    log('skipped (RADLEARN_SKIP_BUILD=1)');
    return 0;
  }
  if (args.has('--gyp')) return nodeGyp() ? 0 : 1;
  if (outDir !== undefined) {
    if (!outDir || outDir.startsWith('--')) {
      log('--out needs a folder');
      return 1;
    }
    return cmakeJs({}, outDir) ? 0 : 1;
  }
  if (!args.has('--force')) {
    if (process.env.RADLEARN_BUILD_FROM_SOURCE === '1') {
      log('RADLEARN_BUILD_FROM_SOURCE=1: building from source, not using a prebuilt addon');
    } else {
      const prebuilt = findPrebuilt(root);
      if (prebuilt.usable) {
        log(`using the prebuilt addon ${prebuilt.packageName}@${prebuilt.version} (${prebuilt.path}); nothing to compile`);
        log('(RADLEARN_BUILD_FROM_SOURCE=1 npm rebuild radlearn builds from source instead)');
        return 0;
      }
      log(`${prebuilt.reason}; building from source`);
    }
  }
  if (has('cmake')) {
    const cudaWanted = process.env.RADLEARN_CUDA !== '0';
    if (cmakeJs({})) return 0;
    if (werror) {
      log('the CMake build failed with RADLEARN_WERROR=1 (warnings are errors); not falling back to a weaker build');
      return 1;
    }
    if (cudaWanted) {
      log('WARNING: the CUDA build failed; retrying CPU-only (RADLEARN_CUDA=0). GPU kernels will be unavailable.');
      if (cmakeJs({ RADLEARN_CUDA: '0' })) return 0;
    }
    log('CMake build failed; trying node-gyp (CPU only)');
  } else {
    log('CMake not found; building CPU-only with node-gyp');
  }
  if (nodeGyp()) return 0;
  log('no build succeeded. Install CMake (and a C++17 compiler), then run `npm run build:native`.');
  return 1;
}

process.exitCode = main();
