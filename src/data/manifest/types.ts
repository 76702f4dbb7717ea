/**
 * A dataset manifest: one row per image set (a study, or one view of it), tying
 * images to a report, a patient and labels. Paths are resolved against the
 * manifest's folder so a dataset folder can be moved as a whole.
 */
import { RadlearnError } from '../../errors.js';

export type Split = 'train' | 'val' | 'test';
export type LabelKind = 'binary' | 'multiclass' | 'ordinal';

export interface ManifestRow {
  /** 1-based record number in the source file (the CSV header is not counted). */
  row: number;
  /** Absolute image paths (several for multi-view studies). */
  imagePaths: string[];
  reportText?: string;
  /** Absolute path of a report text file, when the manifest points to one. */
  reportPath?: string;
  patientId: string;
  studyId: string;
  view?: string;
  split?: Split;
  /** Source or site: splitByPatient keeps every patient of a group in one split. */
  group?: string;
  /** Label column → value (null when empty); binary labels may hold -1 for uncertain. */
  labels: Record<string, number | null>;
  /** Every column's raw text, for columns radlearn does not interpret. */
  fields: Record<string, string>;
}

export interface LabelColumn {
  name: string;
  kind: LabelKind;
  /** Distinct non-null values, sorted. */
  values: number[];
}

/** Image files with identical bytes listed under more than one patient. */
export interface DuplicateImages {
  groups: Array<{ sha256: string; paths: string[]; patients: string[] }>;
  /** Image files involved in a cross-patient duplicate. */
  imagesMerged: number;
  /** Patients folded into another patient's split group. */
  patientsMerged: number;
}

export interface Manifest {
  /** The file it was loaded from, if any. */
  path?: string;
  baseDir: string;
  columns: string[];
  labelColumns: LabelColumn[];
  rows: ManifestRow[];
  /**
   * Cross-patient duplicate images (set by loadManifest, or by the caller from findDuplicateImages).
   * splitByPatient and labelFraction keep the patients of one group together.
   */
  duplicates?: DuplicateImages;
}

/** A manifest that cannot be used; the message names the file, row and column. */
export class ManifestError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_MANIFEST', message, details);
  }
}
