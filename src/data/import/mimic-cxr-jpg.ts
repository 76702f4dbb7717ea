/**
 * MIMIC-CXR-JPG (PhysioNet) in its published layout: images at
 * `files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.jpg` and the tables
 * `mimic-cxr-2.0.0-{metadata,chexpert|negbio,split}.csv(.gz)`. Labels belong to a study
 * (subject_id + study_id) and are given to every image of it; the split is per image
 * (train / validate / test). Reports come from the MIMIC-CXR reports tree
 * (`files/pNN/pNNNNNNNN/sNNNNNNNN.txt`): each row gets its study's report path and text.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { mapLimit } from '../../io/map-limit.js';
import { OBSERVATIONS } from '../labeler/observations.js';
import type { Split } from '../manifest/types.js';
import {
  cellError,
  checkSplitOption,
  findFile,
  isDirectory,
  isFile,
  namedFile,
  parseObservation,
  readTable,
  requireColumns,
  sourceOf,
  type Table,
} from './public-table.js';
import { checkCommonOptions, frontalOf, selectRows } from './public-views.js';
import { ImportError, type CommonImportOptions, type DroppedRow, type ImportedRow, type ImportResult } from './types.js';

export interface MimicImportOptions extends CommonImportOptions {
  /** 'official' (default): the split from mimic-cxr-2.0.0-split.csv(.gz); 'none': rows get no split. */
  split?: 'official' | 'none';
  /** Which published label table: the CheXpert labeler's (default) or NegBio's. */
  labeler?: 'chexpert' | 'negbio';
  /** The reports tree: the unzipped mimic-cxr-reports folder (holding files/), or that files/ folder. */
  reports?: string;
  /**
   * Read each study's report into the rows' reportText (default true); false passes the report
   * paths only, for a smaller manifest.
   */
  reportText?: boolean;
  /** File-name overrides, resolved against the root when relative. */
  metadataFile?: string;
  labelsFile?: string;
  splitFile?: string;
}

const FN = 'importMimicCxrJpg';
const PREFIX = 'mimic-cxr-2.0.0';
const METADATA_COLUMNS = ['dicom_id', 'subject_id', 'study_id', 'ViewPosition'] as const;
const SPLIT_COLUMNS = ['dicom_id', 'study_id', 'subject_id', 'split'] as const;
const SPLITS: Record<string, Split> = { train: 'train', validate: 'val', test: 'test' };
const DIGITS = /^\d{2,}$/;
const DICOM_ID = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

const candidates = (stem: string): string[] => [`${PREFIX}-${stem}.csv.gz`, `${PREFIX}-${stem}.csv`];

/** A subject or study id cell: digits, as MIMIC writes them (10000032, 50414267). */
function idCell(table: Table, index: number, column: string, value: string): string {
  const text = value.trim();
  if (!DIGITS.test(text)) throw cellError(table, index, column, text, `a MIMIC ${column} (digits, e.g. 10000032)`);
  return text;
}

interface StudyLabels {
  labels: Record<string, number | null>;
  index: number;
  used: boolean;
}

function readLabels(table: Table): Map<string, StudyLabels> {
  const cols = requireColumns(table, ['subject_id', 'study_id', ...OBSERVATIONS], `a MIMIC-CXR label table`);
  const byStudy = new Map<string, StudyLabels>();
  table.records.forEach((record, index) => {
    const subject = idCell(table, index, 'subject_id', record[cols.subject_id] as string);
    const study = idCell(table, index, 'study_id', record[cols.study_id] as string);
    const key = `${subject}/${study}`;
    const prior = byStudy.get(key);
    if (prior) {
      throw new ImportError(
        `${table.name} row ${index + 1}: study ${study} of subject ${subject} is already labelled in row ${prior.index + 1}`,
        {
          path: table.path,
          row: index + 1,
        },
      );
    }
    const labels: Record<string, number | null> = {};
    for (const name of OBSERVATIONS) labels[name] = parseObservation(table, index, name, record[cols[name]] as string);
    byStudy.set(key, { labels, index, used: false });
  });
  return byStudy;
}

function readSplit(table: Table): Map<string, { split: Split; subject: string; study: string; index: number }> {
  const cols = requireColumns(table, SPLIT_COLUMNS, 'the MIMIC-CXR-JPG split table');
  const byImage = new Map<string, { split: Split; subject: string; study: string; index: number }>();
  table.records.forEach((record, index) => {
    const dicom = (record[cols.dicom_id] as string).trim();
    const raw = (record[cols.split] as string).trim();
    const split = SPLITS[raw];
    if (!split) throw cellError(table, index, 'split', raw, 'one of train, validate, test');
    const subject = idCell(table, index, 'subject_id', record[cols.subject_id] as string);
    const study = idCell(table, index, 'study_id', record[cols.study_id] as string);
    if (byImage.has(dicom)) {
      throw new ImportError(
        `${table.name} row ${index + 1}: dicom_id ${dicom} already appears in row ${(byImage.get(dicom)?.index ?? 0) + 1}`,
        {
          path: table.path,
          row: index + 1,
        },
      );
    }
    byImage.set(dicom, { split, subject, study, index });
  });
  return byImage;
}

const reportFile = (base: string, subject: string, study: string): string =>
  join(base, `p${subject.slice(0, 2)}`, `p${subject}`, `s${study}.txt`);

/** The folder holding pNN/pNNNNNNNN/sNNNNNNNN.txt: the option, else the first usual place where a probe finds reports. */
async function findReportsBase(root: string, option: string | undefined, studies: Array<[string, string]>): Promise<string | undefined> {
  if (option !== undefined) {
    const dir = resolve(option);
    if (!(await isDirectory(dir)))
      throw new ImportError(`reports: ${dir} is not a folder; expected the unzipped mimic-cxr-reports tree`, { path: dir });
    return (await isDirectory(join(dir, 'files'))) ? join(dir, 'files') : dir;
  }
  const places = [join(root, 'mimic-cxr-reports', 'files'), join(root, 'files'), join(dirname(root), 'mimic-cxr-reports', 'files')];
  const probe = studies.slice(0, 50);
  for (const base of places) {
    if (!(await isDirectory(base))) continue;
    const found = await mapLimit(probe, 16, ([subject, study]) => isFile(reportFile(base, subject, study)));
    if (found.some(Boolean)) return base;
  }
  return undefined;
}

/**
 * Gives each row its study's report: the path always, the text too unless `reportText` is false.
 * A study without a report file (or with an unreadable one) keeps its rows, without report.
 */
async function attachReports(rows: ImportedRow[], root: string, options: MimicImportOptions, notes: string[]): Promise<void> {
  const studies = new Map<string, [string, string]>();
  for (const row of rows) studies.set(`${row.patientId}/${row.studyId}`, [row.patientId, row.studyId]);
  const reportsBase = await findReportsBase(root, options.reports, [...studies.values()]);
  if (!reportsBase) {
    notes.push(
      `no MIMIC-CXR reports tree found (looked in mimic-cxr-reports/files under and beside ${root}, and in files/): rows have no report; pass reports to name it`,
    );
    return;
  }
  const readText = options.reportText ?? true;
  const found = new Map<string, { path: string; text?: string }>();
  const unreadable: string[] = [];
  await mapLimit([...studies], 32, async ([key, [subject, study]]) => {
    const path = reportFile(reportsBase, subject, study);
    if (!readText) {
      if (await isFile(path)) found.set(key, { path });
      return;
    }
    try {
      found.set(key, { path, text: await readFile(path, 'utf8') });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') unreadable.push(`${path} (${(error as Error).message})`);
    }
  });
  for (const row of rows) {
    const report = found.get(`${row.patientId}/${row.studyId}`);
    if (!report) continue;
    row.reportPath = report.path;
    if (report.text !== undefined && report.text.trim() !== '') row.reportText = report.text;
  }
  const missing = studies.size - found.size - unreadable.length;
  notes.push(
    `reports from ${reportsBase}` +
      (readText ? ' (text read into each row; reportText: false keeps the paths only)' : ' (paths only)') +
      (missing > 0 ? `; ${missing} of ${studies.size} studies have no report file there (rows kept without report)` : ''),
  );
  if (unreadable.length > 0)
    notes.push(`${unreadable.length} report file(s) could not be read (rows kept without report), first: ${unreadable.sort()[0]}`);
}

export async function importMimicCxrJpg(root: string, options: MimicImportOptions = {}): Promise<ImportResult> {
  const common = checkCommonOptions(options, FN);
  const splitMode = checkSplitOption(options.split, FN);
  const labeler = options.labeler ?? 'chexpert';
  if (labeler !== 'chexpert' && labeler !== 'negbio') {
    throw new InvalidArgumentError(`${FN}: labeler must be 'chexpert' or 'negbio', got ${JSON.stringify(labeler)}`, { option: 'labeler' });
  }
  if (options.reportText !== undefined && typeof options.reportText !== 'boolean') {
    throw new InvalidArgumentError(`${FN}: reportText must be a boolean`, { option: 'reportText' });
  }
  const base = resolve(root);
  if (!(await isDirectory(base)))
    throw new ImportError(`${base} is not a folder; expected the MIMIC-CXR-JPG folder (files/ and the ${PREFIX}-*.csv.gz tables)`, {
      path: base,
    });
  const notes: string[] = [];
  const dropped: DroppedRow[] = [];

  const metadataPath = options.metadataFile
    ? await namedFile(base, options.metadataFile, 'metadataFile')
    : await findFile(base, candidates('metadata'));
  if (!metadataPath) {
    throw new ImportError(
      `${base}: no ${candidates('metadata').join(' or ')}; expected the MIMIC-CXR-JPG folder (files/ and the ${PREFIX}-*.csv.gz tables)`,
      {
        path: base,
      },
    );
  }
  const labelsPath = options.labelsFile
    ? await namedFile(base, options.labelsFile, 'labelsFile')
    : await findFile(base, candidates(labeler));
  const splitPath =
    splitMode === 'none'
      ? undefined
      : options.splitFile
        ? await namedFile(base, options.splitFile, 'splitFile')
        : await findFile(base, candidates('split'));

  const metadata = await readTable(metadataPath);
  const cols = requireColumns(metadata, METADATA_COLUMNS, 'the MIMIC-CXR-JPG metadata table');
  const roleColumns = new Set<number>([cols.subject_id, cols.study_id, cols.ViewPosition]);
  const metaColumns = metadata.header.map((name, i) => [name, i] as const).filter(([, i]) => !roleColumns.has(i));
  const metaOf = (record: string[]): Record<string, string> => {
    const meta: Record<string, string> = {};
    for (const [name, i] of metaColumns) meta[name] = record[i] as string;
    return meta;
  };

  const labelsTable = labelsPath ? await readTable(labelsPath) : undefined;
  const studyLabels = labelsTable ? readLabels(labelsTable) : undefined;
  const labelNames: string[] = studyLabels ? [...OBSERVATIONS] : [];
  const noLabels: Record<string, number | null> = Object.fromEntries(labelNames.map((name) => [name, null]));
  if (!labelsTable)
    notes.push(`no ${candidates(labeler).join(' or ')} in ${base}: rows have no labels (radlearn label can label the reports)`);
  else
    notes.push(
      `labels are per study (${labelsTable.name}, joined on subject_id + study_id): every image of a study carries its study's labels`,
    );

  const splitTable = splitPath ? await readTable(splitPath) : undefined;
  const splits = splitTable ? readSplit(splitTable) : undefined;
  if (splitMode === 'official' && !splitTable)
    notes.push(`no ${candidates('split').join(' or ')} in ${base}: rows have no split (split by patient later)`);

  const seen = new Map<string, number>();
  let unlabelled = 0;
  let unsplit = 0;
  const rows: ImportedRow[] = metadata.records.map((record, index) => {
    const dicom = (record[cols.dicom_id] as string).trim();
    if (!DICOM_ID.test(dicom)) throw cellError(metadata, index, 'dicom_id', dicom, 'a MIMIC dicom_id (the image file name without .jpg)');
    const prior = seen.get(dicom);
    if (prior !== undefined) {
      throw new ImportError(`${metadata.name} row ${index + 1}: dicom_id ${dicom} already appears in row ${prior + 1}`, {
        path: metadata.path,
        row: index + 1,
      });
    }
    seen.set(dicom, index);
    const subject = idCell(metadata, index, 'subject_id', record[cols.subject_id] as string);
    const study = idCell(metadata, index, 'study_id', record[cols.study_id] as string);
    const view = (record[cols.ViewPosition] as string).trim();
    const row: ImportedRow = {
      imagePath: join(base, 'files', `p${subject.slice(0, 2)}`, `p${subject}`, `s${study}`, `${dicom}.jpg`),
      patientId: subject,
      studyId: study,
      labels: {},
      meta: metaOf(record),
      source: sourceOf(metadata, index),
    };
    if (view !== '') row.view = view;
    const frontal = frontalOf(view);
    if (frontal !== undefined) row.frontal = frontal;
    if (studyLabels) {
      const found = studyLabels.get(`${subject}/${study}`);
      if (found) found.used = true;
      else unlabelled++;
      // A copy per row, so that no two rows share one mutable object.
      row.labels = { ...(found ? found.labels : noLabels) };
    }
    if (splits) {
      const entry = splits.get(dicom);
      if (!entry) unsplit++;
      else if (entry.subject !== subject || entry.study !== study) {
        throw new ImportError(
          `${splitTable?.name} row ${entry.index + 1}: dicom_id ${dicom} is in study ${entry.study} of subject ${entry.subject} there, but in study ${study} of subject ${subject} in ${metadata.name} row ${index + 1}`,
          { path: splitTable?.path, row: entry.index + 1 },
        );
      } else row.split = entry.split;
    }
    return row;
  });
  if (unlabelled > 0) notes.push(`${unlabelled} image(s) belong to studies with no row in ${labelsTable?.name}: their labels are empty`);
  if (unsplit > 0) notes.push(`${unsplit} image(s) have no row in ${splitTable?.name}: they have no split`);
  if (studyLabels && labelsTable) {
    for (const [key, entry] of studyLabels) {
      if (entry.used) continue;
      dropped.push({
        source: sourceOf(labelsTable, entry.index),
        reason: 'no-image',
        message: `study ${key} has labels but no image in ${metadata.name}`,
      });
    }
  }

  const kept = await selectRows(rows, common, dropped, notes);

  await attachReports(kept, base, options, notes);
  return { format: 'mimic-cxr-jpg', root: base, rows: kept, labelNames, dropped, notes };
}
