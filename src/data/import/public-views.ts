/**
 * Views and image files for the public-dataset importers: which spellings are frontal or
 * lateral, the `views` and `strict`/`checkImages` options, and the rows they drop.
 */
import { InvalidArgumentError } from '../../errors.js';
import { mapLimit } from '../../io/map-limit.js';
import { isFile } from './public-table.js';
import { ImportError, type CommonImportOptions, type DroppedRow, type ImportedRow } from './types.js';

// Spellings of the datasets' view fields (MIMIC ViewPosition and its code meanings,
// CheXpert Frontal/Lateral and AP/PA, IU projection), lower case.
const FRONTAL = new Set(['pa', 'ap', 'frontal', 'postero-anterior', 'antero-posterior', 'posteroanterior', 'anteroposterior']);
const LATERAL = new Set(['lateral', 'll', 'rl', 'left lateral', 'right lateral', 'xtable lateral', 'lat']);

/**
 * true for PA/AP (and 'Frontal'), false for lateral views, undefined for anything else
 * (blank, oblique, decubitus, lordotic, 'AP AXIAL'), which the 'frontal' filter drops.
 */
export function frontalOf(view: string | undefined): boolean | undefined {
  const key = (view ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
  if (FRONTAL.has(key)) return true;
  if (LATERAL.has(key)) return false;
  return undefined;
}

export interface CheckedOptions {
  views?: 'frontal' | string[];
  strict: boolean;
  checkImages: boolean;
}

export function checkCommonOptions(options: CommonImportOptions, fn: string): CheckedOptions {
  const { views, strict = false, checkImages = true } = options;
  if (views !== undefined && views !== 'frontal') {
    if (!Array.isArray(views) || views.length === 0 || views.some((v) => typeof v !== 'string' || v.trim() === '')) {
      throw new InvalidArgumentError(`${fn}: views must be 'frontal' or a non-empty list of view names, got ${JSON.stringify(views)}`, {
        option: 'views',
      });
    }
  }
  if (typeof strict !== 'boolean') throw new InvalidArgumentError(`${fn}: strict must be a boolean`, { option: 'strict' });
  if (typeof checkImages !== 'boolean') throw new InvalidArgumentError(`${fn}: checkImages must be a boolean`, { option: 'checkImages' });
  const checked: CheckedOptions = { strict, checkImages };
  if (views !== undefined) checked.views = views;
  return checked;
}

/** Whether a row passes `views`: names match `view` case-insensitively; 'frontal' / 'lateral' also match the row's `frontal` flag. */
export function viewMatches(row: Pick<ImportedRow, 'view' | 'frontal'>, views: 'frontal' | string[]): boolean {
  if (views === 'frontal') return row.frontal === true;
  const view = (row.view ?? '').trim().toLowerCase();
  return views.some((wanted) => {
    const w = wanted.trim().toLowerCase();
    return w === view || (w === 'frontal' && row.frontal === true) || (w === 'lateral' && row.frontal === false);
  });
}

const describeViews = (views: 'frontal' | string[]): string => (views === 'frontal' ? 'frontal (PA/AP)' : views.join(', '));

/**
 * The view filter, then the image check, over rows built in source order. Dropped rows and
 * notes are appended to `dropped` and `notes`; with `strict`, the first missing image (in
 * source order) is an ImportError naming its file and row.
 */
export async function selectRows(
  rows: ImportedRow[],
  options: CheckedOptions,
  dropped: DroppedRow[],
  notes: string[],
): Promise<ImportedRow[]> {
  let kept = rows;
  const { views } = options;
  if (views !== undefined) {
    kept = [];
    let count = 0;
    for (const row of rows) {
      if (viewMatches(row, views)) kept.push(row);
      else {
        count++;
        dropped.push({
          source: row.source,
          reason: 'view',
          path: row.imagePath,
          message: `view ${row.view === undefined ? '(none given)' : `"${row.view}"`} is not among the views asked for: ${describeViews(views)}`,
        });
      }
    }
    if (count > 0) notes.push(`${count} image(s) left out by the view filter (${describeViews(views)})`);
  }
  if (!options.checkImages) {
    notes.push('image files were not checked (checkImages: false)');
    return kept;
  }
  const exists = await mapLimit(kept, 32, (row) => isFile(row.imagePath));
  const missing = kept.filter((_, i) => !exists[i]);
  if (missing.length === 0) return kept;
  const first = missing[0] as ImportedRow;
  if (options.strict) {
    throw new ImportError(`${first.source}: image ${first.imagePath} not found (strict: every listed image must exist)`, {
      source: first.source,
      path: first.imagePath,
    });
  }
  for (const row of missing) {
    dropped.push({ source: row.source, reason: 'missing-image', path: row.imagePath, message: `image not found: ${row.imagePath}` });
  }
  notes.push(
    `${missing.length} image(s) listed but not found on disk, dropped as missing-image (first: ${first.imagePath}, ${first.source})`,
  );
  return kept.filter((_, i) => exists[i]);
}
