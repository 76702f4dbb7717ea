/**
 * predictions.csv: one row per test case with the scores the report's AUROCs were computed from,
 * so a reader can recompute every metric, pick their own thresholds or study single cases.
 *
 * Columns, in this order:
 *   row, study_id, patient_id, image   the manifest row number (as the manifest numbers it), ids, first image path
 *   prob.<label>                       the exported classifier's probability (one per label it predicts)
 *   truth.<label>                      the manifest label: 1, 0, -1 (uncertain) or empty (missing)
 *   zeroshot.<label>                   the zero-shot score, when the run evaluated zero-shot
 * Scores are written with the shortest decimal that reads back as the same number, so the
 * AUROCs recomputed from the file equal the report's exactly.
 */
import { writeFileAtomic } from '../io/atomic.js';
import { formatCsv } from '../data/manifest/csv.js';
import { InvalidArgumentError } from '../errors.js';
import type { TrainDataset } from './dataset.js';

/** Test-split scores of one evaluated arm: row-major [rows, labels]. */
export interface PredictionScores {
  labels: string[];
  scores: ArrayLike<number>;
}

export interface TestPredictions {
  /** Dataset row indices of the test cases, in the order the scores are. */
  rows: Int32Array;
  /** The classifier exported as classifier.onnx (a trained head or the linear probe), and its report name. */
  classifier?: PredictionScores & { source: string };
  zeroShot?: PredictionScores;
}

export const PREDICTION_CASE_COLUMNS = ['row', 'study_id', 'patient_id', 'image'] as const;

function checkShape(what: string, arm: PredictionScores, rows: number): void {
  if (arm.scores.length !== rows * arm.labels.length)
    throw new InvalidArgumentError(
      `predictions: ${what} has ${arm.scores.length} scores for ${rows} test rows × ${arm.labels.length} labels; expected ${rows * arm.labels.length}`,
      { what, scores: arm.scores.length, rows, labels: arm.labels.length },
    );
}

export function predictionsCsv(dataset: TrainDataset, predictions: TestPredictions): string {
  const { rows, classifier, zeroShot } = predictions;
  if (classifier) checkShape('the classifier', classifier, rows.length);
  if (zeroShot) checkShape('zero-shot', zeroShot, rows.length);
  const L = dataset.labelNames.length;
  const header = [
    ...PREDICTION_CASE_COLUMNS,
    ...(classifier?.labels ?? []).map((l) => `prob.${l}`),
    ...dataset.labelNames.map((l) => `truth.${l}`),
    ...(zeroShot?.labels ?? []).map((l) => `zeroshot.${l}`),
  ];
  const scoreCells = (arm: PredictionScores | undefined, i: number): string[] =>
    (arm?.labels ?? []).map((_, j) => String(arm!.scores[i * arm!.labels.length + j]));
  const lines = Array.from(rows, (r, i) => {
    const row = dataset.manifest.rows[r]!;
    const truth = Array.from({ length: L }, (_, l) => {
      const v = dataset.labels[r * L + l]!;
      return Number.isNaN(v) ? '' : String(v);
    });
    return [
      row.row,
      row.studyId,
      row.patientId,
      dataset.imagePaths[r]!,
      ...scoreCells(classifier, i),
      ...truth,
      ...scoreCells(zeroShot, i),
    ];
  });
  return formatCsv([header, ...lines]);
}

/** Writes predictions.csv atomically; returns its path. */
export async function writePredictions(path: string, dataset: TrainDataset, predictions: TestPredictions): Promise<string> {
  await writeFileAtomic(path, predictionsCsv(dataset, predictions));
  return path;
}
