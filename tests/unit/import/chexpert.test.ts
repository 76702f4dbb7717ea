import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importChexpert } from '../../../src/data/import/chexpert.js';
import { ImportError, type ImportedRow } from '../../../src/data/import/types.js';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import { splitByPatient } from '../../../src/data/manifest/split.js';
import { CHEXPERT_COLUMNS, writeChexpertFixture } from '../../helpers/datasets/chexpert.js';
import { writeImportedManifest } from '../../../src/data/import/write.js';

let dir: string;
let case_ = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-import-chexpert-'));
});
const fresh = (): string => join(dir, `case${++case_}`);

const OBSERVATIONS = CHEXPERT_COLUMNS.slice(5);
const labels = (set: Record<string, number> = {}): Record<string, number | null> =>
  Object.fromEntries(OBSERVATIONS.map((o) => [o, set[o] ?? null]));
const zeros = (set: Record<string, number>): Record<string, number | null> => Object.fromEntries(OBSERVATIONS.map((o) => [o, set[o] ?? 0]));
const tail = (row: ImportedRow): string => row.imagePath.split(/[\\/]/).slice(-4).join('/');

describe('importChexpert', () => {
  it('imports train.csv and valid.csv from the folder above the dataset: ids from the path, views, labels, official split, meta', async () => {
    const { parent, dataset } = await writeChexpertFixture(fresh());
    const result = await importChexpert(parent);
    expect(result.format).toBe('chexpert');
    expect(result.labelNames).toEqual(OBSERVATIONS);
    expect(result.rows.map((r) => [tail(r), r.patientId, r.studyId, r.view, r.frontal, r.split, r.source])).toEqual([
      ['train/patient00001/study1/view1_frontal.jpg', 'patient00001', 'patient00001/study1', 'AP', true, 'train', 'train.csv row 1'],
      ['train/patient00001/study1/view2_lateral.jpg', 'patient00001', 'patient00001/study1', 'Lateral', false, 'train', 'train.csv row 2'],
      ['train/patient00001/study2/view1_frontal.jpg', 'patient00001', 'patient00001/study2', 'AP', true, 'train', 'train.csv row 3'],
      ['train/patient00003/study1/view1_frontal.jpg', 'patient00003', 'patient00003/study1', 'Frontal', true, 'train', 'train.csv row 5'],
      ['valid/patient64541/study1/view1_frontal.jpg', 'patient64541', 'patient64541/study1', 'PA', true, 'val', 'valid.csv row 1'],
      ['valid/patient64542/study1/view1_frontal.jpg', 'patient64542', 'patient64542/study1', 'AP', true, 'val', 'valid.csv row 2'],
      ['valid/patient64542/study1/view2_lateral.jpg', 'patient64542', 'patient64542/study1', 'Lateral', false, 'val', 'valid.csv row 3'],
    ]);
    expect(result.rows[0]?.imagePath).toBe(join(dataset, 'train', 'patient00001', 'study1', 'view1_frontal.jpg'));
    expect(result.rows.map((r) => r.labels)).toEqual([
      labels({ 'No Finding': 1, Pneumothorax: 0, 'Support Devices': 1 }),
      labels({ 'No Finding': 1, Pneumothorax: 0, 'Support Devices': 1 }),
      labels({ Cardiomegaly: -1, 'Lung Opacity': 1, Edema: -1, 'Pleural Effusion': 1, 'Support Devices': 1 }),
      labels({ Fracture: 1, 'Lung Lesion': -1, Pneumonia: 0 }),
      zeros({ Cardiomegaly: 1, 'Lung Opacity': 1 }),
      zeros({ 'No Finding': 1 }),
      zeros({ 'No Finding': 1 }),
    ]);
    expect(result.rows.map((r) => r.meta)).toEqual([
      { Sex: 'Female', Age: '68', 'Frontal/Lateral': 'Frontal', 'AP/PA': 'AP' },
      { Sex: 'Female', Age: '68', 'Frontal/Lateral': 'Lateral', 'AP/PA': '' },
      { Sex: 'Female', Age: '69', 'Frontal/Lateral': 'Frontal', 'AP/PA': 'AP' },
      { Sex: 'Unknown', Age: '80', 'Frontal/Lateral': 'Frontal', 'AP/PA': '' },
      { Sex: 'Male', Age: '73', 'Frontal/Lateral': 'Frontal', 'AP/PA': 'PA' },
      { Sex: 'Female', Age: '70', 'Frontal/Lateral': 'Frontal', 'AP/PA': 'AP' },
      { Sex: 'Female', Age: '70', 'Frontal/Lateral': 'Lateral', 'AP/PA': '' },
    ]);
    expect(result.rows.every((r) => r.reportText === undefined && r.reportPath === undefined)).toBe(true);
    const missing = join(dataset, 'train', 'patient00002', 'study1', 'view1_frontal.jpg');
    expect(result.dropped).toEqual([
      { source: 'train.csv row 4', reason: 'missing-image', path: missing, message: `image not found: ${missing}` },
    ]);
    expect(result.notes).toContain('train.csv: 5 image(s) of 3 patient(s)');
    expect(result.notes).toContain('valid.csv: 3 image(s) of 2 patient(s)');
  });

  it('gives the same rows whether the root is the dataset folder, its parent, or a renamed dataset folder', async () => {
    const { parent, dataset } = await writeChexpertFixture(fresh());
    const fromParent = await importChexpert(parent);
    const fromDataset = await importChexpert(dataset);
    expect(fromDataset.rows).toEqual(fromParent.rows);
    const renamed = join(parent, 'chexpert-small');
    await rename(dataset, renamed);
    const fromRenamed = await importChexpert(renamed);
    expect(fromRenamed.rows.map((r) => r.imagePath)).toEqual(fromParent.rows.map((r) => r.imagePath.replace(dataset, renamed)));
    await expect(importChexpert(parent)).rejects.toThrow(
      /no train\.csv or valid\.csv here or in CheXpert-v1\.0-small\/ or CheXpert-v1\.0\//,
    );
  });

  it('reads the full-size CheXpert-v1.0 folder name too', async () => {
    const { parent } = await writeChexpertFixture(fresh(), { folder: 'CheXpert-v1.0' });
    const result = await importChexpert(parent);
    expect(result.rows[0]?.imagePath).toBe(join(parent, 'CheXpert-v1.0', 'train', 'patient00001', 'study1', 'view1_frontal.jpg'));
  });

  it('files, split: none and table-name overrides', async () => {
    const { parent, dataset } = await writeChexpertFixture(fresh());
    const valid = await importChexpert(parent, { files: ['valid'] });
    expect(valid.rows.map((r) => r.patientId)).toEqual(['patient64541', 'patient64542', 'patient64542']);
    const none = await importChexpert(parent, { split: 'none' });
    expect(none.rows.every((r) => r.split === undefined)).toBe(true);
    await rename(join(dataset, 'train.csv'), join(dataset, 'train_cheXbert.csv'));
    const override = await importChexpert(parent, { trainFile: 'train_cheXbert.csv' });
    expect(override.rows.filter((r) => r.split === 'train')).toHaveLength(4);
    expect(override.rows[0]?.source).toBe('train_cheXbert.csv row 1');
    // Only valid.csv now: a note, unless train was asked for by name.
    const onlyValid = await importChexpert(parent);
    expect(onlyValid.notes).toContain(`no train.csv in ${dataset}: only valid imported`);
    await expect(importChexpert(parent, { files: ['train'] })).rejects.toThrow(/no train\.csv here/);
    await expect(importChexpert(parent, { files: ['train', 'valid'] })).rejects.toThrow(/train\.csv: not found \(files asks for train\)/);
    await expect(importChexpert(parent, { files: ['test' as 'train'] })).rejects.toThrow(
      /files must be a non-empty list of 'train' and 'valid'/,
    );
    await expect(importChexpert(parent, { split: 'random' as 'none' })).rejects.toThrow(/split must be 'official' or 'none'/);
  });

  it('views: frontal keeps Frontal rows, a name matches the view (PA) and lateral matches Lateral', async () => {
    const { parent } = await writeChexpertFixture(fresh());
    const frontal = await importChexpert(parent, { views: 'frontal' });
    expect(frontal.rows.map(tail)).toEqual([
      'train/patient00001/study1/view1_frontal.jpg',
      'train/patient00001/study2/view1_frontal.jpg',
      'train/patient00003/study1/view1_frontal.jpg',
      'valid/patient64541/study1/view1_frontal.jpg',
      'valid/patient64542/study1/view1_frontal.jpg',
    ]);
    expect(frontal.dropped.map((d) => [d.source, d.reason])).toEqual([
      ['train.csv row 2', 'view'],
      ['valid.csv row 3', 'view'],
      ['train.csv row 4', 'missing-image'],
    ]);
    expect((await importChexpert(parent, { views: ['PA'] })).rows.map((r) => r.patientId)).toEqual(['patient64541']);
    expect((await importChexpert(parent, { views: ['lateral'] })).rows.map(tail)).toEqual([
      'train/patient00001/study1/view2_lateral.jpg',
      'valid/patient64542/study1/view2_lateral.jpg',
    ]);
  });

  it('strict names the missing image and its row', async () => {
    const { parent } = await writeChexpertFixture(fresh());
    const error = await importChexpert(parent, { strict: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(/^train\.csv row 4: image .*patient00002.study1.view1_frontal\.jpg not found/);
  });

  it('names the file, row, column, value and expectation of malformed input', async () => {
    const { dataset } = await writeChexpertFixture(fresh(), { valid: false });
    const row = (path: string, side: string, label: string): string[] => [
      path,
      'Female',
      '50',
      side,
      'PA',
      label,
      ...OBSERVATIONS.slice(1).map(() => ''),
    ];
    const write = (rows: string[][], header = CHEXPERT_COLUMNS): Promise<void> =>
      writeFile(join(dataset, 'train.csv'), formatCsv([header, ...rows]));
    await write([row('CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg', 'Frontal', 'yes')]);
    await expect(importChexpert(dataset)).rejects.toThrow(
      'train.csv row 1, column No Finding: "yes" is not a label: 1.0 (positive), 0.0 (negative), -1.0 (uncertain) or blank (not mentioned)',
    );
    await write([row('CheXpert-v1.0-small/train/patient00001/view1_frontal.jpg', 'Frontal', '1.0')]);
    await expect(importChexpert(dataset)).rejects.toThrow(
      'train.csv row 1, column Path: "CheXpert-v1.0-small/train/patient00001/view1_frontal.jpg" is not a CheXpert image path such as CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg',
    );
    await write([row('CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg', 'Oblique', '1.0')]);
    await expect(importChexpert(dataset)).rejects.toThrow('train.csv row 1, column Frontal/Lateral: "Oblique" is not Frontal or Lateral');
    await write(
      [row('CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg', 'Frontal', '1.0').slice(0, -1)],
      CHEXPERT_COLUMNS.slice(0, -1),
    );
    await expect(importChexpert(dataset)).rejects.toThrow(
      /train\.csv: column "Support Devices" is missing; a CheXpert table has the columns Path, Sex/,
    );
    await writeFile(
      join(dataset, 'train.csv'),
      `${CHEXPERT_COLUMNS.join(',')}\nCheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female\n`,
    );
    await expect(importChexpert(dataset)).rejects.toThrow('train.csv row 1: 2 fields, but the header has 19');
    await rm(join(dataset, 'train.csv'));
    await expect(importChexpert(join(dir, 'absent'))).rejects.toThrow(/absent is not a folder/);
  });

  it('gives loadManifest and splitByPatient rows they accept', async () => {
    const folder = fresh();
    const { parent } = await writeChexpertFixture(folder);
    const result = await importChexpert(parent);
    const path = join(folder, 'manifest.csv');
    await writeImportedManifest(result, path);
    const manifest = await loadManifest(path, { labelColumns: result.labelNames });
    expect(manifest.rows.map((r) => [r.imagePaths, r.patientId, r.studyId, r.view, r.split])).toEqual(
      result.rows.map((r) => [[r.imagePath], r.patientId, r.studyId, r.view, r.split]),
    );
    expect(manifest.labelColumns.find((c) => c.name === 'Cardiomegaly')).toEqual({
      name: 'Cardiomegaly',
      kind: 'binary',
      values: [-1, 0, 1],
    });
    expect(manifest.rows[0]?.labels['Edema']).toBeNull();
    const split = splitByPatient(manifest, { train: 0.5, val: 0.25, test: 0.25, seed: 3 });
    const byPatient = new Map<string, Set<string>>();
    for (const row of split.rows) byPatient.set(row.patientId, (byPatient.get(row.patientId) ?? new Set()).add(row.split as string));
    expect(byPatient.size).toBe(4);
    expect([...byPatient.values()].every((s) => s.size === 1)).toBe(true);
  });
});
