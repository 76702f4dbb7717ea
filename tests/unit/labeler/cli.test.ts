import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { captureCli } from '../../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { registerLabel } from '../../../src/cli/commands/label.js';
import { OBSERVATIONS } from '../../../src/data/labeler/observations.js';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';

async function run(args: string[]): Promise<string> {
  const program = new Command('radlearn');
  registerLabel(program);
  return (await captureCli(program, args)).stdout;
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
  it('never writes a column name twice: observation columns already in the input get _labeler, or --overwrite replaces them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const input = join(dir, 'reports.csv');
    await writeFile(
      input,
      formatCsv([
        ['id', 'Edema', 'pneumothorax', 'Edema_labeler', 'report'],
        ['a', '1', '0', 'x', 'Mild pulmonary edema. Right pneumothorax.'],
        ['b', '0', '', 'y', 'No edema.'],
      ]),
    );
    const outPath = join(dir, 'labels.csv');
    const printed = await run(['label', input, '--out', outPath]);
    expect(printed).toContain('wrote Edema -> Edema_labeler2, Pneumothorax -> Pneumothorax_labeler (--overwrite replaces them)');
    const rows = parseCsv(await readFile(outPath, 'utf8'));
    const header = rows[0] as string[];
    expect(new Set(header.map((h) => h.toLowerCase())).size).toBe(header.length);
    expect(header.slice(0, 6)).toEqual(['id', 'Edema', 'pneumothorax', 'Edema_labeler', 'No Finding', 'Enlarged Cardiomediastinum']);
    const col = (row: number, name: string): string => (rows[row] as string[])[header.indexOf(name)] as string;
    expect(col(1, 'Edema')).toBe('1'); // the input's own column, untouched
    expect(col(1, 'Edema_labeler')).toBe('x');
    expect(col(1, 'Edema_labeler2')).toBe('1');
    expect(col(1, 'Pneumothorax_labeler')).toBe('1');
    expect(col(2, 'Edema_labeler2')).toBe('0');

    await run(['label', input, '--out', outPath, '--overwrite']);
    const over = parseCsv(await readFile(outPath, 'utf8'));
    const h = over[0] as string[];
    expect(h.length).toBe(4 + OBSERVATIONS.length - 2);
    expect(h.slice(0, 4)).toEqual(['id', 'Edema', 'pneumothorax', 'Edema_labeler']);
    expect((over[1] as string[]).slice(0, 4)).toEqual(['a', '1', '1', 'x']);
    expect((over[2] as string[]).slice(0, 4)).toEqual(['b', '0', '', 'y']);
  });

  it('applies --not-mentioned negative and the --uncertain policies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-label-'));
    const input = join(dir, 'reports.csv');
    await writeFile(
      input,
      formatCsv([
        ['id', 'report'],
        ['a', 'Small left pleural effusion. Possible pneumonia.'],
        ['b', ''],
      ]),
    );
    const labelled = async (...flags: string[]): Promise<Record<string, string>> => {
      const outPath = join(dir, 'labels.csv');
      await run(['label', input, '--out', outPath, ...flags]);
      const rows = parseCsv(await readFile(outPath, 'utf8'));
      return Object.fromEntries((rows[0] as string[]).map((h, i) => [h, (rows[1] as string[])[i] as string]));
    };
    expect(await labelled()).toMatchObject({ 'Pleural Effusion': '1', Pneumonia: '-1', Edema: '', Fracture: '' });
    const negative = await labelled('--not-mentioned', 'negative');
    expect(negative).toMatchObject({ 'Pleural Effusion': '1', Pneumonia: '-1', Edema: '0', Fracture: '0', Cardiomegaly: '0' });
    expect(OBSERVATIONS.every((o) => negative[o] !== '')).toBe(true);
    expect((await labelled('--uncertain', 'ones')).Pneumonia).toBe('1');
    expect((await labelled('--uncertain', 'zeros')).Pneumonia).toBe('0');
    expect((await labelled('--uncertain', 'missing', '--not-mentioned', 'negative')).Pneumonia).toBe('');
    // an empty report has nothing that could mention anything: it stays missing
    const rows = parseCsv(await readFile(join(dir, 'labels.csv'), 'utf8'));
    expect((rows[2] as string[]).slice(1).every((v) => v === '')).toBe(true);
    await expect(run(['label', input, '--out', join(dir, 'o.csv'), '--uncertain', 'u-ones'])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/--uncertain must be one of keep, ones, zeros, missing, got 'u-ones'/),
    });
    await expect(run(['label', input, '--out', join(dir, 'o.csv'), '--not-mentioned', 'zero'])).rejects.toThrow(
      /--not-mentioned must be one of missing, negative/,
    );
  });
});
