/**
 * PLACEHOLDER for the IU-Xray importer, which is developed on another branch and replaces this
 * file when the branches merge. It keeps the registry (formats.ts) compiling with the importer's
 * signature and fails with a clear ImportError until then.
 */
import { ImportError, type CommonImportOptions, type ImportResult } from './types.js';

export function importIuXray(
  root: string,
  _options: CommonImportOptions & { split?: 'official' | 'none'; reports?: string } = {},
): Promise<ImportResult> {
  return Promise.reject(new ImportError(`format iu-xray is not available in this build (importing ${root})`, { format: 'iu-xray', root }));
}
