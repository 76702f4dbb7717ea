import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importMimicCxrJpg } from '../../../src/data/import/mimic-cxr-jpg.js';
import { parseRecords } from '../../../src/data/import/public-table.js';
import { parseCsv } from '../../../src/data/manifest/csv.js';
import { ImportError, type ImportedRow } from '../../../src/data/import/types.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import { splitByPatient } from '../../../src/data/manifest/split.js';
import { parseReport } from '../../../src/data/reports/parse.js';
import { writeImportedManifest } from '../../../src/data/import/write.js';
import { PUBLISHED_OBSERVATIONS } from '../../helpers/datasets/chexpert.js';
import {
  MIMIC_LABEL_COLUMNS,
  MIMIC_METADATA_COLUMNS,
  MIMIC_REPORTS,
  writeMimicFixture,
  writeMimicTable,
} from '../../helpers/datasets/mimic-cxr-jpg.js';

let dir: string;
let case_ = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-import-mimic-'));
});
/** A fresh folder per test, so no test reads another's files. */
const fresh = (): string => join(dir, `case${++case_}`);

/** All 14 observations null except the ones given. */
const labels = (set: Record<string, number> = {}): Record<string, number | null> =>
  Object.fromEntries(PUBLISHED_OBSERVATIONS.map((o) => [o, set[o] ?? null]));

const short = (row: ImportedRow): string => basename(row.imagePath).slice(0, 8);

describe('importMimicCxrJpg', () => {
  it('imports the published layout: one row per image, ids, views, per-study labels, official split, reports', async () => {
    const { root } = await writeMimicFixture(fresh());
    const result = await importMimicCxrJpg(root);
    expect(result.format).toBe('mimic-cxr-jpg');
    expect(result.root).toBe(root);
    expect(result.labelNames).toEqual(PUBLISHED_OBSERVATIONS);
    expect(result.rows.map((r) => [short(r), r.patientId, r.studyId, r.view, r.frontal, r.split, r.source])).toEqual([
      ['02aa804e', '10000032', '50414267', 'PA', true, 'train', 'mimic-cxr-2.0.0-metadata.csv.gz row 1'],
      ['174413ec', '10000032', '50414267', 'LATERAL', false, 'train', 'mimic-cxr-2.0.0-metadata.csv.gz row 2'],
      ['2a2277a9', '10000032', '53189527', 'AP', true, 'train', 'mimic-cxr-2.0.0-metadata.csv.gz row 3'],
      ['096052b7', '10000764', '57375967', 'AP', true, 'val', 'mimic-cxr-2.0.0-metadata.csv.gz row 4'],
      ['c0ffee00', '11000011', '51234567', 'LL', false, 'test', 'mimic-cxr-2.0.0-metadata.csv.gz row 6'],
      ['deadbeef', '11000011', '51234567', undefined, undefined, 'test', 'mimic-cxr-2.0.0-metadata.csv.gz row 7'],
      ['f00dcafe', '11000011', '59999999', 'AP AXIAL', undefined, undefined, 'mimic-cxr-2.0.0-metadata.csv.gz row 8'],
    ]);
    expect(result.rows[0]?.imagePath).toBe(
      join(root, 'files', 'p10', 'p10000032', 's50414267', '02aa804e-bde0afdd-112c0b34-7bc16630-4e384014.jpg'),
    );
    expect(result.rows[4]?.imagePath).toBe(
      join(root, 'files', 'p11', 'p11000011', 's51234567', 'c0ffee00-11111111-22222222-33333333-44444444.jpg'),
    );

    // Labels belong to the study: both images of 50414267 carry them; -1.0 → -1, 0.0 → 0, blank → null.
    const byImage = new Map(result.rows.map((r) => [short(r), r]));
    expect(byImage.get('02aa804e')?.labels).toEqual(labels({ 'No Finding': 1 }));
    expect(byImage.get('174413ec')?.labels).toEqual(labels({ 'No Finding': 1 }));
    expect(byImage.get('2a2277a9')?.labels).toEqual(labels({ Atelectasis: -1, Edema: 1, 'Pleural Effusion': 0, 'Support Devices': 1 }));
    expect(byImage.get('096052b7')?.labels).toEqual(labels({ Cardiomegaly: 1, Pneumonia: -1, Pneumothorax: 0 }));
    expect(byImage.get('deadbeef')?.labels).toEqual(labels({ 'Lung Opacity': 1, Fracture: -1 }));
    expect(byImage.get('f00dcafe')?.labels).toEqual(labels()); // no label row for 59999999

    // Every other metadata column travels verbatim as meta.
    expect(byImage.get('02aa804e')?.meta).toEqual({
      dicom_id: '02aa804e-bde0afdd-112c0b34-7bc16630-4e384014',
      PerformedProcedureStepDescription: 'CHEST (PA AND LAT)',
      Rows: '3056',
      Columns: '2544',
      StudyDate: '21800506',
      StudyTime: '213014.531',
      ProcedureCodeSequence_CodeMeaning: 'CHEST (PA AND LAT)',
      ViewCodeSequence_CodeMeaning: 'postero-anterior',
      PatientOrientationCodeSequence_CodeMeaning: 'Erect',
    });

    // Reports: per study, from mimic-cxr-reports/files; 59999999 has none.
    const reports = join(root, 'mimic-cxr-reports', 'files');
    expect(byImage.get('174413ec')?.reportPath).toBe(join(reports, 'p10', 'p10000032', 's50414267.txt'));
    expect(byImage.get('c0ffee00')?.reportPath).toBe(join(reports, 'p11', 'p11000011', 's51234567.txt'));
    expect(byImage.get('f00dcafe')?.reportPath).toBeUndefined();
    expect(byImage.get('174413ec')?.reportText).toBe(MIMIC_REPORTS['50414267']);
    expect(byImage.get('deadbeef')?.reportText).toBe(MIMIC_REPORTS['51234567']);
    expect(byImage.get('f00dcafe')?.reportText).toBeUndefined();

    expect(result.dropped).toEqual([
      {
        source: 'mimic-cxr-2.0.0-chexpert.csv.gz row 5',
        reason: 'no-image',
        message: 'study 11000011/58888888 has labels but no image in mimic-cxr-2.0.0-metadata.csv.gz',
      },
      {
        source: 'mimic-cxr-2.0.0-metadata.csv.gz row 5',
        reason: 'missing-image',
        path: join(root, 'files', 'p10', 'p10000764', 's57375967', 'b79e55c3-735ce5ac-64412506-cdc9ea79-f1af521f.jpg'),
        message: `image not found: ${join(root, 'files', 'p10', 'p10000764', 's57375967', 'b79e55c3-735ce5ac-64412506-cdc9ea79-f1af521f.jpg')}`,
      },
    ]);
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/labels are per study/);
    expect(notes).toMatch(/1 image\(s\) belong to studies with no row in mimic-cxr-2\.0\.0-chexpert\.csv\.gz/);
    expect(notes).toMatch(/1 image\(s\) have no row in mimic-cxr-2\.0\.0-split\.csv\.gz/);
    expect(notes).toMatch(/1 of 5 studies have no report file/);
  });

  it('report files split into sections by the report parser (MIMIC headers)', async () => {
    const { root } = await writeMimicFixture(fresh());
    const result = await importMimicCxrJpg(root);
    const report = async (study: string): Promise<Record<string, string>> => {
      const row = result.rows.find((r) => r.studyId === study) as ImportedRow;
      expect(await readFile(row.reportPath as string, 'utf8')).toBe(row.reportText);
      return parseReport(row.reportText as string).sections;
    };
    const a = await report('50414267');
    expect(a.findings).toBe(
      'The lungs are clear without focal consolidation.  No pleural effusion or\n pneumothorax.  The cardiomediastinal silhouette is within normal limits.',
    );
    expect(a.impression).toBe('No acute cardiopulmonary process.');
    expect(a.indication).toBe('___F with cough for two weeks  // eval for pneumonia');
    expect(a.comparison).toBe('None.');
    expect(a.technique).toBe('CHEST (PA AND LAT)\nChest PA and lateral'); // EXAMINATION: and TECHNIQUE:
    expect(a.preamble).toBe('FINAL REPORT');
    // A wet read keeps its own section, so it does not leak into the findings.
    const b = await report('53189527');
    expect(b.findings).toBe(
      'Endotracheal tube terminates 4 cm above the carina.  Mild pulmonary\n edema.  Possible left basilar atelectasis.  No pleural effusion.',
    );
    expect(b.impression).toBe('Mild pulmonary edema.');
    expect(b.wet_read?.startsWith('___ ___ 9:40 PM')).toBe(true);
    // FINDINGS AND IMPRESSION: is one findings section; HISTORY: is the indication.
    const c = await report('57375967');
    expect(c.findings?.startsWith('Enlarged cardiac silhouette.')).toBe(true);
    expect(c.impression).toBeUndefined();
    expect((await report('51234567')).indication).toBe('Fall.');
  });

  it('reads plain .csv tables, finds reports beside the images, and takes the NegBio labels when asked', async () => {
    const { root } = await writeMimicFixture(fresh(), { gzip: false, reports: 'files' });
    const result = await importMimicCxrJpg(root, { labeler: 'negbio' });
    expect(result.rows).toHaveLength(7);
    expect(result.rows[0]?.source).toBe('mimic-cxr-2.0.0-metadata.csv row 1');
    const study = result.rows.find((r) => r.studyId === '53189527') as ImportedRow;
    expect(study.labels).toEqual(labels({ Atelectasis: 1, 'Pleural Effusion': 0, 'Support Devices': 1 }));
    expect(study.reportPath).toBe(join(root, 'files', 'p10', 'p10000032', 's53189527.txt'));
    expect(result.notes.join('\n')).toMatch(/labels are per study \(mimic-cxr-2\.0\.0-negbio\.csv,/);
  });

  it('finds a reports tree outside the root only when named, given as its folder or its files/ folder', async () => {
    const { root, reportsRoot } = await writeMimicFixture(fresh(), { reports: 'outside' });
    const without = await importMimicCxrJpg(root);
    expect(without.rows.every((r) => r.reportPath === undefined)).toBe(true);
    expect(without.notes.join('\n')).toMatch(/no MIMIC-CXR reports tree found/);
    for (const option of [reportsRoot as string, join(reportsRoot as string, 'files')]) {
      const result = await importMimicCxrJpg(root, { reports: option });
      expect(result.rows[0]?.reportPath).toBe(join(reportsRoot as string, 'files', 'p10', 'p10000032', 's50414267.txt'));
    }
    const paths = await importMimicCxrJpg(root, { reports: reportsRoot as string, reportText: false });
    expect(paths.rows[0]?.reportPath).toBe(join(reportsRoot as string, 'files', 'p10', 'p10000032', 's50414267.txt'));
    expect(paths.rows.every((r) => r.reportText === undefined)).toBe(true);
    expect(paths.notes.join('\n')).toMatch(/\(paths only\); 1 of 5 studies have no report file there/);
    await expect(importMimicCxrJpg(root, { reports: join(dir, 'nowhere') })).rejects.toThrow(/reports: .*nowhere is not a folder/);
  });

  it('filters views: frontal keeps PA/AP only; names match the view, lateral matches LATERAL and LL', async () => {
    const { root } = await writeMimicFixture(fresh());
    const frontal = await importMimicCxrJpg(root, { views: 'frontal' });
    expect(frontal.rows.map(short)).toEqual(['02aa804e', '2a2277a9', '096052b7']);
    expect(frontal.dropped.filter((d) => d.reason === 'view').map((d) => d.source)).toEqual([
      'mimic-cxr-2.0.0-metadata.csv.gz row 2',
      'mimic-cxr-2.0.0-metadata.csv.gz row 6',
      'mimic-cxr-2.0.0-metadata.csv.gz row 7',
      'mimic-cxr-2.0.0-metadata.csv.gz row 8',
    ]);
    // The missing PA image passes the view filter, then is dropped as missing.
    expect(frontal.dropped.filter((d) => d.reason === 'missing-image').map((d) => d.source)).toEqual([
      'mimic-cxr-2.0.0-metadata.csv.gz row 5',
    ]);
    expect(frontal.notes.join('\n')).toMatch(/4 image\(s\) left out by the view filter \(frontal \(PA\/AP\)\)/);
    expect((await importMimicCxrJpg(root, { views: ['lateral'] })).rows.map(short)).toEqual(['174413ec', 'c0ffee00']);
    expect((await importMimicCxrJpg(root, { views: ['ll', 'ap axial'] })).rows.map(short)).toEqual(['c0ffee00', 'f00dcafe']);
    await expect(importMimicCxrJpg(root, { views: [] })).rejects.toThrow(/views must be 'frontal' or a non-empty list/);
  });

  it('strict fails on the first missing image naming its file and row; checkImages: false keeps it', async () => {
    const { root } = await writeMimicFixture(fresh());
    const error = await importMimicCxrJpg(root, { strict: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as ImportError).code).toBe('ERR_IMPORT');
    expect((error as Error).message).toMatch(
      /^mimic-cxr-2\.0\.0-metadata\.csv\.gz row 5: image .*b79e55c3-735ce5ac-64412506-cdc9ea79-f1af521f\.jpg not found/,
    );
    const unchecked = await importMimicCxrJpg(root, { checkImages: false });
    expect(unchecked.rows).toHaveLength(8);
    expect(unchecked.dropped.map((d) => d.reason)).toEqual(['no-image']);
    expect(unchecked.notes).toContain('image files were not checked (checkImages: false)');
  });

  it('without a split or label table, or with split: none, rows have no split or labels and a note says so', async () => {
    const { root } = await writeMimicFixture(fresh(), { split: false, labels: false, reports: 'none' });
    const result = await importMimicCxrJpg(root);
    expect(result.labelNames).toEqual([]);
    expect(result.rows.every((r) => r.split === undefined && Object.keys(r.labels).length === 0)).toBe(true);
    const notes = result.notes.join('\n');
    expect(notes).toMatch(/no mimic-cxr-2\.0\.0-chexpert\.csv\.gz or mimic-cxr-2\.0\.0-chexpert\.csv in .*: rows have no labels/);
    expect(notes).toMatch(/no mimic-cxr-2\.0\.0-split\.csv\.gz or mimic-cxr-2\.0\.0-split\.csv in .*: rows have no split/);
    expect(notes).toMatch(/no MIMIC-CXR reports tree found/);
    const other = await writeMimicFixture(fresh());
    const none = await importMimicCxrJpg(other.root, { split: 'none' });
    expect(none.rows.every((r) => r.split === undefined)).toBe(true);
    expect(none.notes.join('\n')).not.toMatch(/split/);
  });

  it('names the file, row, column, value and expectation of malformed input', async () => {
    const { root } = await writeMimicFixture(fresh());
    const blankLabels = (subject: string, study: string, set: Record<string, string> = {}): string[] => [
      subject,
      study,
      ...MIMIC_LABEL_COLUMNS.slice(2).map((c) => set[c] ?? ''),
    ];
    await writeMimicTable(root, 'chexpert', [
      MIMIC_LABEL_COLUMNS,
      blankLabels('10000032', '50414267'),
      blankLabels('10000032', '53189527', { Edema: '2.0' }),
    ]);
    await expect(importMimicCxrJpg(root)).rejects.toThrow(
      'mimic-cxr-2.0.0-chexpert.csv.gz row 2, column Edema: "2.0" is not a label: 1.0 (positive), 0.0 (negative), -1.0 (uncertain) or blank (not mentioned)',
    );
    await writeMimicTable(root, 'chexpert', [
      MIMIC_LABEL_COLUMNS.filter((c) => c !== 'Pneumothorax'),
      blankLabels('10000032', '50414267').slice(0, -1),
    ]);
    await expect(importMimicCxrJpg(root)).rejects.toThrow(/mimic-cxr-2\.0\.0-chexpert\.csv\.gz: column "Pneumothorax" is missing/);
    await writeMimicTable(root, 'chexpert', [MIMIC_LABEL_COLUMNS, blankLabels('10000032', '50414267')]);

    const metadataRow = (subject: string, view: string): string[] => [
      '02aa804e-bde0afdd-112c0b34-7bc16630-4e384014',
      subject,
      '50414267',
      'CHEST (PA AND LAT)',
      view,
      '3056',
      '2544',
      '21800506',
      '213014.531',
      'CHEST (PA AND LAT)',
      'postero-anterior',
      'Erect',
    ];
    await writeMimicTable(root, 'metadata', [MIMIC_METADATA_COLUMNS, metadataRow('p10000032', 'PA')]);
    await expect(importMimicCxrJpg(root)).rejects.toThrow(
      'mimic-cxr-2.0.0-metadata.csv.gz row 1, column subject_id: "p10000032" is not a MIMIC subject_id (digits, e.g. 10000032)',
    );
    await writeMimicTable(root, 'metadata', [
      MIMIC_METADATA_COLUMNS.filter((c) => c !== 'ViewPosition'),
      metadataRow('10000032', 'PA').filter((_, i) => i !== 4),
    ]);
    await expect(importMimicCxrJpg(root)).rejects.toThrow(/mimic-cxr-2\.0\.0-metadata\.csv\.gz: column "ViewPosition" is missing/);
    await writeMimicTable(root, 'metadata', [MIMIC_METADATA_COLUMNS, metadataRow('10000032', 'PA')]);

    await writeMimicTable(root, 'split', [
      ['dicom_id', 'study_id', 'subject_id', 'split'],
      ['02aa804e-bde0afdd-112c0b34-7bc16630-4e384014', '50414267', '10000032', 'val'],
    ]);
    await expect(importMimicCxrJpg(root)).rejects.toThrow(
      'mimic-cxr-2.0.0-split.csv.gz row 1, column split: "val" is not one of train, validate, test',
    );
    await writeMimicTable(root, 'split', [
      ['dicom_id', 'study_id', 'subject_id', 'split'],
      ['02aa804e-bde0afdd-112c0b34-7bc16630-4e384014', '50414267', '10000032', 'validate'],
    ]);
    const ok = await importMimicCxrJpg(root);
    expect(ok.rows.map((r) => [r.patientId, r.split])).toEqual([['10000032', 'val']]);

    await writeFile(join(root, 'mimic-cxr-2.0.0-metadata.csv.gz'), 'not gzip');
    await expect(importMimicCxrJpg(root)).rejects.toThrow(/mimic-cxr-2\.0\.0-metadata\.csv\.gz: not a valid gzip file/);
    await rm(join(root, 'mimic-cxr-2.0.0-metadata.csv.gz'));
    await expect(importMimicCxrJpg(root)).rejects.toThrow(/no mimic-cxr-2\.0\.0-metadata\.csv\.gz or mimic-cxr-2\.0\.0-metadata\.csv/);
  });

  it('gives loadManifest and splitByPatient rows they accept, patients never split across sets', async () => {
    const folder = fresh();
    const { root } = await writeMimicFixture(folder);
    const result = await importMimicCxrJpg(root);
    const path = join(folder, 'manifest.csv');
    await writeImportedManifest(result, path);
    const manifest = await loadManifest(path, { labelColumns: result.labelNames });
    expect(manifest.rows.map((r) => [r.patientId, r.studyId, r.split])).toEqual(result.rows.map((r) => [r.patientId, r.studyId, r.split]));
    expect(manifest.rows[0]?.reportPath).toBe(result.rows[0]?.reportPath);
    expect(manifest.rows[0]?.reportText).toBe(MIMIC_REPORTS['50414267']);
    expect(manifest.labelColumns.find((c) => c.name === 'Atelectasis')).toEqual({ name: 'Atelectasis', kind: 'binary', values: [-1] });
    expect(manifest.labelColumns.every((c) => c.kind === 'binary')).toBe(true);
    const split = splitByPatient(manifest, { train: 0.34, val: 0.33, test: 0.33, seed: 7 });
    const splitOf = new Map<string, Set<string>>();
    for (const row of split.rows) splitOf.set(row.patientId, (splitOf.get(row.patientId) ?? new Set()).add(row.split as string));
    expect([...splitOf.values()].every((s) => s.size === 1)).toBe(true);
    expect(splitOf.size).toBe(3);
  });
});

describe("parseRecords (the tables' fast CSV path)", () => {
  const outcome = (parse: () => string[][]): unknown => {
    try {
      return parse();
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
  };

  it("gives parseCsv's rows, or its error, on quoted, multi-line, CRLF, BOM and malformed text", () => {
    const texts = [
      'a,b\n1,2\n',
      '\ufeffa,b\r\n1,"x, y"\r\n\r\n2,"line\none",\n',
      'a,"b""c"\n"d\r\ne",f',
      'a,b\n"1\n2\n3",4\n5,6',
      'a\n"never closed\n',
      'a,b\n1,x"y\n',
      'a\r\n\r\nb\rc\n',
      '',
    ];
    // Plus random strings over the characters that matter (seeded LCG, so failures reproduce).
    let state = 12345;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = ['a', ',', '"', '\n', '\r', 'b'];
    for (let k = 0; k < 5000; k++)
      texts.push(Array.from({ length: Math.floor(next() * 16) }, () => alphabet[Math.floor(next() * 6)]).join(''));
    for (const text of texts) expect(outcome(() => parseRecords(text, 't.csv'))).toEqual(outcome(() => parseCsv(text, 't.csv')));
  });
});
