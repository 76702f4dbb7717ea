// The CI subset of the committed fuzz harness (fuzz/run.ts --ci): every surface, fixed seed,
// bounded counts. It fails on any crash, hang or untyped error, and prints the replay command
// of each failing case. `npm run fuzz` runs the full 10 000 cases per surface.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('fuzz harness (CI subset)', () => {
  it('no crash, no hang and no untyped error on any surface', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'fuzz', 'run.ts'), '--ci'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 280_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.signal, output).toBeNull();
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/fuzz: no crash, no hang, no untyped error/);
    for (const surface of ['dicom', 'image', 'kernels', 'labeler'])
      expect(output).toMatch(new RegExp(`^${surface} +\\d+ cases .* untyped 0 +crash 0 +hang 0`, 'm'));
  }, 300_000);
});
