/**
 * loadManifest: reads a CSV or JSONL manifest and validates it row by row.
 *
 * Column roles are found by name (case-insensitive; override with `columns`):
 * image path(s) (required; several separated by ';' or '|', or a JSON array),
 * report text or report path, patient id (required), study id, view, split.
 * Every other column whose values are all numbers or empty is a label column
 * (or name them with `labelColumns`); label kinds are inferred (binary for
 * values within {-1, 0, 1}, else multiclass) unless given in `labelKinds`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { MissingFileError } from '../../errors.js';
import { parseCsv } from './csv.js';
import { withDuplicateImages } from './duplicates.js';
import { ManifestError, type LabelColumn, type LabelKind, type Manifest, type ManifestRow, type Split } from './types.js';

export interface ManifestColumnNames {
  image?: string;
  report?: string;
  reportPath?: string;
  patientId?: string;
  studyId?: string;
  view?: string;
  split?: string;
  /** Source or site: rows sharing a value are split together, like one patient. */
  group?: string;
}

export interface LoadManifestOptions {
  columns?: ManifestColumnNames;
  labelColumns?: string[];
  labelKinds?: Record<string, LabelKind>;
  /** 'csv' or 'jsonl'; default from the extension (.jsonl/.ndjson → jsonl, else csv). */
  format?: 'csv' | 'jsonl';
  /** Cross-patient duplicate images (identical bytes): 'merge' (default) keeps their patients in one split group; see duplicates.ts. */
  duplicates?: 'merge' | 'off';
  /** Hash cache of the duplicate check; default `.<manifest name>.hashes.json` next to the manifest, false: none. */
  hashCache?: string | false;
  /** Warnings (merged patients, moved rows); default process.emitWarning. */
  onWarning?: (message: string) => void;
}

/** The column names each role is found by (lower case). */
export const ROLE_CANDIDATES: Readonly<Record<keyof ManifestColumnNames, readonly string[]>> = {
  image: ['image_path', 'image_paths', 'image', 'images', 'path', 'dicom_path', 'file', 'filename'],
  report: ['report', 'report_text', 'text', 'findings_impression'],
  reportPath: ['report_path', 'report_file'],
  patientId: ['patient_id', 'patientid', 'subject_id', 'patient'],
  studyId: ['study_id', 'studyid', 'study', 'accession', 'accession_number'],
  view: ['view', 'view_position', 'viewposition', 'projection'],
  split: ['split', 'fold', 'partition'],
  group: ['group'],
};

/** Split names as datasets write them (lower case) → the split. */
export const SPLIT_ALIASES: Readonly<Record<string, Split>> = {
  train: 'train',
  training: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  dev: 'val',
  test: 'test',
  testing: 'test',
};

type Record_ = Record<string, unknown>;
type MakeError = (message: string, details: Record<string, unknown>) => Error;

export interface ReadRecordsOptions {
  /** CSV field delimiter (default ','). */
  delimiter?: string;
  /** What the file is, for the missing-file message (default 'manifest'). */
  what?: string;
  /** Builds the caller's typed error (default ManifestError). */
  fail?: MakeError;
}

/** A CSV or JSONL file as column names and records (CSV fields as strings, JSON values as parsed). */
export async function readRecords(
  path: string,
  format: 'csv' | 'jsonl',
  options: ReadRecordsOptions = {},
): Promise<{ columns: string[]; records: Record_[] }> {
  const fail = options.fail ?? ((message, details) => new ManifestError(message, details));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path, options.what ?? 'manifest');
    throw error;
  }
  if (format === 'jsonl') {
    const records: Record_[] = [];
    const columns = new Set<string>();
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw fail(`${path} line ${i + 1}: not valid JSON (${(error as Error).message})`, { path, line: i + 1 });
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw fail(`${path} line ${i + 1}: expected a JSON object per line`, { path, line: i + 1 });
      }
      for (const key of Object.keys(value)) columns.add(key);
      records.push(value as Record_);
    });
    return { columns: [...columns], records };
  }
  return csvRecords(parseCsv(text, path, options.delimiter), path, fail);
}

/**
 * CSV rows (header first) as records keyed by column. Header cells that are empty, as a trailing
 * comma leaves them, are dropped when their column is empty in every row; a value under an empty
 * header is an error naming the row. `fail` makes the caller's typed error.
 */
export function csvRecords(rows: string[][], path: string, fail: MakeError): { columns: string[]; records: Record<string, string>[] } {
  if (rows.length === 0) throw fail(`${path}: empty file, expected a header row`, { path });
  const header = (rows[0] as string[]).map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (h !== '' && seen.has(h)) throw fail(`${path}: column "${h}" appears twice in the header`, { path, column: h });
    seen.add(h);
  }
  const body = rows.slice(1);
  body.forEach((fields, i) => {
    if (fields.length !== header.length) {
      throw fail(`${path} row ${i + 1}: ${fields.length} fields, but the header has ${header.length}`, { path, row: i + 1 });
    }
  });
  const kept: number[] = [];
  header.forEach((h, k) => {
    if (h !== '') {
      kept.push(k);
      return;
    }
    const row = body.findIndex((fields) => (fields[k] as string).trim() !== '');
    if (row >= 0) {
      throw fail(`${path} row ${row + 1}: column ${k + 1} has the value "${body[row]?.[k]}" but no name in the header`, {
        path,
        row: row + 1,
        column: k + 1,
      });
    }
  });
  const records = body.map((fields) => {
    const record: Record<string, string> = {};
    for (const k of kept) record[header[k] as string] = fields[k] as string;
    return record;
  });
  return { columns: kept.map((k) => header[k] as string), records };
}

function findColumn(columns: string[], role: keyof ManifestColumnNames, explicit: string | undefined, path: string): string | undefined {
  if (explicit !== undefined) {
    if (!columns.includes(explicit)) {
      throw new ManifestError(`${path}: column "${explicit}" (given for ${role}) not found; columns are ${columns.join(', ')}`, {
        path,
        column: explicit,
      });
    }
    return explicit;
  }
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  for (const candidate of ROLE_CANDIDATES[role]) {
    const hit = lower.get(candidate);
    if (hit) return hit;
  }
  return undefined;
}

const asText = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);

function parseImagePaths(value: unknown): string[] {
  if (Array.isArray(value))
    return value
      .map(asText)
      .map((s) => s.trim())
      .filter(Boolean);
  const text = asText(value).trim();
  if (text.startsWith('[')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) return parsed.map(asText).filter(Boolean);
    } catch {
      /* fall through: treat as a plain path */
    }
  }
  return text
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseLabel(value: unknown, path: string, row: number, column: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new ManifestError(`${path} row ${row}, column ${column}: label ${value} is not finite`, { path, row, column });
    return value;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  const text = asText(value).trim();
  if (text === '' || /^(nan|na|null|none)$/i.test(text)) return null;
  const n = Number(text);
  if (!Number.isFinite(n)) {
    throw new ManifestError(`${path} row ${row}, column ${column}: label "${text}" is not a number (expected e.g. 1, 0, -1 or empty)`, {
      path,
      row,
      column,
      value: text,
    });
  }
  return n;
}

/** Columns that label inference skips: importers write source fields as `meta.<name>` and the split group as `group`. */
export const isNeverLabel = (column: string): boolean => column.toLowerCase().startsWith('meta.') || column.toLowerCase() === 'group';

const isNumericLike = (v: unknown): boolean => {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return true;
  if (typeof v !== 'string') return false;
  const t = v.trim();
  return t === '' || /^(nan|na|null|none)$/i.test(t) || Number.isFinite(Number(t));
};

export async function loadManifest(path: string, options: LoadManifestOptions = {}): Promise<Manifest> {
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv');
  const { columns, records } = await readRecords(path, format);
  const manifest = buildManifest(columns, records, { ...options, path });
  if (options.duplicates === 'off') return manifest;
  return withDuplicateImages(manifest, {
    ...(options.hashCache !== undefined ? { cache: options.hashCache } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}

/** Validates in-memory records (CSV text fields or JSON values) into a Manifest. */
export function buildManifest(
  columns: string[],
  records: Record<string, unknown>[],
  options: LoadManifestOptions & { path?: string; baseDir?: string } = {},
): Manifest {
  const path = options.path ?? '<manifest>';
  const baseDir = options.baseDir ?? (options.path ? dirname(resolve(options.path)) : process.cwd());
  const names = options.columns ?? {};
  const role = (r: keyof ManifestColumnNames): string | undefined => findColumn(columns, r, names[r], path);
  const imageCol = role('image');
  if (!imageCol) {
    throw new ManifestError(`${path}: no image column; name one of ${ROLE_CANDIDATES.image.join(', ')} or pass columns.image`, { path });
  }
  const patientCol = role('patientId');
  if (!patientCol) {
    throw new ManifestError(
      `${path}: no patient id column; name one of ${ROLE_CANDIDATES.patientId.join(', ')} or pass columns.patientId (patient-level splits need it)`,
      { path },
    );
  }
  const reportCol = role('report');
  const reportPathCol = role('reportPath');
  const studyCol = role('studyId');
  const viewCol = role('view');
  const splitCol = role('split');
  const groupCol = role('group');
  const roleCols = new Set([imageCol, patientCol, reportCol, reportPathCol, studyCol, viewCol, splitCol, groupCol].filter(Boolean));

  let labelNames: string[];
  if (options.labelColumns) {
    for (const name of options.labelColumns) {
      if (!columns.includes(name))
        throw new ManifestError(`${path}: label column "${name}" not found; columns are ${columns.join(', ')}`, { path, column: name });
    }
    labelNames = options.labelColumns;
  } else {
    // A column is a label when (almost) all its values are numbers: a column that is 90% numbers
    // with a stray "yes" is a label with a typo, reported by row, not silently dropped.
    // `meta.*` columns (source fields an importer kept) and the `group` column are never labels.
    // An empty column is a label only in an importer's layout (one with `meta.*` columns), where
    // every other column is a label by construction: there it is a label that no row has a value for.
    const imported = columns.some((c) => c.toLowerCase().startsWith('meta.'));
    labelNames = columns.filter((c) => {
      if (roleCols.has(c) || records.length === 0 || isNeverLabel(c)) return false;
      const filled = records.filter((r) => asText(r[c]).trim() !== '');
      const numeric = filled.filter((r) => isNumericLike(r[c])).length;
      return filled.length === 0 ? imported : numeric === filled.length || (numeric >= 0.9 * filled.length && filled.length >= 2);
    });
  }

  const studyPatient = new Map<string, { patient: string; row: number }>();
  const rows: ManifestRow[] = records.map((record, index) => {
    const row = index + 1;
    const imagePaths = parseImagePaths(record[imageCol]).map((p) => (isAbsolute(p) ? p : resolve(baseDir, p)));
    if (imagePaths.length === 0)
      throw new ManifestError(`${path} row ${row}, column ${imageCol}: empty image path`, { path, row, column: imageCol });
    const patientId = asText(record[patientCol]).trim();
    if (patientId === '')
      throw new ManifestError(`${path} row ${row}, column ${patientCol}: empty patient id`, { path, row, column: patientCol });
    const studyId = studyCol ? asText(record[studyCol]).trim() : `row${row}`;
    if (studyId === '') throw new ManifestError(`${path} row ${row}, column ${studyCol}: empty study id`, { path, row, column: studyCol });
    const prior = studyPatient.get(studyId);
    if (prior && prior.patient !== patientId) {
      throw new ManifestError(
        `${path} row ${row}, column ${patientCol}: study ${studyId} belongs to patient ${prior.patient} in row ${prior.row}, here to ${patientId}`,
        { path, row, column: patientCol },
      );
    }
    studyPatient.set(studyId, { patient: patientId, row });
    let split: Split | undefined;
    if (splitCol) {
      const raw = asText(record[splitCol]).trim().toLowerCase();
      if (raw !== '') {
        split = SPLIT_ALIASES[raw];
        if (!split)
          throw new ManifestError(`${path} row ${row}, column ${splitCol}: split "${raw}" is not one of train, val, test`, {
            path,
            row,
            column: splitCol,
          });
      }
    }
    const labels: Record<string, number | null> = {};
    for (const name of labelNames) labels[name] = parseLabel(record[name], path, row, name);
    const fields: Record<string, string> = {};
    for (const c of columns) fields[c] = asText(record[c]);
    const reportText = reportCol ? asText(record[reportCol]) : undefined;
    const reportPathRaw = reportPathCol ? asText(record[reportPathCol]).trim() : '';
    const out: ManifestRow = { row, imagePaths, patientId, studyId, labels, fields };
    if (reportText !== undefined && reportText !== '') out.reportText = reportText;
    if (reportPathRaw) out.reportPath = isAbsolute(reportPathRaw) ? reportPathRaw : resolve(baseDir, reportPathRaw);
    const view = viewCol ? asText(record[viewCol]).trim() : '';
    if (view) out.view = view;
    if (split) out.split = split;
    const group = groupCol ? asText(record[groupCol]).trim() : '';
    if (group) out.group = group;
    return out;
  });

  const labelColumns: LabelColumn[] = labelNames.map((name) => {
    const values = [...new Set(rows.map((r) => r.labels[name]).filter((v): v is number => v !== null && v !== undefined))].sort(
      (a, b) => a - b,
    );
    const given = options.labelKinds?.[name];
    const kind: LabelKind = given ?? (values.every((v) => v === -1 || v === 0 || v === 1) ? 'binary' : 'multiclass');
    if (kind !== 'binary') {
      const bad = rows.find((r) => {
        const v = r.labels[name];
        return v !== null && v !== undefined && !Number.isInteger(v);
      });
      if (bad)
        throw new ManifestError(
          `${path} row ${bad.row}, column ${name}: ${kind} label ${bad.labels[name]} is not an integer class (set labelKinds or labelColumns if this column is not a label)`,
          { path, row: bad.row, column: name },
        );
    } else {
      const bad = rows.find((r) => {
        const v = r.labels[name];
        return v !== null && v !== undefined && v !== 0 && v !== 1 && v !== -1;
      });
      if (bad)
        throw new ManifestError(`${path} row ${bad.row}, column ${name}: binary label ${bad.labels[name]} is not 0, 1 or -1 (uncertain)`, {
          path,
          row: bad.row,
          column: name,
        });
    }
    return { name, kind, values };
  });
  const manifest: Manifest = { baseDir, columns, labelColumns, rows };
  if (options.path) manifest.path = options.path;
  return manifest;
}
