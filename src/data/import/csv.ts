/**
 * importCsv: any CSV, TSV or JSONL table of images, the way public collections publish their
 * metadata (the COVID-19 image data collection's metadata.csv, a hospital export). Every column
 * role is named by the caller or found by its usual name (patient, view); labels are only ever
 * the ones named in `labels` or produced by the labeler, so numeric and free-text columns (age,
 * temperature, clinical notes) travel as `meta` and are never taken for labels.
 *
 * Rows go through three passes: filters, image cells and views (cheap, per row); the files'
 * existence (batched); then ids, labels and the labeler, over the rows that remain.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { labelReport } from '../labeler/label.js';
import { applyLabelerPolicy } from '../labeler/policy.js';
import { readRecords, SPLIT_ALIASES } from '../manifest/load.js';
import type { Split } from '../manifest/types.js';
import { pathOf, planCsvImport, type CsvImportOptions, type CsvPlan } from './csv-plan.js';
import { formatRowFilter } from './filter.js';
import { joinReportColumns } from './report-text.js';
import { ImportError, type DroppedRow, type ImportedRow, type ImportResult } from './types.js';
import { viewClass, viewMatches } from './views.js';

export type { CsvImportOptions, LabelerImportOptions } from './csv-plan.js';

type Fields = Record<string, string>;

interface Candidate {
  row: number;
  fields: Fields;
  imagePath: string;
  reportPath?: string;
}

/** Where a message points: the table's name and the 1-based row (header not counted). */
interface Where {
  file: string;
  at: (row: number) => string;
}

const cellText = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);

function tableFormat(path: string, options: CsvImportOptions): { format: 'csv' | 'jsonl'; delimiter: string } {
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.tsv' || ext === '.tab' ? 'tsv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv');
  if (!['csv', 'tsv', 'jsonl'].includes(format)) throw new ImportError(`format must be csv, tsv or jsonl, got '${String(format)}'`);
  if (format === 'jsonl') return { format, delimiter: ',' };
  return { format: 'csv', delimiter: options.delimiter ?? (format === 'tsv' ? '\t' : ',') };
}

/** Whether each path is an existing file ('' is not), checked a bounded number at a time. */
async function existingFiles(paths: readonly string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  const width = 64;
  for (let start = 0; start < paths.length; start += width) {
    const batch = paths.slice(start, start + width);
    out.push(
      ...(await Promise.all(
        batch.map((p) =>
          p === ''
            ? false
            : stat(p).then(
                (s) => s.isFile(),
                () => false,
              ),
        ),
      )),
    );
  }
  return out;
}

/** Pass 1: rows that pass the filters, have an image value and a wanted view. */
function selectRows(records: Fields[], plan: CsvPlan, root: string, where: Where, dropped: DroppedRow[]): Candidate[] {
  const candidates: Candidate[] = [];
  records.forEach((fields, index) => {
    const row = index + 1;
    const field = (c: string): string => fields[c] ?? '';
    const failed = plan.failedFilter(field);
    if (failed) {
      const message = `${failed.column} is "${field(failed.column)}", filter ${formatRowFilter(failed)}`;
      dropped.push({ source: where.at(row), reason: 'filter', message });
      return;
    }
    const imagePath = pathOf(plan.image, field, root);
    if (imagePath === undefined) {
      const blank = 'column' in plan.image ? [plan.image.column] : plan.image.template.columns.filter((c) => field(c).trim() === '');
      dropped.push({
        source: where.at(row),
        reason: 'no-image',
        message: `${blank.join(', ')} ${blank.length === 1 ? 'is' : 'are'} blank`,
      });
      return;
    }
    if (plan.views !== undefined && !viewMatches(field(plan.view as string), plan.views)) {
      const wanted = plan.views === 'frontal' ? 'frontal' : plan.views.join(' or ');
      const message = `view "${field(plan.view as string).trim()}" is not ${wanted}`;
      dropped.push({ source: where.at(row), reason: 'view', path: imagePath, message });
      return;
    }
    const candidate: Candidate = { row, fields, imagePath };
    const report = plan.reportPath ? pathOf(plan.reportPath, field, root) : undefined;
    if (report !== undefined) candidate.reportPath = report;
    candidates.push(candidate);
  });
  return candidates;
}

/** Pass 2: rows whose image (and report file) exist; strict mode fails on the first that does not. */
async function keepExisting(candidates: Candidate[], strict: boolean, where: Where, dropped: DroppedRow[]): Promise<Candidate[]> {
  const images = await existingFiles(candidates.map((c) => c.imagePath));
  const reports = await existingFiles(candidates.map((c) => c.reportPath ?? ''));
  const kept: Candidate[] = [];
  candidates.forEach((c, i) => {
    const [what, path, reason] = !images[i]
      ? (['image', c.imagePath, 'missing-image'] as const)
      : c.reportPath !== undefined && !reports[i]
        ? (['report', c.reportPath, 'unreadable-report'] as const)
        : [undefined, undefined, undefined];
    if (what === undefined) {
      kept.push(c);
      return;
    }
    if (strict)
      throw new ImportError(`${where.at(c.row)}: ${what} ${path} does not exist (strict mode)`, {
        path: where.file,
        row: c.row,
        [what]: path,
      });
    dropped.push({ source: where.at(c.row), reason, path, message: `${what} not found: ${path}` });
  });
  return kept;
}

function rowError(where: Where, row: number, column: string, what: string): ImportError {
  return new ImportError(`${where.file} row ${row}, column ${column}: ${what}`, { path: where.file, row, column });
}

/** Pass 3: one ImportedRow per candidate, or undefined (and a dropped row) when its report file cannot be read. */
async function buildRow(
  c: Candidate,
  plan: CsvPlan,
  where: Where,
  studies: Map<string, { patient: string; row: number }>,
  strict: boolean,
  dropped: DroppedRow[],
): Promise<ImportedRow | undefined> {
  const field = (col: string): string => c.fields[col] ?? '';
  const patientId = field(plan.patient).trim();
  if (patientId === '') throw rowError(where, c.row, plan.patient, 'empty patient id');
  let studyId = `row${c.row}`;
  if (plan.study !== undefined) {
    studyId = field(plan.study).trim();
    if (studyId === '') throw rowError(where, c.row, plan.study, 'empty study id');
    const prior = studies.get(studyId);
    if (prior && prior.patient !== patientId) {
      throw rowError(
        where,
        c.row,
        plan.study,
        `study ${studyId} belongs to patient ${prior.patient} in row ${prior.row}, here to ${patientId}`,
      );
    }
    studies.set(studyId, { patient: patientId, row: c.row });
  }
  const labels: Record<string, number | null> = {};
  for (const m of plan.mappers) labels[m.name] = m.map(field(m.column), { path: where.file, row: c.row });
  const reportText =
    plan.reportColumns.length > 0 ? joinReportColumns(plan.reportColumns.map((column) => ({ column, text: field(column) }))) : undefined;
  if (plan.labeler) {
    let text = reportText ?? '';
    if (reportText === undefined && c.reportPath !== undefined) {
      try {
        text = await readFile(c.reportPath, 'utf8');
      } catch (error) {
        const why = (error as Error).message;
        if (strict)
          throw new ImportError(`${where.at(c.row)}: cannot read report ${c.reportPath} (${why})`, { path: where.file, row: c.row });
        dropped.push({ source: where.at(c.row), reason: 'unreadable-report', path: c.reportPath, message: `cannot read report: ${why}` });
        return undefined;
      }
    }
    const found = applyLabelerPolicy(labelReport(text), plan.labeler.policy);
    for (const o of plan.labeler.observations) labels[o] = found[o];
  }
  const out: ImportedRow = { imagePath: c.imagePath, patientId, studyId, labels, meta: {}, source: where.at(c.row) };
  const view = plan.view === undefined ? '' : field(plan.view).trim();
  if (view !== '') {
    out.view = view;
    out.frontal = viewClass(view) === 'frontal';
  }
  const split = plan.split === undefined ? '' : field(plan.split).trim().toLowerCase();
  if (split !== '') {
    if (!Object.hasOwn(SPLIT_ALIASES, split))
      throw rowError(where, c.row, plan.split as string, `split "${split}" is not one of train, val, test`);
    out.split = SPLIT_ALIASES[split] as Split;
  }
  if (reportText !== undefined && reportText.trim() !== '') out.reportText = reportText;
  if (c.reportPath !== undefined) out.reportPath = c.reportPath;
  const group = plan.group === undefined ? '' : field(plan.group).trim();
  if (group !== '') out.group = group;
  for (const m of plan.metaColumns) out.meta[m] = field(m);
  return out;
}

export async function importCsv(path: string, options: CsvImportOptions): Promise<ImportResult> {
  if (options === null || typeof options !== 'object' || typeof options.image !== 'string' || options.image.trim() === '') {
    throw new ImportError(`importCsv ${path}: options.image must name the image column or a path template such as images/{filename}`, {
      path,
    });
  }
  const file = resolve(path);
  const name = basename(file);
  const where: Where = { file, at: (row) => `${name} row ${row}` };
  const { format, delimiter } = tableFormat(file, options);
  const table = await readRecords(file, format, {
    delimiter,
    what: 'table to import',
    fail: (message, details) => new ImportError(message, details),
  });
  const plan = planCsvImport(file, table.columns, options);
  const records = table.records.map((r) => Object.fromEntries(table.columns.map((c) => [c, cellText(r[c])])));
  const root = resolve(options.imageRoot ?? dirname(file));
  const strict = options.strict === true;

  const dropped: DroppedRow[] = [];
  const candidates = selectRows(records, plan, root, where, dropped);
  const kept = options.checkImages === false ? candidates : await keepExisting(candidates, strict, where, dropped);
  const studies = new Map<string, { patient: string; row: number }>();
  const rows: ImportedRow[] = [];
  for (const c of kept) {
    const row = await buildRow(c, plan, where, studies, strict, dropped);
    if (row) rows.push(row);
  }
  return { format: 'csv', root, rows, labelNames: plan.labelNames, dropped, notes: plan.notes };
}
