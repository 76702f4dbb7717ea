import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'radlearn.js');

describe('radlearn doctor', () => {
  it('prints the backend, the addon, threads and why CUDA is or is not used', () => {
    const out = execFileSync(process.execPath, [cli, 'doctor'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/^backend: +(cpu|cuda)$/m);
    expect(out).toMatch(/^addon: +.*radlearn(\.[a-z0-9-]+)?\.node$/m);
    expect(out).toMatch(/^addon source: +(prebuilt package radlearn-[a-z0-9-]+@\S+|local build|RADLEARN_ADDON override)$/m);
    expect(out).toMatch(/^cpu threads: +\d+/m);
    expect(out).toMatch(/^onnxruntime: +execution providers .*cpu/m);
    if (/^backend: +cpu$/m.test(out)) expect(out).toMatch(/^why not cuda: +\S/m);
  });

  it('prints JSON with --json', () => {
    const info = JSON.parse(execFileSync(process.execPath, [cli, 'doctor', '--json'], { cwd: root, encoding: 'utf8' }));
    expect(['cpu', 'cuda']).toContain(info.backend);
    expect(typeof info.cudaCompiled).toBe('boolean');
    expect(['prebuilt', 'local', 'override']).toContain(info.addon.source);
    if (process.env.RADLEARN_ADDON) expect(info.addon.source).toBe('override');
  });

  it('import("radlearn") resolves to the package from the repo', () => {
    const out = execFileSync(process.execPath, ['-e', "import('radlearn').then(m => console.log(m.backendInfo().backend))"], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(['cpu', 'cuda']).toContain(out.trim());
  });
});
