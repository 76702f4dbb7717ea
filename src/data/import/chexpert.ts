/**
 * CheXpert (Stanford ML Group) in its published layout: `train.csv` and `valid.csv` in the
 * dataset folder (CheXpert-v1.0-small or CheXpert-v1.0), one row per image, `Path` written
 * relative to the folder above the dataset folder
 * (`CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg`). The Path's first
 * segment is the dataset folder's published name; it is resolved against the folder actually
 * found, so a renamed dataset folder, or a root given as its parent, both work.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { OBSERVATIONS } from '../labeler/observations.js';
import type { Split } from '../manifest/types.js';
import { cellError, checkSplitOption, isDirectory, isFile, parseObservation, readTable, requireColumns, sourceOf } from './public-table.js';
import { checkCommonOptions, selectRows } from './public-views.js';
import { ImportError, type CommonImportOptions, type DroppedRow, type ImportedRow, type ImportResult } from './types.js';

export type ChexpertFile = 'train' | 'valid';

export interface ChexpertImportOptions extends CommonImportOptions {
  /** 'official' (default): train.csv → train, valid.csv → val; 'none': rows get no split. */
  split?: 'official' | 'none';
  /** Which tables to read (default both; a missing valid.csv is then a note). */
  files?: ChexpertFile[];
  /** Table-name overrides (e.g. 'train_cheXbert.csv'), resolved against the dataset folder when relative. */
  trainFile?: string;
  validFile?: string;
}

const FN = 'importChexpert';
const DATASET_FOLDERS = ['CheXpert-v1.0-small', 'CheXpert-v1.0'];
const COLUMNS = ['Path', 'Sex', 'Age', 'Frontal/Lateral', 'AP/PA', ...OBSERVATIONS] as const;
const META_COLUMNS = ['Sex', 'Age', 'Frontal/Lateral', 'AP/PA'] as const;
const SPLIT_OF: Record<ChexpertFile, Split> = { train: 'train', valid: 'val' };
const PART = /^(train|valid|test)$/;
const PATIENT = /^patient\d+$/;
const STUDY = /^study\d+$/;
const EXAMPLE_PATH = 'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg';

function checkFiles(files: unknown): ChexpertFile[] {
  if (files === undefined) return ['train', 'valid'];
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => f !== 'train' && f !== 'valid')) {
    throw new InvalidArgumentError(`${FN}: files must be a non-empty list of 'train' and 'valid', got ${JSON.stringify(files)}`, {
      option: 'files',
    });
  }
  return [...new Set(files as ChexpertFile[])];
}

const tablePath = (dir: string, name: string): string => (isAbsolute(name) ? name : resolve(dir, name));

/** The dataset folder: the root itself, or CheXpert-v1.0-small / CheXpert-v1.0 inside it, whichever holds the tables. */
async function findDatasetFolder(root: string, names: Record<ChexpertFile, string>, files: ChexpertFile[]): Promise<string> {
  const places = [root, ...DATASET_FOLDERS.map((f) => join(root, f))];
  for (const dir of places) {
    for (const file of files) if (await isFile(tablePath(dir, names[file]))) return dir;
  }
  const wanted = files.map((f) => names[f]).join(' or ');
  throw new ImportError(
    `${root}: no ${wanted} here or in ${DATASET_FOLDERS.join('/ or ')}/; expected the CheXpert dataset folder or the folder above it`,
    {
      path: root,
    },
  );
}

export async function importChexpert(root: string, options: ChexpertImportOptions = {}): Promise<ImportResult> {
  const common = checkCommonOptions(options, FN);
  const splitMode = checkSplitOption(options.split, FN);
  const files = checkFiles(options.files);
  const base = resolve(root);
  if (!(await isDirectory(base)))
    throw new ImportError(`${base} is not a folder; expected the CheXpert dataset folder or the folder above it`, { path: base });
  const names: Record<ChexpertFile, string> = { train: options.trainFile ?? 'train.csv', valid: options.validFile ?? 'valid.csv' };
  const dataset = await findDatasetFolder(base, names, files);
  const notes: string[] = [];
  const dropped: DroppedRow[] = [];
  const rows: ImportedRow[] = [];

  for (const file of files) {
    const path = tablePath(dataset, names[file]);
    if (!(await isFile(path))) {
      if (options.files !== undefined) throw new ImportError(`${path}: not found (files asks for ${file})`, { path });
      notes.push(`no ${names[file]} in ${dataset}: only ${files.filter((f) => f !== file).join(', ')} imported`);
      continue;
    }
    const table = await readTable(path);
    const cols = requireColumns(table, COLUMNS, 'a CheXpert table');
    const studyPatient = new Map<string, string>();
    table.records.forEach((record, index) => {
      const raw = (record[cols.Path] as string).trim();
      const parts = raw.split(/[\\/]+/).filter((s) => s !== '');
      const at = parts.findIndex((s, i) => PART.test(s) && PATIENT.test(parts[i + 1] ?? ''));
      if (at < 0 || parts.length !== at + 4 || !STUDY.test(parts[at + 2] as string)) {
        throw cellError(table, index, 'Path', raw, `a CheXpert image path such as ${EXAMPLE_PATH} (<part>/patientNNNNN/studyN/<image>)`);
      }
      const patient = parts[at + 1] as string;
      const studyId = `${patient}/${parts[at + 2]}`;
      studyPatient.set(studyId, patient);
      const side = (record[cols['Frontal/Lateral']] as string).trim();
      if (side !== 'Frontal' && side !== 'Lateral') throw cellError(table, index, 'Frontal/Lateral', side, 'Frontal or Lateral');
      const apPa = (record[cols['AP/PA']] as string).trim();
      const labels: Record<string, number | null> = {};
      for (const name of OBSERVATIONS) labels[name] = parseObservation(table, index, name, record[cols[name]] as string);
      const meta: Record<string, string> = {};
      for (const name of META_COLUMNS) meta[name] = record[cols[name]] as string;
      table.header.forEach((name, i) => {
        if (!(COLUMNS as readonly string[]).includes(name)) meta[name] = record[i] as string;
      });
      const row: ImportedRow = {
        imagePath: join(dataset, ...parts.slice(at)),
        patientId: patient,
        studyId,
        // The projection when the dataset gives it (PA, AP), else Frontal / Lateral.
        view: side === 'Frontal' && apPa !== '' ? apPa : side,
        frontal: side === 'Frontal',
        labels,
        meta,
        source: sourceOf(table, index),
      };
      if (splitMode === 'official') row.split = SPLIT_OF[file];
      rows.push(row);
    });
    notes.push(`${table.name}: ${table.records.length} image(s) of ${new Set(studyPatient.values()).size} patient(s)`);
  }
  if (splitMode === 'official')
    notes.push('split: train.csv → train, valid.csv → val; no test rows (the CheXpert test set is distributed separately)');

  const kept = await selectRows(rows, common, dropped, notes);
  notes.push('CheXpert v1.0 ships no report text: rows carry labels only (made by the CheXpert labeler from the reports)');
  return { format: 'chexpert', root: base, rows: kept, labelNames: [...OBSERVATIONS], dropped, notes };
}
