/**
 * The Indiana University chest X-ray collection (OpenI), as distributed on Kaggle:
 * `indiana_reports.csv` (one report per uid: uid, MeSH, Problems, image, indication,
 * comparison, findings, impression), `indiana_projections.csv` (uid, filename, projection)
 * and the images in `images/images_normalized/<filename>`. One row per image.
 *
 * The collection publishes one study per uid and no patient identity across studies, so
 * patient = study = uid: a patient with several studies may land in two splits.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { cellError, findFile, isDirectory, namedFile, readTable, requireColumns, sourceOf, type Table } from './public-table.js';
import { checkCommonOptions, frontalOf, selectRows } from './public-views.js';
import { ImportError, type CommonImportOptions, type DroppedRow, type ImportedRow, type ImportResult } from './types.js';

export interface IuXrayImportOptions extends CommonImportOptions {
  /**
   * 'none' (default): no label columns (Problems and MeSH travel as meta; label the reports with
   * `radlearn label`). 'problems': `normal` (Problems is exactly 'normal') plus one binary
   * column per Problems term found in at least `minCount` reports.
   */
  labels?: 'none' | 'problems';
  /** Reports a Problems term needs to become a label column (default 10). */
  minCount?: number;
  /** Overrides, resolved against the root when relative. */
  reportsFile?: string;
  projectionsFile?: string;
  /** The images folder (default: images/images_normalized, else images_normalized, else images). */
  images?: string;
}

const FN = 'importIuXray';
const REPORT_COLUMNS = ['uid', 'MeSH', 'Problems', 'image', 'indication', 'comparison', 'findings', 'impression'] as const;
const PROJECTION_COLUMNS = ['uid', 'filename', 'projection'] as const;
const SECTIONS = [
  ['indication', 'INDICATION'],
  ['comparison', 'COMPARISON'],
  ['findings', 'FINDINGS'],
  ['impression', 'IMPRESSION'],
] as const;
const IMAGE_FOLDERS = [join('images', 'images_normalized'), 'images_normalized', 'images'];
export const DEFAULT_MIN_COUNT = 10;
const NORMAL = 'normal';

interface Report {
  index: number;
  text: string;
  /** Problems terms, or undefined when the cell is blank. */
  terms?: string[];
  meta: Record<string, string>;
  hasImage: boolean;
}

function checkOptions(options: IuXrayImportOptions): { labels: 'none' | 'problems'; minCount: number } {
  const labels = options.labels ?? 'none';
  if (labels !== 'none' && labels !== 'problems') {
    throw new InvalidArgumentError(`${FN}: labels must be 'none' or 'problems', got ${JSON.stringify(labels)}`, { option: 'labels' });
  }
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  if (!Number.isInteger(minCount) || minCount < 1) {
    throw new InvalidArgumentError(`${FN}: minCount must be a positive integer, got ${JSON.stringify(minCount)}`, { option: 'minCount' });
  }
  return { labels, minCount };
}

/** The four text columns as titled sections, in report order, blank ones left out. */
export function assembleIuReport(fields: Partial<Record<(typeof SECTIONS)[number][0], string>>): string {
  return SECTIONS.map(([column, title]) => {
    const text = (fields[column] ?? '').trim();
    return text === '' ? '' : `${title}: ${text}`;
  })
    .filter(Boolean)
    .join('\n\n');
}

function readReports(table: Table): Map<string, Report> {
  const cols = requireColumns(table, REPORT_COLUMNS, 'indiana_reports.csv');
  const reports = new Map<string, Report>();
  table.records.forEach((record, index) => {
    const uid = (record[cols.uid] as string).trim();
    if (uid === '') throw cellError(table, index, 'uid', uid, 'a report uid (e.g. 1)');
    const prior = reports.get(uid);
    if (prior)
      throw new ImportError(`${table.name} row ${index + 1}: uid ${uid} already appears in row ${prior.index + 1}`, {
        path: table.path,
        row: index + 1,
      });
    const problems = (record[cols.Problems] as string).trim();
    const report: Report = {
      index,
      text: assembleIuReport({
        indication: record[cols.indication] as string,
        comparison: record[cols.comparison] as string,
        findings: record[cols.findings] as string,
        impression: record[cols.impression] as string,
      }),
      meta: { MeSH: record[cols.MeSH] as string, Problems: record[cols.Problems] as string, image: record[cols.image] as string },
      hasImage: false,
    };
    if (problems !== '')
      report.terms = [
        ...new Set(
          problems
            .split(';')
            .map((t) => t.trim())
            .filter(Boolean),
        ),
      ];
    reports.set(uid, report);
  });
  return reports;
}

/** `normal` plus the Problems terms found in at least minCount reports, most frequent first (ties by name). */
function problemColumns(reports: Map<string, Report>, minCount: number): { names: string[]; skipped: number } {
  const counts = new Map<string, number>();
  for (const report of reports.values()) {
    for (const term of report.terms ?? []) if (term.toLowerCase() !== NORMAL) counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  const frequent = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { names: [NORMAL, ...frequent.map(([term]) => term)], skipped: counts.size - frequent.length };
}

function problemLabels(report: Report | undefined, names: string[]): Record<string, number | null> {
  const labels: Record<string, number | null> = {};
  const terms = report?.terms;
  const lower = new Set((terms ?? []).map((t) => t.toLowerCase()));
  for (const name of names) {
    if (!terms) labels[name] = null;
    else if (name === NORMAL) labels[name] = terms.length === 1 && lower.has(NORMAL) ? 1 : 0;
    else labels[name] = terms.includes(name) ? 1 : 0;
  }
  return labels;
}

async function findImages(root: string, option: string | undefined, check: boolean): Promise<string> {
  if (option !== undefined) {
    const dir = isAbsolute(option) ? option : resolve(root, option);
    if (check && !(await isDirectory(dir))) throw new ImportError(`images: ${dir} is not a folder`, { path: dir });
    return dir;
  }
  for (const name of IMAGE_FOLDERS) if (await isDirectory(join(root, name))) return join(root, name);
  if (!check) return join(root, IMAGE_FOLDERS[0] as string);
  throw new ImportError(`${root}: no images folder; expected ${IMAGE_FOLDERS.map((f) => `${f}/`).join(' or ')} as in the Kaggle download`, {
    path: root,
  });
}

export async function importIuXray(root: string, options: IuXrayImportOptions = {}): Promise<ImportResult> {
  const common = checkCommonOptions(options, FN);
  const { labels: labelMode, minCount } = checkOptions(options);
  const base = resolve(root);
  if (!(await isDirectory(base)))
    throw new ImportError(`${base} is not a folder; expected the IU X-ray folder (indiana_reports.csv, indiana_projections.csv, images/)`, {
      path: base,
    });
  const reportsPath = options.reportsFile
    ? await namedFile(base, options.reportsFile, 'reportsFile')
    : await findFile(base, ['indiana_reports.csv']);
  const projectionsPath = options.projectionsFile
    ? await namedFile(base, options.projectionsFile, 'projectionsFile')
    : await findFile(base, ['indiana_projections.csv']);
  if (!reportsPath || !projectionsPath) {
    throw new ImportError(
      `${base}: no ${reportsPath ? 'indiana_projections.csv' : 'indiana_reports.csv'}; expected the IU X-ray folder as downloaded from Kaggle`,
      {
        path: base,
      },
    );
  }
  const imagesDir = await findImages(base, options.images, common.checkImages);
  const notes: string[] = [];
  const dropped: DroppedRow[] = [];

  const reportsTable = await readTable(reportsPath);
  const reports = readReports(reportsTable);
  const { names: labelNames, skipped } = labelMode === 'problems' ? problemColumns(reports, minCount) : { names: [], skipped: 0 };
  if (labelMode === 'problems') {
    notes.push(
      `labels from Problems: normal (Problems is exactly "normal") and ${labelNames.length - 1} term(s) in at least ${minCount} reports; ${skipped} rarer term(s) left in meta.Problems`,
    );
  } else {
    notes.push(
      'no labels: Problems and MeSH travel as meta; pass labels: "problems" for term columns, or label the report text with radlearn label',
    );
  }

  const projections = await readTable(projectionsPath);
  const cols = requireColumns(projections, PROJECTION_COLUMNS, 'indiana_projections.csv');
  let orphans = 0;
  const rows: ImportedRow[] = projections.records.map((record, index) => {
    const uid = (record[cols.uid] as string).trim();
    if (uid === '') throw cellError(projections, index, 'uid', uid, 'a report uid (e.g. 1)');
    const filename = (record[cols.filename] as string).trim();
    if (filename === '' || /[\\/]/.test(filename) || filename === '.' || filename === '..') {
      throw cellError(
        projections,
        index,
        'filename',
        filename,
        'an image file name inside the images folder (e.g. 1_IM-0001-4001.dcm.png)',
      );
    }
    const projection = (record[cols.projection] as string).trim();
    const report = reports.get(uid);
    if (report) report.hasImage = true;
    else orphans++;
    const row: ImportedRow = {
      imagePath: join(imagesDir, filename),
      patientId: uid,
      studyId: uid,
      labels: labelMode === 'problems' ? problemLabels(report, labelNames) : {},
      meta: report ? { ...report.meta } : {},
      source: sourceOf(projections, index),
    };
    if (projection !== '') row.view = projection;
    const frontal = frontalOf(projection);
    if (frontal !== undefined) row.frontal = frontal;
    if (report && report.text !== '') row.reportText = report.text;
    return row;
  });
  if (orphans > 0) notes.push(`${orphans} image(s) have a uid with no row in ${reportsTable.name}: no report, empty labels`);
  for (const report of reports.values()) {
    if (!report.hasImage) {
      dropped.push({
        source: sourceOf(reportsTable, report.index),
        reason: 'no-image',
        message: `report has no image in ${projections.name}`,
      });
    }
  }
  notes.push('patient = study = uid: the IU collection publishes one study per uid and no patient identity across studies');
  notes.push('no official split: split by patient (uid) when training');

  const kept = await selectRows(rows, common, dropped, notes);
  return { format: 'iu-xray', root: base, rows: kept, labelNames, dropped, notes };
}
