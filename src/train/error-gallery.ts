/**
 * The report's gallery of most confident errors: for each label of the exported classifier, the
 * test cases it got most confidently wrong against its validation threshold, as thumbnails of
 * the pixels the model saw (the image cache's, undoing only the mean/std normalisation).
 */
import sharp from 'sharp';
import { mostConfidentErrors } from '../eval/report/error-cases.js';
import type { ErrorCaseGallery, ReportCase } from '../eval/report/html.js';
import type { TrainConfig } from './config.js';
import type { TrainDataset } from './dataset.js';
import { loadImages } from './features.js';
import type { TestPredictions } from './predictions.js';

/** Thumbnails are at most this many pixels on a side. */
const THUMBNAIL = 128;

async function thumbnail(pixels: Float32Array, size: number, mean: number, std: number): Promise<Uint8Array> {
  const grey = new Uint8Array(size * size);
  for (let k = 0; k < grey.length; k++) grey[k] = Math.round(Math.min(1, Math.max(0, pixels[k]! * std + mean)) * 255);
  let image = sharp(grey, { raw: { width: size, height: size, channels: 1 } });
  if (size > THUMBNAIL) image = image.resize(THUMBNAIL, THUMBNAIL, { kernel: 'lanczos3' });
  return new Uint8Array(await image.toColourspace('b-w').png().toBuffer());
}

export async function buildErrorGallery(
  config: TrainConfig,
  dataset: TrainDataset,
  predictions: TestPredictions,
  thresholds: Record<string, number | null> | undefined,
  perKind = 4,
): Promise<ErrorCaseGallery | undefined> {
  const { classifier, rows } = predictions;
  if (!classifier || rows.length === 0) return undefined;
  const L = dataset.labelNames.length;
  const C = classifier.labels.length;
  const picks = classifier.labels.map((label, j) => {
    const column = dataset.labelNames.indexOf(label);
    const scores = Float64Array.from(rows, (_, i) => classifier.scores[i * C + j]!);
    const truth = Float64Array.from(rows, (r) => (column < 0 ? NaN : dataset.labels[r * L + column]!));
    const threshold = thresholds?.[label] ?? null;
    return { label, threshold, scores, ...mostConfidentErrors(scores, truth, threshold, perKind) };
  });
  const needed = [...new Set(picks.flatMap((p) => [...p.falsePositives, ...p.falseNegatives]))].sort((a, b) => a - b);
  const size = config.image.size;
  const per = size * size;
  const images =
    needed.length > 0
      ? (
          await loadImages(
            config,
            needed.map((i) => dataset.imagePaths[rows[i]!]!),
          )
        ).data
      : new Float32Array(0);
  const thumbs = new Map<number, Uint8Array>();
  for (const [k, i] of needed.entries())
    thumbs.set(i, await thumbnail(images.subarray(k * per, (k + 1) * per), size, config.image.mean, config.image.std));
  const caseOf = (i: number, scores: Float64Array): ReportCase => {
    const row = dataset.manifest.rows[rows[i]!]!;
    return { png: thumbs.get(i)!, caption: `row ${row.row} · study ${row.studyId} · patient ${row.patientId}`, probability: scores[i]! };
  };
  return {
    arm: classifier.source,
    labels: picks.map((p) => ({
      label: p.label,
      threshold: p.threshold,
      falsePositives: p.falsePositives.map((i) => caseOf(i, p.scores)),
      falseNegatives: p.falseNegatives.map((i) => caseOf(i, p.scores)),
    })),
  };
}
