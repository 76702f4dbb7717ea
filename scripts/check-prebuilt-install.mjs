#!/usr/bin/env node
// Proves a toolchain-free install: packs radlearn and this machine's platform package
// (scripts/pack-prebuilt.mjs), installs both tarballs into a fresh folder with a PATH that holds
// node, npm, npx and sh only (no cc, c++, cmake, make, python3 or nvcc), then checks that the install
// script compiled nothing, that `radlearn doctor` reports the prebuilt of this version, and that
// a small training run works from that folder. Exit code 1 on the first failed check.
//   --addon PATH      the addon to ship (default: what scripts/build-prebuilt.mjs wrote)
//   --demo            also run `radlearn demo --frozen` there (about a minute on 2 cores)
//   --source-build    also time today's path for comparison: the radlearn tarball alone, full PATH,
//                     so its install script compiles the addon (minutes)
//   --keep            keep the install folders (their paths are printed)
// Prints the timings as JSON on the last line. Runs in CI (.ci/run) with the CI's own build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const addonIndex = argv.indexOf('--addon');
const addonArg = addonIndex >= 0 && argv[addonIndex + 1] ? resolve(argv[addonIndex + 1]) : undefined;
const TOOLCHAIN = ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'cmake', 'make', 'python3', 'python', 'nvcc'];

function log(message) {
  process.stderr.write(`check-prebuilt-install: ${message}\n`);
}

let work; // the install folders, removed at the end unless --keep

function fail(message) {
  log(`FAILED: ${message}`);
  if (work && !flag('--keep')) rmSync(work, { recursive: true, force: true });
  else if (work) log(`kept ${work}`);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
  log(`ok: ${message}`);
}

function run(command, args, options) {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0)
    fail(`\`${[command, ...args].join(' ')}\` exited with ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr, seconds };
}

// 1. The tarballs.
const packArgs = [join(root, 'scripts', 'pack-prebuilt.mjs'), ...(addonArg ? ['--addon', addonArg] : [])];
const packed = JSON.parse(run(process.execPath, packArgs, { cwd: root }).stdout);
log(`packed ${packed.radlearn} and ${packed.platform}`);
const listing = run('tar', ['-tzf', packed.platform]).stdout.trim().split('\n').sort();
const binaryName = `radlearn.${packed.target}.node`;
check(
  JSON.stringify(listing) === JSON.stringify(['package/README.md', `package/${binaryName}`, 'package/package.json'].sort()),
  `the platform tarball holds the binary, its README and package.json only (${listing.join(', ')})`,
);
const shipped = addonArg ?? join(root, 'build-prebuilt', 'artifacts', `bindings-${packed.target}`, binaryName);
const expected = JSON.parse(run(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(shipped)}).buildInfo())`]).stdout);

// 2. The CUDA runtime is inside the binary, and nothing it needs is missing (Linux).
if (process.platform === 'linux') {
  const ldd = spawnSync('ldd', [shipped], { encoding: 'utf8' });
  if (ldd.status === 0) {
    check(!/libcudart|libcuda\.so|libcublas|libnvrtc/.test(ldd.stdout), 'the addon links no CUDA library dynamically (ldd)');
    check(!/not found/.test(ldd.stdout), 'every shared library the addon needs is found (ldd)');
  } else {
    log('ldd is not available; skipped the shared-library check');
  }
}

// 3. A PATH with node, npm, npx and sh only.
work = mkdtempSync(join(tmpdir(), 'radlearn-install-check-'));
const bin = join(work, 'bin');
mkdirSync(bin);
const npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
symlinkSync(process.execPath, join(bin, 'node'));
symlinkSync(npmCli, join(bin, 'npm'));
symlinkSync(join(dirname(npmCli), 'npx-cli.js'), join(bin, 'npx'));
// npm runs lifecycle scripts through `sh`, found on PATH.
symlinkSync(realpathSync(spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim()), join(bin, 'sh'));
const cache = spawnSync('npm', ['config', 'get', 'cache'], { cwd: work, encoding: 'utf8' }).stdout.trim();
const passed = ['HOME', 'TMPDIR', 'LANG', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
const passedNpm = ['npm_config_registry', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'];
const baseEnv = Object.fromEntries([...passed, ...passedNpm].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
// onnxruntime-node would download its CUDA provider otherwise (the repository's .npmrc says the same).
Object.assign(baseEnv, { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_cache: cache, npm_config_update_notifier: 'false' });
const strippedEnv = { ...baseEnv, PATH: bin };
const onPath = (tool, path) => path.split(delimiter).some((dir) => dir && existsSync(join(dir, tool)));
const present = TOOLCHAIN.filter((tool) => onPath(tool, strippedEnv.PATH));
check(present.length === 0, `no ${TOOLCHAIN.join(', ')} on the install's PATH`);

function freshProject(name) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `radlearn-${name}`, private: true }));
  return dir;
}

// 4. The toolchain-free install.
const app = freshProject('prebuilt');
const install = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', packed.radlearn, packed.platform], {
  cwd: app,
  env: strippedEnv,
});
const installLog = install.stdout + install.stderr;
log(`installed in ${install.seconds.toFixed(1)} s`);
check(/using the prebuilt addon radlearn-/.test(installLog), "radlearn's install script found the prebuilt");
check(!/building from source|\$ .*cmake-js|node-gyp/.test(installLog), "radlearn's install script compiled nothing");
const installed = join(app, 'node_modules', 'radlearn');
check(!existsSync(join(installed, 'build-cmake')) && !existsSync(join(installed, 'build')), 'no build folder in node_modules/radlearn');

// 5. doctor, from that folder, with the stripped PATH.
const radlearnBin = join(app, 'node_modules', '.bin', 'radlearn');
const cli = (args, cwd = app) => run(radlearnBin, args, { cwd, env: strippedEnv });
const doctor = JSON.parse(cli(['doctor', '--json']).stdout);
const platformName = `radlearn-${packed.target}`;
check(doctor.addon?.source === 'prebuilt', `doctor: the addon is the prebuilt (${doctor.addon?.source})`);
check(doctor.addon?.package === `${platformName}@${packed.version}`, `doctor: from ${doctor.addon?.package}`);
check(
  realpathSync(doctor.addonPath) === realpathSync(join(app, 'node_modules', platformName, binaryName)),
  `doctor: loaded ${doctor.addonPath}`,
);
check(doctor.addon?.build?.version === packed.version, `doctor: compiled from radlearn ${doctor.addon?.build?.version}`);
check(doctor.addon?.build?.cudaArchs === expected.cudaArchs, `doctor: CUDA architectures ${doctor.addon?.build?.cudaArchs}`);
check(doctor.cudaCompiled === (expected.cudaArchs !== null), `doctor: cudaCompiled ${doctor.cudaCompiled}`);
const doctorText = cli(['doctor']).stdout;
process.stderr.write(`${doctorText.trimEnd().replace(/^/gm, '    ')}\n`);
check(doctorText.includes(`addon source:   prebuilt package ${platformName}@${packed.version}`), 'doctor prints where the addon came from');

// 6. A small training run: the phantom dataset, two contrastive steps.
const data = join(app, 'phantom');
cli(['phantom', '--out', data, '--n', '24', '--size', '64', '--seed', '1']);
const config = join(app, 'tiny.json');
writeFileSync(
  config,
  JSON.stringify({
    name: 'tiny',
    mode: 'contrastive',
    runsDir: join(app, 'runs'),
    steps: 2,
    batchSize: 4,
    data: { manifest: join(data, 'manifest.csv') },
    image: { size: 32 },
    text: { vocabSize: 64, maxLength: 32 },
    eval: { linearProbe: false, zeroShot: false },
  }),
);
const train = cli(['train', '-c', config]);
const metrics = readFileSync(join(app, 'runs', 'tiny', 'metrics.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
const steps = metrics.filter((record) => record.type === 'step');
check(
  steps.at(-1)?.step === 2 && steps.every((record) => Number.isFinite(record.loss)),
  `trained 2 steps, finite losses (${steps.map((r) => r.loss).join(', ')})`,
);
const result = { install: { prebuilt: Number(install.seconds.toFixed(1)) }, train: Number(train.seconds.toFixed(1)) };

if (flag('--demo')) {
  const demo = cli(['demo', '--frozen', '--out', join(app, 'demo')]);
  const report = join(app, 'demo', 'runs', 'demo-frozen', 'report.md');
  check(
    existsSync(report) && /AUROC/.test(readFileSync(report, 'utf8')),
    `radlearn demo --frozen wrote ${report} with AUROC rows (${demo.seconds.toFixed(0)} s)`,
  );
  result.demo = Number(demo.seconds.toFixed(1));
}

// 7. For comparison: today's path, compiling from source in the same kind of fresh folder.
if (flag('--source-build')) {
  const source = freshProject('source');
  const sourceEnv = { ...baseEnv, PATH: process.env.PATH ?? '' };
  const built = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', packed.radlearn], {
    cwd: source,
    env: sourceEnv,
  });
  log(`source install in ${built.seconds.toFixed(1)} s`);
  check(/building from source/.test(built.stdout + built.stderr), 'without the platform package, the install script builds from source');
  const sourceDoctor = JSON.parse(
    run(join(source, 'node_modules', '.bin', 'radlearn'), ['doctor', '--json'], { cwd: source, env: sourceEnv }).stdout,
  );
  check(sourceDoctor.addon?.source === 'local', `source install: doctor reports a local build (${sourceDoctor.addon?.build?.flags})`);
  result.install.source = Number(built.seconds.toFixed(1));
}

if (flag('--keep')) log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
for (const leftover of readdirSync(dirname(packed.radlearn)).filter((f) => f.endsWith('.tgz')))
  log(`tarball: ${join(dirname(packed.radlearn), leftover)}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
