/**
 * writeImportedManifest: an importer's rows as a radlearn manifest that loadManifest reads back
 * with exactly the importer's labels. Columns, in order: image_path, patient_id, study_id, view,
 * split, report_text, report_path, group (each only when some row has it), the label columns
 * (exactly `labelNames`), then every source field as `meta.<name>`, which loadManifest never
 * takes for a label. Paths under the manifest's folder are written relative to it, so the
 * dataset folder stays movable.
 */
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv } from '../manifest/csv.js';
import { checkLabelNames } from './label-spec.js';
import { summarizeImport, type ImportSummary } from './summary.js';
import { ImportError, type ImportedRow, type ImportResult } from './types.js';

export interface WriteImportedManifestOptions {
  /** 'csv' or 'jsonl'; default from the extension (.jsonl/.ndjson → jsonl, else csv). */
  format?: 'csv' | 'jsonl';
  /** Write image and report paths under the manifest's folder relative to it (default true). */
  relativePaths?: boolean;
}

const LABEL_VALUES = 'an integer class, 1 / 0 / -1 or null';

/** Checks what loadManifest would reject, naming the source row instead of a manifest row. */
function checkRows(result: ImportResult): void {
  checkLabelNames(result.labelNames, `${result.format} import`);
  if (result.rows.length === 0) {
    const reasons = [...new Set(result.dropped.map((d) => d.reason))].join(', ');
    throw new ImportError(
      `${result.format} import of ${result.root}: no rows to write${result.dropped.length > 0 ? ` (${result.dropped.length} dropped: ${reasons})` : ''}`,
      { root: result.root },
    );
  }
  const names = new Set(result.labelNames);
  const studies = new Map<string, ImportedRow>();
  for (const row of result.rows) {
    const where = row.source;
    if (typeof row.imagePath !== 'string' || row.imagePath.trim() === '')
      throw new ImportError(`${where}: empty image path`, { source: where });
    if (typeof row.patientId !== 'string' || row.patientId.trim() === '')
      throw new ImportError(`${where}: empty patient id`, { source: where });
    if (typeof row.studyId !== 'string' || row.studyId.trim() === '') throw new ImportError(`${where}: empty study id`, { source: where });
    const prior = studies.get(row.studyId);
    if (prior && prior.patientId !== row.patientId) {
      throw new ImportError(
        `${where}: study ${row.studyId} belongs to patient ${prior.patientId} in ${prior.source}, here to ${row.patientId}`,
        {
          source: where,
        },
      );
    }
    studies.set(row.studyId, row);
    for (const key of Object.keys(row.labels)) {
      if (!names.has(key))
        throw new ImportError(`${where}: label "${key}" is not one of labelNames (${result.labelNames.join(', ')})`, { source: where });
    }
    for (const name of result.labelNames) {
      const v = row.labels[name];
      if (v === undefined)
        throw new ImportError(`${where}: label "${name}" has no value (use null for missing)`, { source: where, label: name });
      if (v !== null && !Number.isSafeInteger(v))
        throw new ImportError(`${where}: label "${name}" is ${v}, expected ${LABEL_VALUES}`, { source: where, label: name });
    }
  }
}

export async function writeImportedManifest(
  result: ImportResult,
  out: string,
  options: WriteImportedManifestOptions = {},
): Promise<ImportSummary> {
  checkRows(result);
  const ext = extname(out).toLowerCase();
  const format = options.format ?? (ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv');
  const folder = dirname(resolve(out));
  const portable = (p: string): string => {
    if (options.relativePaths === false) return p;
    const rel = relative(folder, p);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? p : rel.split('\\').join('/');
  };
  const rows = result.rows;
  const any = (f: (r: ImportedRow) => unknown): boolean => rows.some((r) => f(r) !== undefined && f(r) !== '');
  const metaNames: string[] = [];
  const seenMeta = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row.meta)) {
      if (!seenMeta.has(key)) {
        seenMeta.add(key);
        metaNames.push(key);
      }
    }
  }
  const fixed: Array<[string, (r: ImportedRow) => string | undefined]> = [
    // one path per row; a path that loadManifest would split (';' or '|') or read as JSON is written as a JSON array
    ['image_path', (r) => (/[;|]|^\s*\[/.test(portable(r.imagePath)) ? JSON.stringify([portable(r.imagePath)]) : portable(r.imagePath))],
    ['patient_id', (r) => r.patientId],
    ['study_id', (r) => r.studyId],
  ];
  const optional: Array<[string, (r: ImportedRow) => string | undefined]> = [
    ['view', (r) => r.view],
    ['split', (r) => r.split],
    ['report_text', (r) => r.reportText],
    ['report_path', (r) => (r.reportPath === undefined ? undefined : portable(r.reportPath))],
    ['group', (r) => r.group],
  ];
  const roles = [...fixed, ...optional.filter(([, f]) => any(f))];
  const header = [...roles.map(([name]) => name), ...result.labelNames, ...metaNames.map((m) => `meta.${m}`)];
  let text: string;
  if (format === 'jsonl') {
    text = rows
      .map((r) => {
        const record: Record<string, unknown> = {};
        for (const [name, f] of roles) record[name] = name === 'image_path' ? [portable(r.imagePath)] : (f(r) ?? '');
        for (const name of result.labelNames) record[name] = r.labels[name] ?? null;
        for (const m of metaNames) record[`meta.${m}`] = r.meta[m] ?? '';
        return JSON.stringify(record);
      })
      .join('\n')
      .concat('\n');
  } else {
    text = formatCsv([
      header,
      ...rows.map((r) => [
        ...roles.map(([, f]) => f(r) ?? ''),
        ...result.labelNames.map((n) => r.labels[n] ?? ''),
        ...metaNames.map((m) => r.meta[m] ?? ''),
      ]),
    ]);
  }
  try {
    await writeFileAtomic(out, text);
  } catch (error) {
    throw new ImportError(`cannot write the manifest to ${out} (${(error as Error).message})`, { path: out });
  }
  return summarizeImport(result, out);
}
