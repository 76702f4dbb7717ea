/**
 * The import formats by name: `importDataset('chexpert', root, options)` is what
 * `radlearn manifest --from chexpert` runs. The public datasets are read from their published
 * layout under `root`; 'csv' reads one table file (`root` is its path) with CsvImportOptions.
 */
import { importChexpert } from './chexpert.js';
import { importCsv, type CsvImportOptions } from './csv.js';
import { importIuXray } from './iu-xray.js';
import { importMimicCxrJpg } from './mimic-cxr-jpg.js';
import { ImportError, type CommonImportOptions, type ImportFormat, type ImportResult } from './types.js';

/** Options of the public-dataset importers: the common ones, the official split or none, and a reports folder. */
export interface PublicDatasetImportOptions extends CommonImportOptions {
  /** Keep the dataset's published split ('official', the default) or write none. */
  split?: 'official' | 'none';
  /** Folder (or file) of the report texts when they are published apart from the images. */
  reports?: string;
}

export type ImportOptionsFor<F extends ImportFormat> = F extends 'csv' ? CsvImportOptions : PublicDatasetImportOptions;

const PUBLIC: Record<Exclude<ImportFormat, 'csv'>, (root: string, options: PublicDatasetImportOptions) => Promise<ImportResult>> = {
  'mimic-cxr-jpg': importMimicCxrJpg,
  chexpert: importChexpert,
  'iu-xray': importIuXray,
};

export const IMPORT_FORMATS: readonly ImportFormat[] = ['mimic-cxr-jpg', 'chexpert', 'iu-xray', 'csv'];

export function importDataset<F extends ImportFormat>(format: F, root: string, options: ImportOptionsFor<F>): Promise<ImportResult> {
  if (format === 'csv') return importCsv(root, options as CsvImportOptions);
  const run = Object.hasOwn(PUBLIC, format) ? PUBLIC[format as Exclude<ImportFormat, 'csv'>] : undefined;
  if (!run)
    return Promise.reject(
      new ImportError(`unknown import format '${String(format)}'; formats are ${IMPORT_FORMATS.join(', ')}`, { format }),
    );
  return run(root, (options ?? {}) as PublicDatasetImportOptions);
}
