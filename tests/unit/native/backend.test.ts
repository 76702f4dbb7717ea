import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NativeLoadError, backendInfo, setThreads, similaritySync } from '../../../src/index.js';
import { tryLoadAddon } from '../../../src/native/addon.js';
import { randomFloats } from '../../helpers/random.js';

const root = join(import.meta.dirname, '..', '..', '..');

function runNode(script: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('native loader', () => {
  it('lists every attempt and its fix when nothing loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-loader-'));
    const corrupt = join(dir, 'corrupt.node');
    writeFileSync(corrupt, 'not a shared library');
    let error: unknown;
    try {
      tryLoadAddon([
        { path: join(dir, 'missing.node'), fix: 'build it', source: 'local' },
        { path: corrupt, fix: 'rebuild it', source: 'local' },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NativeLoadError);
    const loadError = error as NativeLoadError;
    expect(loadError.code).toBe('ERR_NATIVE_LOAD');
    expect(loadError.attempts).toHaveLength(2);
    expect(loadError.attempts[0]).toMatchObject({ error: 'not built', fix: 'build it' });
    expect(loadError.message).toContain(corrupt);
    expect(loadError.message).toContain('fix:   rebuild it');
  });

  it('an explicit RADLEARN_ADDON that does not exist is reported, not bypassed', () => {
    const out = runNode(
      "import('./src/index.ts').then(m => { try { m.backendInfo() } catch (e) { console.log(e.code + '|' + e.attempts.length) } })",
      { RADLEARN_ADDON: '/nonexistent/radlearn.node' },
    );
    expect(out.trim()).toBe('ERR_NATIVE_LOAD|1');
  });
});

describe('backendInfo', () => {
  it('reports the CPU backend here with a reason, and whether CUDA was compiled', () => {
    const info = backendInfo();
    expect(info.threads).toBeGreaterThan(0);
    expect(typeof info.cudaCompiled).toBe('boolean');
    if (!info.device) {
      expect(info.backend).toBe('cpu');
      expect(info.fallbackReason).toBeTruthy();
    }
  });

  it('honours RADLEARN_DEVICE=cpu and refuses RADLEARN_DEVICE=cuda without a device, saying why', () => {
    const cpu = runNode("import('./src/index.ts').then(m => console.log(JSON.stringify(m.backendInfo())))", {
      RADLEARN_DEVICE: 'cpu',
    });
    expect(JSON.parse(cpu)).toMatchObject({ backend: 'cpu', fallbackReason: 'RADLEARN_DEVICE=cpu' });
    if (backendInfo().device) return;
    const cuda = runNode(
      "import('./src/index.ts').then(m => { try { m.backendInfo() } catch (e) { console.log(e.code + '|' + e.message) } })",
      { RADLEARN_DEVICE: 'cuda' },
    );
    expect(cuda).toMatch(/^ERR_BACKEND_UNAVAILABLE\|RADLEARN_DEVICE=cuda but CUDA is not usable: /);
  });

  it('gives bit-identical results whatever the thread count', () => {
    const [n, m, d] = [200, 150, 70];
    const a = randomFloats(n * d, 1);
    const b = randomFloats(m * d, 2);
    try {
      setThreads(1);
      const one = similaritySync(a, b, { n, m, d, backend: 'cpu' });
      setThreads(3);
      const three = similaritySync(a, b, { n, m, d, backend: 'cpu' });
      expect(Buffer.from(three.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    } finally {
      setThreads(0);
    }
  });
});

describe('RADLEARN_TRACE', () => {
  it('writes a Chrome trace with the native ops and TS spans', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'radlearn-trace-')), 'trace.json');
    runNode(
      `import('./src/index.ts').then(async (m) => {
        const a = new Float32Array(64).fill(0.5);
        await m.traceSpan('load batch', 'data', () => m.similaritySync(a, a, { n: 8, m: 8, d: 8, backend: 'cpu' }));
        await m.l2Normalize(a, { rows: 8, dim: 8, backend: 'cpu' });
      })`,
      { RADLEARN_TRACE: file },
    );
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; dur: number }> };
    const names = trace.traceEvents.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['similarity', 'l2norm_forward', 'load batch']));
    for (const event of trace.traceEvents) {
      expect(event.ph).toBe('X');
      expect(event.dur).toBeGreaterThanOrEqual(0);
    }
  });
});
