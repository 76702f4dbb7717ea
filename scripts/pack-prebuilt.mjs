#!/usr/bin/env node
// Packs installable tarballs of this machine's release: radlearn itself and its platform package
// with a prebuilt addon, made with the same @napi-rs/cli steps as the release workflow
// (.github/workflows/prebuilt.yml): `napi artifacts` puts the binary into npm/<target>/, and
// `napi pre-publish` checks that package, gives it radlearn's version and adds it to radlearn's
// optionalDependencies. Everything happens in a staging copy: the repository is left as it is.
//   --addon PATH   the .node file to ship (default: what scripts/build-prebuilt.mjs wrote)
//   --out DIR      where the tarballs go (default build-prebuilt/pack)
// Prints { target, radlearn, platform } (tarball paths) as JSON. dist/ must be built (npm run build:ts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGET_TRIPLES, prebuiltTarget } from './prebuilt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function fail(message) {
  process.stderr.write(`radlearn pack-prebuilt: ${message}\n`);
  process.exit(1);
}

function option(name) {
  const index = process.argv.indexOf(name);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (!value || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) fail(`\`${[command, ...args].join(' ')}\` in ${cwd} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** `npm pack` of a folder into `dest`; returns the tarball's path. Scripts are not run: dist/ is already built. */
function npmPack(dir, dest) {
  const [entry] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], dir));
  return join(dest, entry.filename);
}

/** The napi command of the installed @napi-rs/cli (a devDependency). */
function napiCli() {
  let manifestPath;
  try {
    manifestPath = require.resolve('@napi-rs/cli/package.json');
  } catch {
    fail('@napi-rs/cli is not installed (it is a devDependency: run npm install)');
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.napi;
  return join(dirname(manifestPath), bin);
}

const target = prebuiltTarget();
if (!target) fail(`no platform package is defined for ${process.platform}-${process.arch}`);
const addon = resolve(option('--addon') ?? join(root, 'build-prebuilt', 'artifacts', `bindings-${target}`, `radlearn.${target}.node`));
if (!existsSync(addon)) fail(`no addon at ${addon} (run node scripts/build-prebuilt.mjs, or pass --addon PATH)`);
if (!existsSync(join(root, 'dist', 'src', 'index.js'))) fail('dist/ is not built (npm run build:ts)');
const out = resolve(option('--out') ?? join(root, 'build-prebuilt', 'pack'));
mkdirSync(out, { recursive: true });
const napi = napiCli();

// radlearn's tarball as `npm pack` makes it, unpacked into the staging folder as package/.
const stage = mkdtempSync(join(tmpdir(), 'radlearn-pack-'));
try {
  const first = npmPack(root, stage);
  run('tar', ['-xzf', first, '-C', stage], stage);
  rmSync(first);
  const pkg = join(stage, 'package');

  // The platform package folder, and a napi config naming only the target built here.
  cpSync(join(root, 'npm', target), join(pkg, 'npm', target), { recursive: true });
  writeFileSync(join(pkg, 'napi.pack.json'), JSON.stringify({ binaryName: 'radlearn', targets: [TARGET_TRIPLES[target]] }));
  const artifacts = join(pkg, 'artifacts', `bindings-${target}`);
  mkdirSync(artifacts, { recursive: true });
  copyFileSync(addon, join(artifacts, `radlearn.${target}.node`));
  run(process.execPath, [napi, 'artifacts', '-c', 'napi.pack.json', '--output-dir', 'artifacts', '--npm-dir', 'npm'], pkg);
  run(process.execPath, [napi, 'pre-publish', '-c', 'napi.pack.json', '-t', 'npm', '--skip-optional-publish', '--no-gh-release'], pkg);

  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  const platformManifest = JSON.parse(readFileSync(join(pkg, 'npm', target, 'package.json'), 'utf8'));
  const platformName = `radlearn-${target}`;
  if (manifest.optionalDependencies?.[platformName] !== manifest.version)
    fail(`napi pre-publish did not add ${platformName}@${manifest.version} to optionalDependencies`);
  if (platformManifest.version !== manifest.version)
    fail(`${platformName} has version ${platformManifest.version}, radlearn ${manifest.version}`);

  const platform = npmPack(join(pkg, 'npm', target), out);
  const radlearn = npmPack(pkg, out);
  process.stdout.write(`${JSON.stringify({ target, version: manifest.version, radlearn, platform }, null, 2)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
