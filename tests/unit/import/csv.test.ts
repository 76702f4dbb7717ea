import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { importCsv, type CsvImportOptions } from '../../../src/data/import/csv.js';
import { IMPORT_FORMATS, importDataset } from '../../../src/data/import/formats.js';
import { summaryLines } from '../../../src/data/import/summary.js';
import type { ImportResult } from '../../../src/data/import/types.js';
import { writeImportedManifest } from '../../../src/data/import/write.js';
import { OBSERVATIONS } from '../../../src/data/labeler/observations.js';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import { splitByPatient } from '../../../src/data/manifest/split.js';
import { covidRows, writeCovidCollection } from './covid-fixture.js';

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'radlearn-import-'));

// Each image differs: identical files under different patients would be merged by the duplicate guard.
let pngShade = 0;
async function tinyPng(path: string): Promise<void> {
  pngShade = (pngShade + 37) % 256;
  await sharp(Buffer.alloc(16, pngShade), { raw: { width: 4, height: 4, channels: 1 } })
    .png()
    .toFile(path);
}

const COVID_OPTIONS: CsvImportOptions = {
  image: '{folder}/{filename}',
  report: 'clinical_notes',
  labels: ['covid=finding:contains COVID-19', 'pcr=RT_PCR_positive', 'died=survival:Y:0,N:1'],
  labeler: true,
  views: 'frontal',
  filter: 'modality=X-ray',
};

// Independent of the importer: which fixture rows survive, and why the others do not.
const FRONTAL = new Set(['PA', 'AP', 'AP Supine', 'AP semi erect']);
function expectedCovid(): { kept: number[]; dropped: Record<number, string> } {
  const kept: number[] = [];
  const dropped: Record<number, string> = {};
  covidRows().forEach(({ record, imageWritten }, i) => {
    const row = i + 1;
    if (record.modality !== 'X-ray') dropped[row] = 'filter';
    else if (record.filename === '') dropped[row] = 'no-image';
    else if (!FRONTAL.has(record.view)) dropped[row] = 'view';
    else if (!imageWritten) dropped[row] = 'missing-image';
    else kept.push(row);
  });
  return { kept, dropped };
}

describe('importCsv on a public-collection metadata table', () => {
  it('imports the COVID-19 collection layout with named labels and labeler labels, and loadManifest reads exactly those labels', async () => {
    const dir = await tempDir();
    const csv = await writeCovidCollection(dir);
    // the table as published: a trailing comma in the header
    expect((await readFile(csv, 'utf8')).split('\n')[0]).toMatch(/,clinical_notes,other_notes,$/);

    const result = await importCsv(csv, COVID_OPTIONS);
    const fixture = covidRows();
    const { kept, dropped } = expectedCovid();
    expect(result.format).toBe('csv');
    expect(result.root).toBe(dir);
    expect(result.labelNames).toEqual(['covid', 'pcr', 'died', ...OBSERVATIONS]);
    expect(result.rows.map((r) => r.source)).toEqual(kept.map((n) => `metadata.csv row ${n}`));
    expect(Object.fromEntries(result.dropped.map((d) => [Number(d.source.split(' row ')[1]), d.reason]))).toEqual(dropped);
    const missing = result.dropped.find((d) => d.reason === 'missing-image');
    expect(missing?.path).toBe(join(dir, 'images', 'missing-13.jpg'));

    const pcrValue: Record<string, number | null> = { Y: 1, N: 0, '': null };
    const diedValue: Record<string, number | null> = { Y: 0, N: 1, '': null };
    result.rows.forEach((row, i) => {
      const { record } = fixture[(kept[i] as number) - 1]!;
      expect(row.imagePath).toBe(join(dir, 'images', record.filename));
      expect(row.patientId).toBe(record.patientid);
      expect(row.studyId).toBe(`row${kept[i]}`);
      expect(row.view).toBe(record.view);
      expect(row.frontal).toBe(true);
      expect(row.reportText).toBe(record.clinical_notes);
      expect(row.labels.covid).toBe(record.finding.includes('COVID-19') ? 1 : 0);
      expect(row.labels.pcr).toBe(pcrValue[record.RT_PCR_positive]);
      expect(row.labels.died).toBe(diedValue[record.survival]);
      // every other source field travels as meta, verbatim; the role columns do not repeat there
      expect(row.meta.temperature).toBe(record.temperature);
      expect(row.meta.age).toBe(record.age);
      expect(row.meta.finding).toBe(record.finding);
      expect(row.meta.filename).toBe(record.filename);
      expect(Object.keys(row.meta)).not.toContain('patientid');
      expect(Object.keys(row.meta)).not.toContain('view');
      expect(Object.keys(row.meta)).not.toContain('clinical_notes');
      expect(Object.keys(row.meta)).not.toContain('');
    });
    // the labeler over clinical_notes (row numbers are the fixture's)
    const byRow = (n: number): Record<string, number | null> => result.rows.find((r) => r.source === `metadata.csv row ${n}`)!.labels;
    expect(byRow(1)).toMatchObject({ Consolidation: 1, 'Pleural Effusion': 0, Pneumothorax: 0, Atelectasis: null, 'No Finding': 0 });
    expect(byRow(2)).toMatchObject({ 'Support Devices': 1, 'Pleural Effusion': -1 });
    expect(byRow(5)).toMatchObject({ Cardiomegaly: 1, Edema: -1 });
    expect(byRow(7)).toMatchObject({ 'No Finding': 1, 'Pleural Effusion': 0, Pneumothorax: 0, Cardiomegaly: null });
    expect(byRow(8)).toMatchObject({ Fracture: 1 });
    expect(byRow(12)).toMatchObject({ Pneumothorax: 1, 'Support Devices': 1 });

    const out = join(dir, 'manifest.csv');
    const summary = await writeImportedManifest(result, out);
    expect(summary.rows).toBe(kept.length);
    expect(summary.patients).toBe(new Set(kept.map((n) => fixture[n - 1]!.record.patientid)).size);
    expect(summary.studies).toBe(kept.length);
    expect(summary.images).toBe(kept.length);
    expect(summary.dropped.total).toBe(Object.keys(dropped).length);
    expect(summary.dropped.byReason['missing-image']).toEqual({ count: 1, first: [missing] });
    const covidPositives = kept.filter((n) => fixture[n - 1]!.record.finding.includes('COVID-19')).length;
    expect(summary.labels.covid).toEqual({
      positive: covidPositives,
      negative: kept.length - covidPositives,
      uncertain: 0,
      missing: 0,
      other: 0,
    });
    expect(summary.labels['Pleural Effusion']?.uncertain).toBe(1);
    expect(summary.splits).toBeUndefined();
    const lines = summaryLines(summary);
    expect(lines[0]).toBe(`wrote ${out}: ${kept.length} rows from csv ${dir}`);
    expect(lines).toContain('dropped: 4 rows (1 view, 1 filter, 1 no-image, 1 missing-image)');
    expect(lines.some((l) => /^ {2}missing-image: metadata\.csv row 10: image not found: .*missing-13\.jpg$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {2}covid +\d+ +\d+ +0 +0$/.test(l))).toBe(true);

    const header = parseCsv(await readFile(out, 'utf8'))[0] as string[];
    expect(header.slice(0, 5)).toEqual(['image_path', 'patient_id', 'study_id', 'view', 'report_text']);
    expect(header.slice(5, 5 + result.labelNames.length)).toEqual(result.labelNames);
    expect(header.slice(5 + result.labelNames.length).every((h) => h.startsWith('meta.'))).toBe(true);
    expect(header).toContain('meta.temperature');

    const manifest = await loadManifest(out);
    expect(manifest.labelColumns.map((l) => l.name)).toEqual(result.labelNames);
    expect(manifest.labelColumns.every((l) => l.kind === 'binary')).toBe(true);
    expect(manifest.rows.map((r) => r.imagePaths)).toEqual(result.rows.map((r) => [r.imagePath]));
    expect(manifest.rows.map((r) => r.labels)).toEqual(result.rows.map((r) => r.labels));
    expect(manifest.rows.map((r) => r.reportText)).toEqual(result.rows.map((r) => r.reportText));
    expect(manifest.rows[0]?.fields['meta.date']).toBe('January 22, 2020');
    // image paths are relative to the manifest's folder in the file
    expect(parseCsv(await readFile(out, 'utf8'))[1]?.[0]).toBe(`images/${fixture[0]!.record.filename}`);

    const split = splitByPatient(manifest, { train: 0.5, val: 0.25, test: 0.25, seed: 3 });
    expect(split.rows.every((r) => r.split !== undefined)).toBe(true);
    const splitOf = new Map<string, string>();
    for (const r of split.rows) {
      expect(splitOf.get(r.patientId) ?? r.split).toBe(r.split);
      splitOf.set(r.patientId, r.split as string);
    }
  });

  it('reads silence as negative and uncertain as the policy says', async () => {
    const dir = await tempDir();
    const csv = await writeCovidCollection(dir);
    const base = { ...COVID_OPTIONS, labels: [] };
    const negative = await importCsv(csv, { ...base, labeler: { notMentioned: 'negative', uncertain: 'ones' } });
    const first = negative.rows[0]!.labels;
    expect(first).toMatchObject({ Atelectasis: 0, Edema: 0, Consolidation: 1, 'Pleural Effusion': 0 });
    expect(OBSERVATIONS.every((o) => first[o] !== null)).toBe(true);
    expect(negative.rows[1]!.labels['Pleural Effusion']).toBe(1); // "possible" read as positive
    const zeros = await importCsv(csv, { ...base, labeler: { uncertain: 'zeros', observations: ['Pleural Effusion', 'Edema'] } });
    expect(zeros.labelNames).toEqual(['Pleural Effusion', 'Edema']);
    expect(zeros.rows[1]!.labels).toEqual({ 'Pleural Effusion': 0, Edema: null });
    const gone = await importCsv(csv, { ...base, labeler: { uncertain: 'missing' } });
    expect(gone.rows[1]!.labels['Pleural Effusion']).toBeNull();
    expect(negative.notes).toContain(
      'labeler labels (14 observations) from column(s) clinical_notes; uncertain: ones, not mentioned: negative',
    );
  });

  it('drops missing images and lists them, or fails on the first in strict mode', async () => {
    const dir = await tempDir();
    const csv = await writeCovidCollection(dir);
    await expect(importCsv(csv, { ...COVID_OPTIONS, strict: true })).rejects.toMatchObject({
      code: 'ERR_IMPORT',
      message: expect.stringMatching(/metadata\.csv row 10: image .*images\/missing-13\.jpg does not exist \(strict mode\)/),
      details: expect.objectContaining({ row: 10 }),
    });
    const unchecked = await importCsv(csv, { ...COVID_OPTIONS, checkImages: false });
    expect(unchecked.dropped.map((d) => d.reason)).not.toContain('missing-image');
    expect(unchecked.rows.map((r) => r.source)).toContain('metadata.csv row 10');
  });

  it('keeps every view without a views filter, and picks listed views by name', async () => {
    const dir = await tempDir();
    const csv = await writeCovidCollection(dir);
    const all = await importCsv(csv, { image: '{folder}/{filename}' });
    expect(all.rows).toHaveLength(covidRows().filter((r) => r.imageWritten).length);
    expect(all.labelNames).toEqual([]);
    expect(all.rows.find((r) => r.view === 'L')?.frontal).toBe(false);
    const listed = await importCsv(csv, { image: '{folder}/{filename}', views: ['pa', 'lateral'] });
    expect([...new Set(listed.rows.map((r) => r.view))].sort()).toEqual(['L', 'PA']);
  });
});

describe('importCsv table formats and columns', () => {
  async function smallDataset(): Promise<{ dir: string; rows: string[][] }> {
    const dir = await tempDir();
    await mkdir(join(dir, 'img'));
    const rows = [
      ['file', 'subject', 'exam', 'projection', 'fold', 'site', 'findings', 'impression', 'label'],
      ['img/a.png', 'p1', 'e1', 'PA', 'train', 'north', 'Small left effusion.', 'Effusion.', '1'],
      ['img/b.png', 'p1', 'e1', 'LL', 'train', 'north', '', 'Lateral view.', '0'],
      ['img/c.png', 'p2', 'e2', 'AP', 'test', 'south', 'Clear lungs.', 'Normal.', '1'],
      ['img/d.png', 'p3', 'e3', 'PA', 'validation', 'south', 'No effusion.', 'Normal.', '1'],
    ];
    for (const r of rows.slice(1)) await tinyPng(join(dir, r[0] as string));
    return { dir, rows };
  }
  const OPTIONS: CsvImportOptions = {
    image: 'file',
    patient: 'subject',
    study: 'exam',
    view: 'projection',
    split: 'fold',
    group: 'site',
    report: ['findings', 'impression'],
    labels: ['y=label'],
  };

  it('reads CSV, TSV (by extension or delimiter), semicolons and JSONL to the same rows', async () => {
    const { dir, rows } = await smallDataset();
    await writeFile(join(dir, 't.csv'), formatCsv(rows));
    await writeFile(join(dir, 't.tsv'), rows.map((r) => r.join('\t')).join('\n') + '\n');
    await writeFile(join(dir, 't.txt'), rows.map((r) => r.join('\t')).join('\n') + '\n');
    await writeFile(join(dir, 't.semi'), rows.map((r) => r.join(';')).join('\n') + '\n');
    const header = rows[0] as string[];
    await writeFile(
      join(dir, 't.jsonl'),
      rows
        .slice(1)
        .map((r) => JSON.stringify(Object.fromEntries(header.map((h, i) => [h, h === 'label' ? Number(r[i]) : r[i]]))))
        .join('\n') + '\n',
    );
    const fromCsv = await importCsv(join(dir, 't.csv'), OPTIONS);
    const strip = (r: ImportResult): unknown => r.rows.map((x) => ({ ...x, source: x.source.replace(/^t\.\w+/, 't') }));
    expect(strip(await importCsv(join(dir, 't.tsv'), OPTIONS))).toEqual(strip(fromCsv));
    expect(strip(await importCsv(join(dir, 't.txt'), { ...OPTIONS, delimiter: '\t' }))).toEqual(strip(fromCsv));
    expect(strip(await importCsv(join(dir, 't.txt'), { ...OPTIONS, format: 'tsv' }))).toEqual(strip(fromCsv));
    expect(strip(await importCsv(join(dir, 't.semi'), { ...OPTIONS, delimiter: ';' }))).toEqual(strip(fromCsv));
    expect(strip(await importCsv(join(dir, 't.jsonl'), OPTIONS))).toEqual(strip(fromCsv));

    const [a, b, c, d] = fromCsv.rows;
    expect(a).toMatchObject({
      patientId: 'p1',
      studyId: 'e1',
      view: 'PA',
      frontal: true,
      split: 'train',
      group: 'north',
      labels: { y: 1 },
    });
    expect(a?.reportText).toBe('FINDINGS: Small left effusion.\n\nIMPRESSION: Effusion.');
    expect(b?.reportText).toBe('IMPRESSION: Lateral view.');
    expect(b?.frontal).toBe(false);
    expect(c?.split).toBe('test');
    expect(d?.split).toBe('val');
    expect(a?.meta).toEqual({ label: '1' });
  });

  it('summarises labels per split and warns about a split without negatives', async () => {
    const { dir, rows } = await smallDataset();
    await writeFile(join(dir, 't.csv'), formatCsv(rows));
    const result = await importCsv(join(dir, 't.csv'), OPTIONS);
    const out = join(dir, 'out', 'manifest.csv');
    const summary = await writeImportedManifest(result, out);
    expect(summary.splits).toEqual({
      train: { rows: 2, patients: 1, labels: { y: { positive: 1, negative: 1, uncertain: 0, missing: 0, other: 0 } } },
      val: { rows: 1, patients: 1, labels: { y: { positive: 1, negative: 0, uncertain: 0, missing: 0, other: 0 } } },
      test: { rows: 1, patients: 1, labels: { y: { positive: 1, negative: 0, uncertain: 0, missing: 0, other: 0 } } },
    });
    expect(summary.warnings).toEqual(['label y has no negatives in the val split', 'label y has no negatives in the test split']);
    expect(summaryLines(summary)).toContain('split test: 1 rows, 1 patients');
    // written in a sub-folder: paths outside it stay absolute, and the split and group columns come along
    const text = await readFile(out, 'utf8');
    expect(parseCsv(text)[0]).toEqual(['image_path', 'patient_id', 'study_id', 'view', 'split', 'report_text', 'group', 'y', 'meta.label']);
    expect(parseCsv(text)[1]?.[0]).toBe(join(dir, 'img', 'a.png'));
    const manifest = await loadManifest(out);
    expect(manifest.labelColumns.map((l) => l.name)).toEqual(['y']);
    expect(manifest.rows.map((r) => r.split)).toEqual(['train', 'train', 'test', 'val']);
  });

  it('builds report paths from a template and labels the report files', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'reports'));
    await tinyPng(join(dir, 'a.png'));
    await tinyPng(join(dir, 'b.png'));
    await tinyPng(join(dir, 'c.png'));
    await writeFile(join(dir, 'reports', 's1.txt'), 'FINDINGS: Large right pneumothorax.\nIMPRESSION: Pneumothorax.');
    await writeFile(join(dir, 'reports', 's2.txt'), 'IMPRESSION: No acute process.');
    await writeFile(join(dir, 'list.csv'), 'image,patient_id,study\na.png,p1,s1\nb.png,p2,s2\nc.png,p3,s3\n');
    const result = await importCsv(join(dir, 'list.csv'), {
      image: 'image',
      study: 'study',
      reportPath: 'reports/{study}.txt',
      labeler: { observations: ['Pneumothorax', 'No Finding'], notMentioned: 'negative' },
    });
    expect(result.rows.map((r) => r.reportPath)).toEqual([join(dir, 'reports', 's1.txt'), join(dir, 'reports', 's2.txt')]);
    expect(result.rows.map((r) => r.labels)).toEqual([
      { Pneumothorax: 1, 'No Finding': 0 },
      { Pneumothorax: 0, 'No Finding': 1 },
    ]);
    expect(result.dropped).toEqual([
      {
        source: 'list.csv row 3',
        reason: 'unreadable-report',
        path: join(dir, 'reports', 's3.txt'),
        message: `report not found: ${join(dir, 'reports', 's3.txt')}`,
      },
    ]);
    await expect(
      importCsv(join(dir, 'list.csv'), { image: 'image', study: 'study', reportPath: 'reports/{study}.txt', strict: true }),
    ).rejects.toMatchObject({
      code: 'ERR_IMPORT',
      message: expect.stringMatching(/list\.csv row 3: report .*s3\.txt does not exist/),
    });
    const summary = await writeImportedManifest(result, join(dir, 'm.csv'));
    expect(parseCsv(await readFile(join(dir, 'm.csv'), 'utf8'))[1]?.slice(0, 4)).toEqual(['a.png', 'p1', 's1', 'reports/s1.txt']);
    expect(summary.dropped.byReason['unreadable-report']?.count).toBe(1);
    const m = await loadManifest(join(dir, 'm.csv'));
    expect(m.rows[0]?.reportPath).toBe(join(dir, 'reports', 's1.txt'));
  });

  it('resolves images against imageRoot and writes a path loadManifest would split as a JSON array', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'pix'));
    await tinyPng(join(dir, 'pix', 'a;1.png'));
    await writeFile(join(dir, 'list.csv'), 'name,patient\na;1.png,p1\n');
    const result = await importCsv(join(dir, 'list.csv'), { image: 'name', imageRoot: join(dir, 'pix') });
    expect(result.rows[0]?.imagePath).toBe(join(dir, 'pix', 'a;1.png'));
    await writeImportedManifest(result, join(dir, 'm.csv'));
    expect(parseCsv(await readFile(join(dir, 'm.csv'), 'utf8'))[1]?.[0]).toBe('["pix/a;1.png"]');
    expect((await loadManifest(join(dir, 'm.csv'))).rows[0]?.imagePaths).toEqual([join(dir, 'pix', 'a;1.png')]);
    await writeImportedManifest(result, join(dir, 'm.jsonl'));
    const jsonl = await loadManifest(join(dir, 'm.jsonl'));
    expect(jsonl.rows[0]?.imagePaths).toEqual([join(dir, 'pix', 'a;1.png')]);
    expect(jsonl.rows[0]?.patientId).toBe('p1');
  });
});

describe('importCsv errors', () => {
  async function table(text: string, name = 't.csv', images: string[] = ['a.png', 'b.png']): Promise<string> {
    const dir = await tempDir();
    for (const image of images) await tinyPng(join(dir, image));
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }
  const cases: Array<[string, string, CsvImportOptions, RegExp, Record<string, unknown>?]> = [
    [
      'an unknown image column',
      'img,patient\na.png,p1\n',
      { image: 'image' },
      /t\.csv: image column "image" not found; columns are img, patient/,
      { column: 'image' },
    ],
    [
      'an unknown label column',
      'image,patient\na.png,p1\n',
      { image: 'image', labels: ['y=outcome'] },
      /label y column "outcome" not found/,
      { column: 'outcome' },
    ],
    [
      'an unmapped label value',
      'image,patient,RT_PCR_positive\na.png,p1,Y\nb.png,p2,Unclear\n',
      { image: 'image', labels: ['pcr=RT_PCR_positive'] },
      /t\.csv row 2, column RT_PCR_positive: value "Unclear" does not fit label pcr=RT_PCR_positive:boolean/,
      { row: 2, column: 'RT_PCR_positive', value: 'Unclear', mapping: 'pcr=RT_PCR_positive:boolean' },
    ],
    [
      'a value under an empty header',
      'image,patient,\na.png,p1,\nb.png,p2,oops\n',
      { image: 'image' },
      /t\.csv row 2: column 3 has the value "oops" but no name in the header/,
      { row: 2 },
    ],
    ['a short row', 'image,patient\na.png\n', { image: 'image' }, /t\.csv row 1: 1 fields, but the header has 2/, { row: 1 }],
    [
      'no patient column',
      'image,who\na.png,p1\n',
      { image: 'image' },
      /no patient id column \(looked for patient_id, patientid, subject_id, patient\)/,
    ],
    [
      'an empty patient id',
      'image,patient\na.png,p1\nb.png,\n',
      { image: 'image' },
      /t\.csv row 2, column patient: empty patient id/,
      { row: 2, column: 'patient' },
    ],
    [
      'a study of two patients',
      'image,patient,study\na.png,p1,s1\nb.png,p2,s1\n',
      { image: 'image', study: 'study' },
      /row 2, column study: study s1 belongs to patient p1 in row 1, here to p2/,
      { row: 2 },
    ],
    [
      'an unknown split',
      'image,patient,split\na.png,p1,holdout\n',
      { image: 'image', split: 'split' },
      /row 1, column split: split "holdout" is not one of train, val, test/,
    ],
    [
      'a views filter without a view column',
      'image,patient\na.png,p1\n',
      { image: 'image', views: 'frontal' },
      /a views filter needs a view column/,
    ],
    ['the labeler without report text', 'image,patient\na.png,p1\n', { image: 'image', labeler: true }, /the labeler reads report text/],
    [
      'a label named like a labeler observation',
      'image,patient,report,e\na.png,p1,x,1\n',
      { image: 'image', report: 'report', labels: ['Edema=e'], labeler: true },
      /label "Edema" is named twice/,
    ],
    [
      'a label named like a role',
      'image,patient,v\na.png,p1,1\n',
      { image: 'image', labels: ['view=v'] },
      /would be read as a manifest role column/,
    ],
    [
      'a filter on an unknown column',
      'image,patient\na.png,p1\n',
      { image: 'image', filter: ['modality=X-ray'] },
      /filter modality=X-ray column "modality" not found/,
    ],
    ['a bad JSONL line', '{"image":"a.png","patient":"p"}\n{oops\n', { image: 'image' }, /t\.jsonl line 2: not valid JSON/],
    ['a missing image option', 'image,patient\na.png,p1\n', {} as CsvImportOptions, /options\.image must name the image column/],
  ];
  for (const [what, text, options, message, details] of cases) {
    it(`names the file, row and column of ${what}`, async () => {
      const path = await table(text, what === 'a bad JSONL line' ? 't.jsonl' : 't.csv');
      const error = await importCsv(path, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'ERR_IMPORT', message: expect.stringMatching(message) });
      if (details) expect((error as { details: Record<string, unknown> }).details).toMatchObject(details);
    });
  }

  it('gives typed errors for a missing table and unknown policies', async () => {
    await expect(importCsv('/nonexistent/radlearn/t.csv', { image: 'image' })).rejects.toMatchObject({
      code: 'ERR_MISSING_FILE',
      message: expect.stringMatching(/table to import not found at \/nonexistent\/radlearn\/t\.csv/),
    });
    const path = await table('image,patient,report\na.png,p1,x\n');
    await expect(importCsv(path, { image: 'image', report: 'report', labeler: { uncertain: 'maybe' as 'keep' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/uncertain policy must be one of keep, ones, zeros, missing/),
    });
  });
});

describe('writeImportedManifest', () => {
  const row = (over: Partial<ImportResult['rows'][number]> = {}): ImportResult['rows'][number] => ({
    imagePath: '/data/a.png',
    patientId: 'p1',
    studyId: 's1',
    labels: { y: 1 },
    meta: {},
    source: 'x.csv row 1',
    ...over,
  });
  const result = (rows: ImportResult['rows'], over: Partial<ImportResult> = {}): ImportResult => ({
    format: 'chexpert',
    root: '/data',
    rows,
    labelNames: ['y'],
    dropped: [],
    notes: [],
    ...over,
  });
  const cases: Array<[string, ImportResult, RegExp]> = [
    [
      'no rows',
      result([], { dropped: [{ source: 'x.csv row 1', reason: 'no-image', message: 'blank' }] }),
      /chexpert import of \/data: no rows to write \(1 dropped: no-image\)/,
    ],
    ['a label missing from a row', result([row({ labels: {} })]), /x\.csv row 1: label "y" has no value \(use null for missing\)/],
    ['a label not in labelNames', result([row({ labels: { y: 1, z: 0 } })]), /x\.csv row 1: label "z" is not one of labelNames \(y\)/],
    ['a fractional label', result([row({ labels: { y: 0.5 } })]), /x\.csv row 1: label "y" is 0\.5, expected an integer class/],
    [
      'a study of two patients',
      result([row(), row({ patientId: 'p2', source: 'x.csv row 2' })]),
      /x\.csv row 2: study s1 belongs to patient p1 in x\.csv row 1, here to p2/,
    ],
    ['a meta label', result([row({ labels: { 'meta.y': 1 } })], { labelNames: ['meta.y'] }), /may not start with "meta\."/],
  ];
  for (const [what, input, message] of cases) {
    it(`refuses ${what} with ERR_IMPORT`, async () => {
      const dir = await tempDir();
      await expect(writeImportedManifest(input, join(dir, 'm.csv'))).rejects.toMatchObject({
        code: 'ERR_IMPORT',
        message: expect.stringMatching(message),
      });
    });
  }

  it('writes every importer row shape, and an unwritable path is an ImportError', async () => {
    const dir = await tempDir();
    const rows = [
      row({
        imagePath: join(dir, 'a.png'),
        view: 'PA',
        split: 'train',
        reportText: 'FINDINGS: x',
        group: 'g1',
        meta: { age: '61.5', sex: 'F' },
      }),
      row({ imagePath: join(dir, 'b.png'), studyId: 's2', labels: { y: null }, meta: { sex: 'M', site: 'B' }, source: 'x.csv row 2' }),
    ];
    const summary = await writeImportedManifest(result(rows), join(dir, 'm.csv'));
    expect(summary.labels.y).toEqual({ positive: 1, negative: 0, uncertain: 0, missing: 1, other: 0 });
    expect(summary.splits?.unassigned).toEqual({
      rows: 1,
      patients: 1,
      labels: { y: { positive: 0, negative: 0, uncertain: 0, missing: 1, other: 0 } },
    });
    expect(parseCsv(await readFile(join(dir, 'm.csv'), 'utf8'))).toEqual([
      ['image_path', 'patient_id', 'study_id', 'view', 'split', 'report_text', 'group', 'y', 'meta.age', 'meta.sex', 'meta.site'],
      ['a.png', 'p1', 's1', 'PA', 'train', 'FINDINGS: x', 'g1', '1', '61.5', 'F', ''],
      ['b.png', 'p1', 's2', '', '', '', '', '', '', 'M', 'B'],
    ]);
    const m = await loadManifest(join(dir, 'm.csv'));
    expect(m.labelColumns).toEqual([{ name: 'y', kind: 'binary', values: [1] }]);
    await writeFile(join(dir, 'file'), 'x');
    await expect(writeImportedManifest(result(rows), join(dir, 'file', 'm.csv'))).rejects.toMatchObject({
      code: 'ERR_IMPORT',
      message: expect.stringMatching(/cannot write the manifest to .*file\/m\.csv/),
    });
  });
});

describe('importDataset', () => {
  it("dispatches 'csv' to importCsv and names the formats for an unknown one", async () => {
    const dir = await tempDir();
    const csv = await writeCovidCollection(dir);
    const direct = await importCsv(csv, COVID_OPTIONS);
    expect(await importDataset('csv', csv, COVID_OPTIONS)).toEqual(direct);
    await expect(importDataset('padchest' as 'csv', dir, { image: 'x' })).rejects.toMatchObject({
      code: 'ERR_IMPORT',
      message: "unknown import format 'padchest'; formats are mimic-cxr-jpg, chexpert, iu-xray, csv",
    });
    expect(IMPORT_FORMATS).toEqual(['mimic-cxr-jpg', 'chexpert', 'iu-xray', 'csv']);
  });
});
