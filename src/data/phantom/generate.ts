/**
 * generatePhantom: writes the built-in synthetic chest radiograph dataset.
 *
 *   OUT/images/<patient>/<study>.dcm   12-bit DICOM, MONOCHROME1 or 2, window tags
 *   OUT/manifest.csv                   image_path, report, patient_id, study_id, view, site,
 *                                      finding labels (0/1), adverse_outcome, the ordinal
 *                                      cardiomegaly_grade (0-4), split
 *   OUT/ground_truth.jsonl             full truth per study (geometry, sizes, sides,
 *                                      devices, acquisition, latent frailty, stated labels)
 *
 * Labels in the manifest are the IMAGE truth, not what the report says; reports omit
 * and hedge. `adverse_outcome` is the prognostic label: never written in a report,
 * weakly visible through frailty (thinner bone, lower lung volume).
 * Splits are by patient (70/15/15), stratified by the prognostic label, over both sites: a study
 * that validates externally trains on site A's rows and tests on site B's (see PHANTOM_SITES).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv } from '../manifest/csv.js';
import { buildManifest } from '../manifest/load.js';
import { splitByPatient } from '../manifest/split.js';
import type { Split } from '../manifest/types.js';
import { defaultWorkers, studyImagePath, writeAllImages } from './images.js';
import { generateReport, PHANTOM_OBSERVATIONS } from './report.js';
import { sampleStudies, type PhantomStudy } from './truth.js';

export interface GeneratePhantomOptions {
  /** Output folder (created if missing). */
  out: string;
  /** Number of studies. */
  n: number;
  seed?: number;
  /** Image side in pixels (default 256). */
  size?: number;
  /** Called after each study is written. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads for rendering and writing images (0: this thread). Default: up to 4
   * when running compiled JavaScript and n >= 400, else 0. Output is identical either way.
   */
  workers?: number;
}

export interface PhantomSummary {
  manifestPath: string;
  groundTruthPath: string;
  studies: number;
  patients: number;
  size: number;
  seed: number;
  /** Positive count per manifest label column. */
  positives: Record<string, number>;
  splits: Record<Split, number>;
  /** Studies per site. */
  sites: Record<string, number>;
  /** Studies per cardiomegaly grade (0-4). */
  grades: number[];
  seconds: number;
}

/** Bumped whenever the same seed and size would give other images, reports or labels (study folders are keyed by it). */
export const PHANTOM_VERSION = 2;

/** Manifest label columns, in order: findings, No Finding, then the prognostic label. */
export const PHANTOM_LABEL_COLUMNS = [...PHANTOM_OBSERVATIONS, 'No Finding', 'adverse_outcome'] as const;
/** The ordinal label column: heart size graded 0-4 (truth.ts CARDIOMEGALY_GRADE_CUTS). */
export const PHANTOM_GRADE_COLUMN = 'cardiomegaly_grade';
/** The column naming each study's simulated hospital. */
export const PHANTOM_SITE_COLUMN = 'site';

/** Image-truth labels of one study (what the manifest holds). */
export function phantomLabels(study: PhantomStudy): Record<(typeof PHANTOM_LABEL_COLUMNS)[number], 0 | 1> {
  const f = study.findings;
  const labels = {
    Cardiomegaly: f.cardiomegaly ? 1 : 0,
    'Pleural Effusion': f.effusion ? 1 : 0,
    Pneumothorax: f.pneumothorax ? 1 : 0,
    'Lung Lesion': f.lesion ? 1 : 0,
    Consolidation: f.consolidation ? 1 : 0,
    'Support Devices': f.devices.length > 0 ? 1 : 0,
    'No Finding': 0,
    adverse_outcome: study.patient.adverseOutcome,
  } as Record<(typeof PHANTOM_LABEL_COLUMNS)[number], 0 | 1>;
  const anyFinding = PHANTOM_OBSERVATIONS.some((o) => o !== 'Support Devices' && labels[o] === 1);
  labels['No Finding'] = anyFinding ? 0 : 1;
  return labels;
}

export async function generatePhantom(options: GeneratePhantomOptions): Promise<PhantomSummary> {
  const started = performance.now();
  const { out, n } = options;
  const seed = options.seed ?? 1;
  const size = options.size ?? 256;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`generatePhantom: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(size) || size < 32 || size > 4096)
    throw new InvalidArgumentError(`generatePhantom: size must be an integer in [32, 4096], got ${size}`);
  if (!Number.isFinite(seed)) throw new InvalidArgumentError(`generatePhantom: seed must be a finite number, got ${seed}`);
  if (typeof out !== 'string' || out === '') throw new InvalidArgumentError('generatePhantom: out must name a folder');
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 0)) {
    throw new InvalidArgumentError(`generatePhantom: workers must be a non-negative integer, got ${options.workers}`);
  }

  const root = resolve(out);
  await mkdir(root, { recursive: true });
  const studies = sampleStudies(seed, n);
  const reports = studies.map((study) => generateReport(study, seed));
  let done = 0;
  const workers = options.workers ?? defaultWorkers(n);
  await writeAllImages({ root, n, seed, size }, workers, () => {
    done++;
    options.onProgress?.(done, studies.length);
  });

  const labelRows = studies.map(phantomLabels);
  const records = studies.map((study, i) => ({
    image_path: studyImagePath(study),
    report: (reports[i] as { text: string }).text,
    patient_id: study.patient.patientId,
    study_id: study.studyId,
    view: study.acquisition.view,
    [PHANTOM_SITE_COLUMN]: study.patient.site,
    ...(labelRows[i] as Record<string, number>),
    [PHANTOM_GRADE_COLUMN]: study.findings.cardiomegalyGrade,
  }));
  const columns = [
    'image_path',
    'report',
    'patient_id',
    'study_id',
    'view',
    PHANTOM_SITE_COLUMN,
    ...PHANTOM_LABEL_COLUMNS,
    PHANTOM_GRADE_COLUMN,
  ];
  const manifest = splitByPatient(buildManifest(columns, records, { baseDir: root, path: join(root, 'manifest.csv') }), {
    train: 0.7,
    val: 0.15,
    test: 0.15,
    seed,
    stratifyBy: 'adverse_outcome',
  });
  const manifestPath = join(root, 'manifest.csv');
  const csvRows: Array<Array<string | number>> = [[...columns, 'split']];
  manifest.rows.forEach((row, i) => {
    const r = records[i] as Record<string, string | number>;
    csvRows.push([...columns.map((c) => r[c] as string | number), row.split as string]);
  });
  await writeFileAtomic(manifestPath, formatCsv(csvRows), { createFolder: false });

  const groundTruthPath = join(root, 'ground_truth.jsonl');
  const lines = studies.map((study, i) =>
    JSON.stringify({
      study_id: study.studyId,
      patient_id: study.patient.patientId,
      image_path: records[i]?.image_path,
      split: manifest.rows[i]?.split,
      patient: {
        age: study.patient.age,
        sex: study.patient.sex,
        habitus: study.patient.habitus,
        frailty: study.patient.frailty,
        adverse_outcome: study.patient.adverseOutcome,
        site: study.patient.site,
        anatomy: study.patient.anatomy,
      },
      findings: study.findings,
      acquisition: study.acquisition,
      labels: labelRows[i],
      report_stated: reports[i]?.stated,
    }),
  );
  await writeFileAtomic(groundTruthPath, `${lines.join('\n')}\n`, { createFolder: false });

  const positives: Record<string, number> = {};
  for (const c of PHANTOM_LABEL_COLUMNS) positives[c] = labelRows.reduce((acc, l) => acc + l[c], 0);
  const splits: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const row of manifest.rows) if (row.split) splits[row.split]++;
  const sites: Record<string, number> = {};
  const grades = [0, 0, 0, 0, 0];
  for (const study of studies) {
    sites[study.patient.site] = (sites[study.patient.site] ?? 0) + 1;
    grades[study.findings.cardiomegalyGrade]!++;
  }
  return {
    manifestPath,
    groundTruthPath,
    studies: studies.length,
    patients: new Set(studies.map((s) => s.patient.patientId)).size,
    size,
    seed,
    positives,
    splits,
    sites,
    grades,
    seconds: (performance.now() - started) / 1000,
  };
}
