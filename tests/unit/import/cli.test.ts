import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { captureCli } from '../../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { registerManifest } from '../../../src/cli/commands/manifest.js';
import type { ImportSummary } from '../../../src/data/import/summary.js';
import { OBSERVATIONS } from '../../../src/data/labeler/observations.js';
import { parseCsv } from '../../../src/data/manifest/csv.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import { covidRows, writeCovidCollection } from './covid-fixture.js';

async function run(args: string[]): Promise<string> {
  const program = new Command('radlearn');
  registerManifest(program);
  return (await captureCli(program, args)).stdout;
}

const COVID_ARGS = [
  '--image-template',
  '{folder}/{filename}',
  '--report',
  'clinical_notes',
  '--label',
  'covid=finding:contains COVID-19',
  '--label',
  'pcr=RT_PCR_positive',
  '--label',
  'fever=temperature:>=38',
  '--filter',
  'modality=X-ray',
  '--views',
  'frontal',
];

describe('radlearn manifest --from csv', () => {
  it('imports the collection table, prints the summary, and the manifest loads with exactly the named labels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-cli-'));
    const csv = await writeCovidCollection(dir);
    const out = join(dir, 'manifest.csv');
    const printed = await run(['manifest', '--from', 'csv', csv, '--out', out, ...COVID_ARGS, '--labeler', '--not-mentioned', 'negative']);
    const kept = covidRows().filter(
      (r) => r.record.modality === 'X-ray' && r.imageWritten && ['PA', 'AP', 'AP Supine', 'AP semi erect'].includes(r.record.view),
    );
    expect(printed).toContain(`wrote ${out}: ${kept.length} rows from csv ${dir}`);
    expect(printed).toContain('dropped: 4 rows (1 view, 1 filter, 1 no-image, 1 missing-image)');
    expect(printed).toMatch(/missing-image: metadata\.csv row 10: image not found: .*images\/missing-13\.jpg/);
    const fevers = kept.filter((r) => r.record.temperature !== '' && Number(r.record.temperature) >= 38).length;
    const unknown = kept.filter((r) => r.record.temperature === '').length;
    expect(printed).toMatch(new RegExp(`\\n  fever +${fevers} +${kept.length - fevers - unknown} +0 +${unknown}\\n`));
    expect(printed).toContain(
      'note: labeler labels (14 observations) from column(s) clinical_notes; uncertain: keep, not mentioned: negative',
    );
    const m = await loadManifest(out);
    expect(m.labelColumns.map((l) => l.name)).toEqual(['covid', 'pcr', 'fever', ...OBSERVATIONS]);
    expect(m.rows).toHaveLength(kept.length);
  });

  it('prints the summary as JSON with --json, and takes repeated reports, a patient column and labeler observations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-cli-'));
    const csv = await writeCovidCollection(dir);
    const out = join(dir, 'm.jsonl');
    const printed = await run([
      'manifest',
      '--from',
      'csv',
      csv,
      '--out',
      out,
      '--image-template',
      '{folder}/{filename}',
      '--patient',
      'patientid',
      '--report',
      'clinical_notes',
      '--report',
      'other_notes',
      '--labeler',
      'pneumothorax,Support Devices',
      '--uncertain',
      'zeros',
      '--json',
    ]);
    const summary = JSON.parse(printed) as ImportSummary;
    expect(summary.labelNames).toEqual(['Pneumothorax', 'Support Devices']);
    expect(summary.rows).toBe(covidRows().filter((r) => r.imageWritten).length);
    expect(summary.labels.Pneumothorax?.positive).toBe(1);
    const first = JSON.parse((await readFile(out, 'utf8')).split('\n')[0] as string) as Record<string, unknown>;
    expect(first.report_text).toBe(
      'CLINICAL NOTES: Bilateral patchy consolidation in the lower lobes.\nNo pleural effusion. No pneumothorax.\n\nOTHER NOTES: Day 0 of admission',
    );
    expect(first.Pneumothorax).toBe(0);
  });

  it('takes --image, --study, --view, --split-column, --group, --delimiter and --filter with regexes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-cli-'));
    const rows = [
      ['path', 'pid', 'acc', 'proj', 'part', 'hospital', 'score', 'dx'],
      ['a.png', 'p1', 'x1', 'PA', 'train', 'A', '0.7', 'effusion'],
      ['b.png', 'p2', 'x2', 'LATERAL', 'test', 'B', '0.2', 'normal'],
      ['c.png', 'p3', 'x3', 'AP', 'test', 'B', '0.4', 'normal'],
    ];
    await writeFile(join(dir, 't.txt'), rows.map((r) => r.join('|')).join('\n') + '\n');
    const out = join(dir, 'm.csv');
    const printed = await run([
      'manifest',
      '--from',
      'csv',
      join(dir, 't.txt'),
      '-o',
      out,
      '--image',
      'path',
      '--no-check-images',
      '--patient',
      'pid',
      '--study',
      'acc',
      '--view',
      'proj',
      '--split-column',
      'part',
      '--group',
      'hospital',
      '--delimiter',
      'pipe',
      '--filter',
      'dx~^(effusion|normal)$',
      '--filter',
      'proj!~lat',
      '--label',
      'high=score:>0.5',
      '--label',
      'effusion=dx:effusion:1,normal:0',
    ]);
    expect(printed).toContain('dropped: 1 rows (1 filter)');
    expect(printed).toContain('split train: 1 rows, 1 patients');
    expect(parseCsv(await readFile(out, 'utf8'))).toEqual([
      ['image_path', 'patient_id', 'study_id', 'view', 'split', 'group', 'high', 'effusion', 'meta.score', 'meta.dx'],
      ['a.png', 'p1', 'x1', 'PA', 'train', 'A', '1', '1', '0.7', 'effusion'],
      ['c.png', 'p3', 'x3', 'AP', 'test', 'B', '0', '0', '0.4', 'normal'],
    ]);
  });

  const errors: Array<[string, string[], RegExp, string]> = [
    ['no image flag', [], /needs exactly one of --image <column> or --image-template/, 'ERR_INVALID_ARGUMENT'],
    ['both image flags', ['--image', 'filename', '--image-template', '{filename}'], /needs exactly one of/, 'ERR_INVALID_ARGUMENT'],
    ['a template without braces', ['--image-template', 'images/x.png'], /--image-template names columns in braces/, 'ERR_INVALID_ARGUMENT'],
    [
      'an unknown policy',
      ['--image', 'filename', '--report', 'clinical_notes', '--labeler', '--uncertain', 'u-ones'],
      /--uncertain must be one of keep, ones, zeros, missing/,
      'ERR_INVALID_ARGUMENT',
    ],
    ['a policy without --labeler', ['--image', 'filename', '--not-mentioned', 'negative'], /add --labeler/, 'ERR_INVALID_ARGUMENT'],
    [
      'an unknown observation',
      ['--image', 'filename', '--report', 'clinical_notes', '--labeler', 'Covid'],
      /"Covid" is not an observation/,
      'ERR_INVALID_ARGUMENT',
    ],
    ['--split for csv', ['--image', 'filename', '--split', 'official'], /--split is for the public formats/, 'ERR_INVALID_ARGUMENT'],
    [
      'a bad label spec',
      ['--image-template', '{folder}/{filename}', '--label', 'covid'],
      /label spec "covid": expected name=column/,
      'ERR_IMPORT',
    ],
    [
      'an unmapped value',
      ['--image-template', '{folder}/{filename}', '--label', 'sex=sex:M:1'],
      /metadata\.csv row 3, column sex: value "F" does not fit label sex=sex:m:1/,
      'ERR_IMPORT',
    ],
    [
      'strict mode',
      ['--image-template', '{folder}/{filename}', '--strict'],
      /metadata\.csv row 10: image .*missing-13\.jpg does not exist \(strict mode\)/,
      'ERR_IMPORT',
    ],
  ];
  for (const [what, args, message, code] of errors) {
    it(`fails with a typed error for ${what}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-cli-'));
      const csv = await writeCovidCollection(dir);
      await expect(run(['manifest', '--from', 'csv', csv, '--out', join(dir, 'm.csv'), ...args])).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    });
  }

  it('refuses csv flags for a public format and an unknown format', async () => {
    await expect(run(['manifest', '--from', 'chexpert', '/data/chexpert', '--out', '/tmp/m.csv', '--image', 'Path'])).rejects.toMatchObject(
      {
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/--image is for --from csv; --from chexpert reads the dataset's own layout/),
      },
    );
    await expect(run(['manifest', '--from', 'chexpert', '/data/chexpert', '--out', '/tmp/m.csv', '--label', 'a=b'])).rejects.toThrow(
      /--label is for --from csv/,
    );
    await expect(run(['manifest', '--from', 'padchest', '/data', '--out', '/tmp/m.csv'])).rejects.toThrow(
      /--from must be one of mimic-cxr-jpg, chexpert, iu-xray, csv, got 'padchest'/,
    );
  });
});

describe('radlearn manifest (spawned)', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  // RADLEARN_CLI lets a developer point the test at another build of the CLI
  const cli = process.env.RADLEARN_CLI ?? join(root, 'bin', 'radlearn.js');
  const runCli = promisify(execFile);

  it('writes the manifest through the installed command, and exits non-zero with the typed message on failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-e2e-'));
    const csv = await writeCovidCollection(dir);
    const out = join(dir, 'manifest.csv');
    const { stdout } = await runCli(process.execPath, [cli, 'manifest', '--from', 'csv', csv, '--out', out, ...COVID_ARGS], { cwd: root });
    expect(stdout).toMatch(/^wrote .*manifest\.csv: \d+ rows from csv /);
    expect((await loadManifest(out)).labelColumns.map((l) => l.name)).toEqual(['covid', 'pcr', 'fever']);

    const failed = await runCli(process.execPath, [cli, 'manifest', '--from', 'csv', csv, '--out', out, ...COVID_ARGS, '--strict'], {
      cwd: root,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(
      /^radlearn: .*metadata\.csv row 10: image .*missing-13\.jpg does not exist \(strict mode\) \[ERR_IMPORT\]\n$/,
    );
  });
});
