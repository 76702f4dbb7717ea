/**
 * The contract every dataset importer fulfils: it reads a dataset in its published layout and
 * returns rows in one shape, which `writeImportedManifest` turns into a radlearn manifest.
 * Importers never guess which columns are labels: they name them in `labelNames`, and every
 * other source column travels as `meta` (written as `meta.<name>`, never inferred as a label).
 */
import { RadlearnError } from '../../errors.js';
import type { Split } from '../manifest/types.js';

export type ImportFormat = 'mimic-cxr-jpg' | 'chexpert' | 'iu-xray' | 'csv';

/** One image of an imported dataset (a multi-view study gives one row per image). */
export interface ImportedRow {
  /** Absolute path of the image file. */
  imagePath: string;
  patientId: string;
  studyId: string;
  /** The view as the dataset writes it (e.g. 'PA', 'AP', 'LATERAL', 'Frontal'). */
  view?: string;
  /** Whether the view is frontal (PA/AP and their spellings); undefined when the dataset does not say. */
  frontal?: boolean;
  /** The dataset's own split, when it publishes one. */
  split?: Split;
  reportText?: string;
  /** Absolute path of a report text file. */
  reportPath?: string;
  /** Source/site value that may serve as the split group instead of the patient. */
  group?: string;
  /** Label name → 1 positive, 0 negative, -1 uncertain, null missing. Keys are exactly `labelNames`. */
  labels: Record<string, number | null>;
  /** Every other source field, kept verbatim for the user; never a label. */
  meta: Record<string, string>;
  /** Where the row came from, for messages: 'train.csv row 12'. */
  source: string;
}

/** A source row that did not become a manifest row, and why. */
export interface DroppedRow {
  source: string;
  reason: 'missing-image' | 'no-image' | 'view' | 'filter' | 'unreadable-report';
  /** The image path, when the reason is about the image. */
  path?: string;
  message: string;
}

export interface ImportResult {
  format: ImportFormat;
  root: string;
  rows: ImportedRow[];
  labelNames: string[];
  dropped: DroppedRow[];
  /** Facts the user should read (e.g. 'reports tree not found: rows have no report text'). */
  notes: string[];
}

/** Options every format accepts. */
export interface CommonImportOptions {
  /** Keep only these views (matched case-insensitively against `view`), or 'frontal' for PA/AP. */
  views?: 'frontal' | string[];
  /** Fail with ImportError on the first missing image instead of dropping the row. */
  strict?: boolean;
  /** Check that every image file exists (default true). */
  checkImages?: boolean;
}

/** A dataset that cannot be imported as asked; the message names the file, row and column. */
export class ImportError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_IMPORT', message, details);
  }
}
