import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { registerLabel } from '../../../src/cli/commands/label.js';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';

// src/cli/main.ts reads package.json relative to dist/, so tests register the command on a bare program.
async function run(args: string[]): Promise<string> {
  const program = new Command('radlearn');
  registerLabel(program);
  const chunks: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.exitOverride().parseAsync(['node', 'radlearn', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('radlearn label', () => {
  it('labels findings + impression columns into one column per observation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const input = join(dir, 'reports.csv');
    await writeFile(
      input,
      formatCsv([
        ['id', 'findings', 'impression'],
        ['a', 'Small left pleural effusion.\nNo pneumothorax.', 'Effusion.'],
        ['b', 'The lungs are clear.', 'No acute cardiopulmonary process.'],
        ['c', '', 'Possible pneumonia, cannot exclude.'],
      ]),
    );
    const outPath = join(dir, 'labels.csv');
    const printed = await run(['label', input, '--column', 'findings,impression', '--out', outPath]);
    expect(printed).toMatch(/labelled 3 reports in [\d.]+ s \(\d+ reports\/s\)/);
    const rows = parseCsv(await readFile(outPath, 'utf8'));
    const header = rows[0] as string[];
    expect(header.slice(0, 3)).toEqual(['id', 'No Finding', 'Enlarged Cardiomediastinum']);
    const col = (row: number, name: string): string => (rows[row] as string[])[header.indexOf(name)] as string;
    expect(col(1, 'Pleural Effusion')).toBe('1');
    expect(col(1, 'Pneumothorax')).toBe('0');
    expect(col(1, 'Cardiomegaly')).toBe('');
    expect(col(2, 'No Finding')).toBe('1');
    expect(col(3, 'Pneumonia')).toBe('-1');
  });

  it('names a missing column and a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const input = join(dir, 'r.csv');
    await writeFile(input, 'id,text\n1,No effusion.\n');
    await expect(run(['label', input, '--column', 'report', '--out', join(dir, 'o.csv')])).rejects.toThrow(
      /column "report" not found; columns are id, text/,
    );
    await expect(run(['label', join(dir, 'nope.csv'), '--out', join(dir, 'o.csv')])).rejects.toThrow(/reports CSV not found/);
  });

  it('labels a hostile cell (a 400 kB comma list in one clause) in linear time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const input = join(dir, 'r.csv');
    const items = ['pneumothorax', 'atelectasis', 'consolidation', 'spine', 'edema', 'rib'];
    const cell = `No effusion, ${Array.from({ length: 40_000 }, (_, i) => items[i % items.length]).join(', ')}.`;
    await writeFile(
      input,
      formatCsv([
        ['id', 'report'],
        ['1', cell],
        ['2', 'Small right pneumothorax.'],
      ]),
    );
    const start = process.cpuUsage();
    await run(['label', input, '--out', join(dir, 'o.csv')]);
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1000).toBeLessThan(3000);
    const rows = parseCsv(await readFile(join(dir, 'o.csv'), 'utf8'));
    const header = rows[0] as string[];
    expect((rows[1] as string[])[header.indexOf('Pleural Effusion')]).toBe('0');
    expect((rows[2] as string[])[header.indexOf('Pneumothorax')]).toBe('1');
  });

  it('gives typed errors for a UTF-16 file, a directory and an unwritable output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const utf16 = join(dir, 'utf16.csv');
    await writeFile(utf16, Buffer.from('\ufeffreport\nNo effusion.\n', 'utf16le'));
    await expect(run(['label', utf16, '--out', join(dir, 'o.csv')])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/UTF-16.*save it as UTF-8/),
    });
    await expect(run(['label', dir, '--out', join(dir, 'o.csv')])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/cannot read the reports CSV/),
    });
    const ok = join(dir, 'ok.csv');
    await writeFile(ok, 'report\nNo effusion.\n');
    await expect(run(['label', ok, '--out', join(dir, 'missing', 'o.csv')])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/--out .*cannot write the labels/),
    });
  });
});
