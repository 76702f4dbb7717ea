import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importIuXray } from '../../../src/data/import/iu-xray.js';
import { ImportError } from '../../../src/data/import/types.js';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import { splitByPatient } from '../../../src/data/manifest/split.js';
import { parseReport } from '../../../src/data/reports/parse.js';
import { IU_REPORT_COLUMNS, writeIuFixture } from '../../helpers/datasets/iu-xray.js';
import { writeImportedManifest } from '../../../src/data/import/write.js';

let dir: string;
let case_ = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-import-iu-'));
});
const fresh = (): string => join(dir, `case${++case_}`);

const REPORT_1 = [
  'INDICATION: Positive TB test',
  'COMPARISON: None.',
  'FINDINGS: The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema. There is no focal consolidation.',
  'IMPRESSION: Normal chest x-XXXX.',
].join('\n\n');

describe('importIuXray', () => {
  it('imports one row per image: patient = study = uid, projection as view, titled report sections, no labels by default', async () => {
    const root = await writeIuFixture(fresh());
    const result = await importIuXray(root);
    expect(result.format).toBe('iu-xray');
    expect(result.labelNames).toEqual([]);
    expect(result.rows.map((r) => [basename(r.imagePath), r.patientId, r.studyId, r.view, r.frontal, r.split, r.source])).toEqual([
      ['1_IM-0001-4001.dcm.png', '1', '1', 'Frontal', true, undefined, 'indiana_projections.csv row 1'],
      ['1_IM-0001-3001.dcm.png', '1', '1', 'Lateral', false, undefined, 'indiana_projections.csv row 2'],
      ['2_IM-0652-1001.dcm.png', '2', '2', 'Frontal', true, undefined, 'indiana_projections.csv row 3'],
      ['2_IM-0652-2001.dcm.png', '2', '2', 'Lateral', false, undefined, 'indiana_projections.csv row 4'],
      ['3_IM-1384-2001.dcm.png', '3', '3', 'Lateral', false, undefined, 'indiana_projections.csv row 6'],
      ['4_IM-2050-1001.dcm.png', '4', '4', 'Frontal', true, undefined, 'indiana_projections.csv row 7'],
      ['6_IM-2192-1001.dcm.png', '6', '6', 'Frontal', true, undefined, 'indiana_projections.csv row 8'],
    ]);
    expect(result.rows[0]?.imagePath).toBe(join(root, 'images', 'images_normalized', '1_IM-0001-4001.dcm.png'));
    expect(result.rows.every((r) => Object.keys(r.labels).length === 0 && r.reportPath === undefined)).toBe(true);
    expect(result.rows[0]?.reportText).toBe(REPORT_1);
    expect(result.rows[1]?.reportText).toBe(REPORT_1);
    // Blank comparison and findings are left out, not written as empty sections.
    expect(result.rows[4]?.reportText).toBe(
      'INDICATION: XXXX-year-old male, shortness of breath.\n\nIMPRESSION: Mild left basilar opacity, likely atelectasis.',
    );
    expect(result.rows[2]?.meta).toEqual({
      MeSH: 'Cardiomegaly/borderline;Pulmonary Artery/enlarged',
      Problems: 'Cardiomegaly;Pulmonary Artery',
      image: 'Chest, 2 views, frontal and lateral',
    });
    const missing = join(root, 'images', 'images_normalized', '3_IM-1384-1001.dcm.png');
    expect(result.dropped).toEqual([
      { source: 'indiana_reports.csv row 5', reason: 'no-image', message: 'report has no image in indiana_projections.csv' },
      { source: 'indiana_projections.csv row 5', reason: 'missing-image', path: missing, message: `image not found: ${missing}` },
    ]);
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/patient = study = uid: the IU collection publishes one study per uid and no patient identity across studies/);
    expect(notes).toMatch(/no labels: Problems and MeSH travel as meta/);
    expect(notes).toMatch(/no official split/);
  });

  it('the assembled report splits back into its sections', async () => {
    const root = await writeIuFixture(fresh());
    const result = await importIuXray(root);
    expect(parseReport(result.rows[2]?.reportText as string).sections).toEqual({
      indication: 'Preop bariatric surgery.',
      comparison: 'None.',
      findings: 'Borderline cardiomegaly. Midline sternotomy XXXX. Enlarged pulmonary arteries. Clear lungs.',
      impression: 'No acute pulmonary findings.',
    });
  });

  it("labels: 'problems' makes normal plus one binary column per Problems term found in at least minCount reports", async () => {
    const root = await writeIuFixture(fresh());
    const two = await importIuXray(root, { labels: 'problems', minCount: 2 });
    expect(two.labelNames).toEqual(['normal', 'Cardiomegaly']);
    expect(two.rows.map((r) => [r.patientId, r.labels])).toEqual([
      ['1', { normal: 1, Cardiomegaly: 0 }],
      ['1', { normal: 1, Cardiomegaly: 0 }],
      ['2', { normal: 0, Cardiomegaly: 1 }],
      ['2', { normal: 0, Cardiomegaly: 1 }],
      ['3', { normal: 0, Cardiomegaly: 0 }],
      ['4', { normal: 0, Cardiomegaly: 1 }],
      ['6', { normal: 0, Cardiomegaly: 0 }],
    ]);
    expect(two.notes.join('\n')).toMatch(/normal .* and 1 term\(s\) in at least 2 reports; 4 rarer term\(s\) left in meta\.Problems/);
    // Terms by count, then by name.
    const one = await importIuXray(root, { labels: 'problems', minCount: 1 });
    expect(one.labelNames).toEqual([
      'normal',
      'Cardiomegaly',
      'Calcified Granuloma',
      'Opacity',
      'Pulmonary Artery',
      'Pulmonary Atelectasis',
    ]);
    expect(one.rows.find((r) => r.patientId === '3')?.labels).toEqual({
      normal: 0,
      Cardiomegaly: 0,
      'Calcified Granuloma': 0,
      Opacity: 1,
      'Pulmonary Artery': 0,
      'Pulmonary Atelectasis': 1,
    });
    // The default minCount (10) keeps only normal in a collection this small.
    expect((await importIuXray(root, { labels: 'problems' })).labelNames).toEqual(['normal']);
    await expect(importIuXray(root, { labels: 'problems', minCount: 0 })).rejects.toThrow(/minCount must be a positive integer/);
    await expect(importIuXray(root, { labels: 'mesh' as 'none' })).rejects.toThrow(/labels must be 'none' or 'problems'/);
  });

  it('accepts images directly in images/, filters views, and strict names the missing image', async () => {
    const root = await writeIuFixture(fresh(), { images: 'flat' });
    const result = await importIuXray(root, { views: 'frontal' });
    expect(result.rows.map((r) => r.imagePath)).toEqual(
      ['1_IM-0001-4001.dcm.png', '2_IM-0652-1001.dcm.png', '4_IM-2050-1001.dcm.png', '6_IM-2192-1001.dcm.png'].map((f) =>
        join(root, 'images', f),
      ),
    );
    expect(result.dropped.filter((d) => d.reason === 'view').map((d) => d.source)).toEqual([
      'indiana_projections.csv row 2',
      'indiana_projections.csv row 4',
      'indiana_projections.csv row 6',
    ]);
    expect((await importIuXray(root, { views: ['Lateral'] })).rows.map((r) => r.patientId)).toEqual(['1', '2', '3']);
    const error = await importIuXray(root, { strict: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(/^indiana_projections\.csv row 5: image .*3_IM-1384-1001\.dcm\.png not found/);
  });

  it('names the file, row, column and expectation of malformed input', async () => {
    const root = await writeIuFixture(fresh());
    await writeFile(
      join(root, 'indiana_projections.csv'),
      formatCsv([
        ['uid', 'filename', 'projection'],
        ['1', 'sub/1_IM-0001-4001.dcm.png', 'Frontal'],
      ]),
    );
    await expect(importIuXray(root)).rejects.toThrow(
      'indiana_projections.csv row 1, column filename: "sub/1_IM-0001-4001.dcm.png" is not an image file name inside the images folder',
    );
    await writeFile(
      join(root, 'indiana_projections.csv'),
      formatCsv([
        ['uid', 'file', 'projection'],
        ['1', '1_IM-0001-4001.dcm.png', 'Frontal'],
      ]),
    );
    await expect(importIuXray(root)).rejects.toThrow(
      /indiana_projections\.csv: column "filename" is missing; indiana_projections\.csv has the columns uid, filename, projection/,
    );
    await writeFile(
      join(root, 'indiana_reports.csv'),
      formatCsv([
        IU_REPORT_COLUMNS,
        ['1', 'normal', 'normal', '', '', '', 'Clear.', ''],
        ['1', 'normal', 'normal', '', '', '', 'Clear.', ''],
      ]),
    );
    await expect(importIuXray(root)).rejects.toThrow('indiana_reports.csv row 2: uid 1 already appears in row 1');
    await writeFile(
      join(root, 'indiana_reports.csv'),
      formatCsv([IU_REPORT_COLUMNS.filter((c) => c !== 'impression'), ['1', 'normal', 'normal', '', '', '', 'Clear.']]),
    );
    await expect(importIuXray(root)).rejects.toThrow(/indiana_reports\.csv: column "impression" is missing/);
    const noImages = await writeIuFixture(fresh());
    await rm(join(noImages, 'images'), { recursive: true });
    await expect(importIuXray(noImages)).rejects.toThrow(
      /no images folder; expected images\/images_normalized\/ or images_normalized\/ or images\//,
    );
    const unchecked = await importIuXray(noImages, { checkImages: false });
    expect(unchecked.rows[0]?.imagePath).toBe(join(noImages, 'images', 'images_normalized', '1_IM-0001-4001.dcm.png'));
    await expect(importIuXray(join(dir, 'nothing-here'))).rejects.toThrow(/nothing-here is not a folder/);
  });

  it('gives loadManifest and splitByPatient rows they accept', async () => {
    const folder = fresh();
    const root = await writeIuFixture(folder);
    const result = await importIuXray(root, { labels: 'problems', minCount: 2 });
    const path = join(folder, 'manifest.csv');
    await writeImportedManifest(result, path);
    const manifest = await loadManifest(path, { labelColumns: result.labelNames });
    expect(manifest.rows.map((r) => [r.patientId, r.reportText])).toEqual(result.rows.map((r) => [r.patientId, r.reportText]));
    expect(manifest.labelColumns).toEqual([
      { name: 'normal', kind: 'binary', values: [0, 1] },
      { name: 'Cardiomegaly', kind: 'binary', values: [0, 1] },
    ]);
    const split = splitByPatient(manifest, { train: 0.6, val: 0.2, test: 0.2, seed: 1 });
    const byPatient = new Map<string, Set<string>>();
    for (const row of split.rows) byPatient.set(row.patientId, (byPatient.get(row.patientId) ?? new Set()).add(row.split as string));
    expect(byPatient.size).toBe(5);
    expect([...byPatient.values()].every((s) => s.size === 1)).toBe(true);
  });
});
