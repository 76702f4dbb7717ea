import { expect, it, vi } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCache } from '../../../src/cli/commands/cache.js';

// src/cli/main.ts reads package.json relative to dist/, so tests register the command on a bare program.
function buildProgram(): Command {
  const program = new Command('radlearn');
  registerCache(program);
  return program;
}
import { openImageCache, writeDicom } from '../../../src/index.js';
import { syntheticPixels } from '../dicom/fixtures.js';

it('radlearn cache build prints progress and a summary with failures and their codes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-cli-cache-'));
  for (let i = 0; i < 5; i++) {
    const rows = 70 + i,
      columns = 90 - i;
    await writeFile(
      join(dir, `i${i}.dcm`),
      writeDicom({ rows, columns, bitsAllocated: 16, pixels: syntheticPixels({ rows, columns, bitsAllocated: 16, seed: i }) }),
    );
  }
  await writeFile(join(dir, 'junk.dcm'), Buffer.from('definitely not a dicom file, just text'.repeat(8)));
  const out = join(dir, 'cache');
  const stdout: string[] = [],
    stderr: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout.push(String(c));
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr.push(String(c));
    return true;
  });
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync([
        'node',
        'radlearn',
        'cache',
        'build',
        dir,
        '--out',
        out,
        '--size',
        '32',
        '--dtype',
        'uint8',
        '--workers',
        '0',
        '--fit',
        'squareStretch',
      ]);
    await buildProgram().exitOverride().parseAsync(['node', 'radlearn', 'cache', 'info', out]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const text = stdout.join('');
  expect(text).toContain('6 inputs, 5 decoded, 0 reused, 1 failed');
  expect(text).toMatch(/ERR_IMAGE_FORMAT\s+\S*junk\.dcm: not a DICOM, PNG or JPEG file \(the name says DICOM, the content is not\): text/);
  expect(text).toMatch(/images\/s decoded/);
  expect(text).toContain('32x32x1 (5)');
  expect(stderr.join('')).toMatch(/cache \[#+\] 6\/6/);
  const cache = await openImageCache(out);
  expect(cache.length).toBe(5);
  expect(cache.get(0)).toBeInstanceOf(Uint8Array);
});
