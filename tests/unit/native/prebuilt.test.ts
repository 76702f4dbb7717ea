import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addonLines } from '../../../src/cli/commands/doctor.js';
import { NativeLoadError, PrebuiltVersionError, radlearnVersion } from '../../../src/index.js';
import { addonCandidates, loadAddon, tryLoadAddon } from '../../../src/native/addon.js';
import { PREBUILT_TARGETS, findPrebuiltPackage, prebuiltTarget } from '../../../src/native/prebuilt.js';

const root = join(import.meta.dirname, '..', '..', '..');
const hostTarget = prebuiltTarget();

function nodeModule(script: string, env: Record<string, string | undefined> = process.env): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env, encoding: 'utf8' });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** A folder laid out like an installed radlearn with its platform package next to it. */
function fakeInstall(radlearn: string, prebuilt?: { target: string; version: string; binary?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-prebuilt-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'radlearn', version: radlearn }));
  if (prebuilt) {
    const pkg = join(dir, 'node_modules', `radlearn-${prebuilt.target}`);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `radlearn-${prebuilt.target}`, version: prebuilt.version }));
    const file = join(pkg, `radlearn.${prebuilt.target}.node`);
    if (prebuilt.binary === 'corrupt') writeFileSync(file, 'not a shared library');
    else if (prebuilt.binary) symlinkSync(prebuilt.binary, file);
  }
  return dir;
}

/** The addon this suite runs with, and the radlearn version compiled into it (undefined for an addon too old to say). */
const loaded = loadAddon();
const builtVersion = loaded.build?.version;

describe('platform targets', () => {
  it('maps each supported platform to its napi-rs package, and nothing else', () => {
    const cases: Array<[string, string, boolean, string | undefined]> = [
      ['linux', 'x64', true, 'linux-x64-gnu'],
      ['linux', 'x64', false, undefined], // musl: no prebuilt, source build
      ['linux', 'arm64', true, 'linux-arm64-gnu'],
      ['darwin', 'arm64', false, 'darwin-arm64'],
      ['darwin', 'x64', false, undefined],
      ['win32', 'x64', false, 'win32-x64-msvc'],
      ['win32', 'arm64', false, undefined],
      ['freebsd', 'x64', false, undefined],
    ];
    for (const [platform, arch, glibc, expected] of cases) expect(prebuiltTarget(platform, arch, glibc), `${platform}-${arch}`).toBe(expected);
  });

  it('the install script (scripts/prebuilt.mjs) uses the same table as the loader', () => {
    const out = nodeModule(
      `import { PREBUILT_TARGETS, prebuiltTarget } from './scripts/prebuilt.mjs';
       const rows = [['linux','x64',true],['linux','x64',false],['linux','arm64',true],['darwin','arm64',false],['win32','x64',false],['win32','ia32',false]];
       console.log(JSON.stringify({ table: PREBUILT_TARGETS, rows: rows.map(([p, a, g]) => prebuiltTarget(p, a, g) ?? null) }));`,
    );
    expect(out.status, out.stderr).toBe(0);
    const { table, rows } = JSON.parse(out.stdout) as { table: Record<string, string>; rows: Array<string | null> };
    expect(table).toEqual(PREBUILT_TARGETS);
    expect(rows).toEqual(['linux-x64-gnu', null, 'linux-arm64-gnu', 'darwin-arm64', 'win32-x64-msvc', null]);
  });

  it('every target has an npm/<target> package of radlearn\'s version that ships only its binary, and package.json lists its triple', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; napi: { binaryName: string; targets: string[] } };
    expect(manifest.napi.binaryName).toBe('radlearn');
    const triples = nodeModule(`import { TARGET_TRIPLES } from './scripts/prebuilt.mjs'; console.log(JSON.stringify(TARGET_TRIPLES))`);
    const tripleOf = JSON.parse(triples.stdout) as Record<string, string>;
    expect([...manifest.napi.targets].sort()).toEqual(Object.values(PREBUILT_TARGETS).map((t) => tripleOf[t]).sort());
    for (const [platformArch, target] of Object.entries(PREBUILT_TARGETS)) {
      const pkg = JSON.parse(readFileSync(join(root, 'npm', target, 'package.json'), 'utf8')) as Record<string, unknown>;
      const [os, cpu] = platformArch.split('-');
      expect(pkg).toMatchObject({ name: `radlearn-${target}`, version: manifest.version, os: [os], cpu: [cpu], files: [`radlearn.${target}.node`] });
      if (os === 'linux') expect(pkg.libc).toEqual(['glibc']);
      expect(existsSync(join(root, 'npm', target, 'README.md'))).toBe(true);
    }
  });
});

describe('finding the platform package', () => {
  it('finds it next to radlearn, with its version and binary path; undefined when the package of that target is absent', () => {
    const dir = fakeInstall('1.2.3', { target: 'linux-x64-gnu', version: '1.2.3' });
    expect(findPrebuiltPackage(dir, 'linux-x64-gnu')).toEqual({
      packageName: 'radlearn-linux-x64-gnu',
      version: '1.2.3',
      path: join(dir, 'node_modules', 'radlearn-linux-x64-gnu', 'radlearn.linux-x64-gnu.node'),
    });
    expect(findPrebuiltPackage(dir, 'darwin-arm64')).toBeUndefined();
  });
});

describe('the loader', () => {
  const saved = { addon: process.env.RADLEARN_ADDON, fromSource: process.env.RADLEARN_BUILD_FROM_SOURCE };
  afterEach(() => {
    for (const [key, value] of [
      ['RADLEARN_ADDON', saved.addon],
      ['RADLEARN_BUILD_FROM_SOURCE', saved.fromSource],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('tries RADLEARN_ADDON alone; else the local builds, then the prebuilt; RADLEARN_BUILD_FROM_SOURCE=1 leaves the prebuilt out', () => {
    process.env.RADLEARN_ADDON = '/somewhere/radlearn.node';
    expect(addonCandidates().map((c) => [c.source, c.path])).toEqual([['override', '/somewhere/radlearn.node']]);
    delete process.env.RADLEARN_ADDON;
    delete process.env.RADLEARN_BUILD_FROM_SOURCE;
    const candidates = addonCandidates();
    expect(candidates.slice(0, 2).map((c) => [c.source, c.path])).toEqual([
      ['local', join(root, 'build-cmake', 'Release', 'radlearn.node')],
      ['local', join(root, 'build', 'Release', 'radlearn.node')],
    ]);
    if (hostTarget) {
      expect(candidates).toHaveLength(3);
      expect(candidates[2]).toMatchObject({ source: 'prebuilt' });
      expect(candidates[2]!.path).toContain(`radlearn.${hostTarget}.node`);
      expect(candidates[2]!.fix).toContain('RADLEARN_BUILD_FROM_SOURCE=1 npm rebuild radlearn');
    } else {
      expect(candidates).toHaveLength(2);
    }
    process.env.RADLEARN_BUILD_FROM_SOURCE = '1';
    expect(addonCandidates().map((c) => c.source)).toEqual(['local', 'local']);
  });

  it('refuses a prebuilt whose package is another radlearn version, without loading it: PrebuiltVersionError', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'radlearn-prebuilt-')), 'never-loaded.node'); // need not even exist
    let error: unknown;
    try {
      tryLoadAddon([{ path, fix: 'install the right one', source: 'prebuilt', package: { name: 'radlearn-linux-x64-gnu', version: '0.0.9' } }], '0.1.0');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrebuiltVersionError);
    expect(error).toBeInstanceOf(NativeLoadError);
    const refusal = error as PrebuiltVersionError;
    expect(refusal.code).toBe('ERR_PREBUILT_VERSION');
    expect(refusal).toMatchObject({ packageName: 'radlearn-linux-x64-gnu', prebuiltVersion: '0.0.9', radlearnVersion: '0.1.0' });
    expect(refusal.message).toContain('the installed prebuilt radlearn-linux-x64-gnu is for radlearn 0.0.9, and this is radlearn 0.1.0');
    expect(refusal.attempts).toEqual([
      {
        path,
        code: 'ERR_PREBUILT_VERSION',
        error: 'radlearn-linux-x64-gnu@0.0.9 is for radlearn 0.0.9, and this is radlearn 0.1.0; a prebuilt addon is used only with the radlearn version it was built from',
        fix: 'install the right one',
      },
    ]);
  });

  it('refuses a prebuilt binary compiled from another version even when its package.json claims this one', () => {
    const claimed = '9.9.9-not-this-build';
    expect(() =>
      tryLoadAddon([{ path: loaded.path, fix: 'x', source: 'prebuilt', package: { name: 'radlearn-linux-x64-gnu', version: claimed } }], claimed),
    ).toThrow(`the binary in radlearn-linux-x64-gnu@${claimed} is for radlearn ${builtVersion ?? 'an unknown version'}, and this is radlearn ${claimed}`);
  });

  it('a local build that loads is used as before; the prebuilt is tried after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-prebuilt-'));
    const local = tryLoadAddon(
      [
        { path: loaded.path, fix: 'x', source: 'local' },
        { path: join(dir, 'missing.node'), fix: 'y', source: 'prebuilt', package: { name: 'radlearn-linux-x64-gnu', version: radlearnVersion() } },
      ],
      '9.9.9',
    );
    expect(local.source).toBe('local');
    expect(local.path).toBe(loaded.path);
  });

  it.skipIf(builtVersion === undefined)('loads a prebuilt of the same version after missing local builds, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-prebuilt-'));
    const version = builtVersion!;
    const result = tryLoadAddon(
      [
        { path: join(dir, 'build-cmake', 'radlearn.node'), fix: 'x', source: 'local' },
        { path: loaded.path, fix: 'y', source: 'prebuilt', package: { name: 'radlearn-linux-x64-gnu', version } },
      ],
      version,
    );
    expect(result).toMatchObject({ source: 'prebuilt', path: loaded.path, package: { name: 'radlearn-linux-x64-gnu', version } });
    expect(result.build?.version).toBe(version);
  });
});

describe('the install script', () => {
  const findPrebuilt = (dir: string): { usable: boolean; reason?: string; packageName?: string; version?: string } => {
    const out = nodeModule(`import { findPrebuilt } from './scripts/prebuilt.mjs'; console.log(JSON.stringify(findPrebuilt(${JSON.stringify(dir)})))`);
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as { usable: boolean; reason?: string };
  };

  it.skipIf(!hostTarget)('reports why the prebuilt is not used: absent, another version, or not loadable here', () => {
    const target = hostTarget!;
    expect(findPrebuilt(fakeInstall('1.0.0'))).toEqual({ usable: false, reason: `the prebuilt package radlearn-${target} is not installed` });
    const other = findPrebuilt(fakeInstall('1.0.0', { target, version: '0.9.0', binary: 'corrupt' }));
    expect(other.usable).toBe(false);
    expect(other.reason).toContain(`radlearn-${target}@0.9.0 belongs to radlearn 0.9.0, not to this radlearn 1.0.0, so it is not used`);
    const corrupt = findPrebuilt(fakeInstall('1.0.0', { target, version: '1.0.0', binary: 'corrupt' }));
    expect(corrupt.usable).toBe(false);
    expect(corrupt.reason).toMatch(/does not load here/);
    const compiledElsewhere = findPrebuilt(fakeInstall('7.7.7', { target, version: '7.7.7', binary: loaded.path }));
    expect(compiledElsewhere.usable).toBe(false);
    expect(compiledElsewhere.reason).toContain('not 7.7.7, so it is not used');
  });

  it.skipIf(!hostTarget || builtVersion === undefined)('compiles nothing when the prebuilt fits, and builds from source when asked to', () => {
    const target = hostTarget!;
    const dir = fakeInstall(builtVersion!, { target, version: builtVersion!, binary: loaded.path });
    cpSync(join(root, 'scripts'), join(dir, 'scripts'), { recursive: true });
    // A PATH with node alone: if the script tried to compile, it could not.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = { HOME: process.env.HOME, PATH: bin };
    const script = join(dir, 'scripts', 'build-native.mjs');
    const prebuilt = spawnSync(process.execPath, [script], { cwd: dir, env, encoding: 'utf8' });
    expect(prebuilt.status, prebuilt.stderr).toBe(0);
    expect(prebuilt.stderr).toContain(`using the prebuilt addon radlearn-${target}@${builtVersion}`);
    expect(prebuilt.stderr).not.toContain('$ ');
    const source = spawnSync(process.execPath, [script], { cwd: dir, env: { ...env, RADLEARN_BUILD_FROM_SOURCE: '1' }, encoding: 'utf8' });
    expect(source.stderr).toContain('RADLEARN_BUILD_FROM_SOURCE=1: building from source');
    expect(source.stderr).not.toContain('using the prebuilt');
    expect(source.status).toBe(1); // nothing to compile with, and no sources in this folder
  });
});

describe('radlearn doctor', () => {
  const build = {
    version: '0.4.0',
    builder: 'cmake-js',
    compiler: 'GCC 12.2.0',
    flags: 'Release -O3 nvcc-13.0.88 -lineinfo cudart-static',
    isa: 'x86-64',
    cudaArchs: '80-real,90-virtual',
  };

  it('says which addon was loaded, its version, build, flags and CUDA architectures', () => {
    expect(addonLines({ source: 'prebuilt', package: 'radlearn-linux-x64-gnu@0.4.0', build }, '0.4.0')).toEqual([
      'addon source:   prebuilt package radlearn-linux-x64-gnu@0.4.0',
      'addon version:  0.4.0',
      'addon build:    cmake-js, GCC 12.2.0',
      'build flags:    Release -O3 nvcc-13.0.88 -lineinfo cudart-static',
      'cpu isa:        x86-64',
      'cuda archs:     80-real,90-virtual',
    ]);
    const local = addonLines({ source: 'local', build: { ...build, builder: 'node-gyp', cudaArchs: null, isa: 'x86-64 sse4.2 avx avx2 fma' } }, '0.5.0');
    expect(local).toContain('addon source:   local build');
    expect(local).toContain('addon version:  0.4.0 (compiled from other sources: this is radlearn 0.5.0)');
    expect(local).toContain('cuda archs:     none (built without CUDA)');
    expect(addonLines({ source: 'override' }, '0.4.0')).toEqual([
      'addon source:   RADLEARN_ADDON override',
      'addon build:    not reported (an addon built before radlearn reported it; rebuild it)',
    ]);
  });
});
