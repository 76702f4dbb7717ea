/**
 * Saving a manifest (after splitByPatient or labelFraction) and reading a row's report.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { MissingFileError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv } from './csv.js';
import type { Manifest, ManifestRow } from './types.js';

/**
 * Writes the manifest as CSV: every source column as loaded, with the split column set
 * (added as `split` if the source had none). Image and report paths are written relative
 * to the new file's folder when they lie under it, so the dataset folder stays movable.
 * Atomic: a temporary file in the same folder is renamed over `path`.
 */
export async function writeManifestCsv(manifest: Manifest, path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const splitColumn = manifest.columns.find((c) => ['split', 'fold', 'partition'].includes(c.toLowerCase())) ?? 'split';
  const columns = manifest.columns.includes(splitColumn) ? manifest.columns : [...manifest.columns, splitColumn];
  const portable = (p: string): string => {
    const rel = relative(folder, p);
    return rel.startsWith('..') || isAbsolute(rel) ? p : rel.split('\\').join('/');
  };
  const rows: string[][] = [columns];
  for (const row of manifest.rows) {
    const out = columns.map((c) => row.fields[c] ?? '');
    out[columns.indexOf(splitColumn)] = row.split ?? '';
    const imageColumn = manifest.columns.find(
      (c) => row.fields[c] !== undefined && sameImages(row.fields[c] as string, row, manifest.baseDir),
    );
    if (imageColumn) out[columns.indexOf(imageColumn)] = row.imagePaths.map(portable).join(';');
    rows.push(out);
  }
  await writeFileAtomic(path, formatCsv(rows), { createFolder: false });
}

/** Whether a raw field is the column the row's image paths came from. */
function sameImages(field: string, row: ManifestRow, baseDir: string): boolean {
  const first = field
    .replace(/^\[?"?/, '')
    .split(/[;|",\]]/)[0]
    ?.trim();
  return first !== undefined && first !== '' && resolve(baseDir, first) === row.imagePaths[0];
}

/** The row's report: its text column, else the file its report path names. */
export async function readReportText(row: ManifestRow): Promise<string> {
  if (row.reportText !== undefined) return row.reportText;
  if (row.reportPath === undefined) return '';
  try {
    return await readFile(row.reportPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new MissingFileError(row.reportPath, `report for row ${row.row} (study ${row.studyId})`);
    throw error;
  }
}
