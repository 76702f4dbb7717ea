/**
 * Test-only: writes an ImportResult as a plain manifest CSV (image_path, patient_id, study_id,
 * view, split, report_text, report_path, then the label columns) so the importers' output can
 * be fed to loadManifest. The library's own manifest writer for imports lives elsewhere; this
 * stays minimal on purpose.
 */
import { writeFile } from 'node:fs/promises';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import type { ImportResult } from '../../../src/data/import/types.js';

export async function writeLocalManifest(result: ImportResult, path: string): Promise<void> {
  const header = ['image_path', 'patient_id', 'study_id', 'view', 'split', 'report_text', 'report_path', ...result.labelNames];
  const rows = result.rows.map((r) => [
    r.imagePath,
    r.patientId,
    r.studyId,
    r.view ?? '',
    r.split ?? '',
    r.reportText ?? '',
    r.reportPath ?? '',
    ...result.labelNames.map((name) => r.labels[name] ?? null),
  ]);
  await writeFile(path, formatCsv([header, ...rows]));
}
