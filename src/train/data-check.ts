/**
 * Before any encoder work: every image the run needs is made available (images.ts), rows whose
 * image is missing or cannot be decoded are dropped from every split at once (or, with
 * data.strict, stop the run), and the data summary is emitted and written to the run folder.
 */
import { join, resolve } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { dropRows, TrainDataError, type TrainDataset } from './dataset.js';
import { summariseData, type DataSummary, type ImageProblem } from './data-summary.js';
import type { TrainConfig } from './config.js';
import type { TrainEvent } from './events.js';
import { failureLines, prepareImages } from './images.js';
import { stageEmitter } from './mode-session.js';

export const DATA_SUMMARY_FILE = 'data-summary.json';

export interface CheckTrainDataOptions {
  runDir: string;
  emit: (event: TrainEvent) => void;
  /** Rows whose images the run reads (default: every row; mode dino: the training rows). */
  rows?: Int32Array;
}

export async function checkTrainData(
  config: TrainConfig,
  dataset: TrainDataset,
  options: CheckTrainDataOptions,
): Promise<{ dataset: TrainDataset; summary: DataSummary }> {
  const stage = stageEmitter(options.emit);
  const rows = options.rows ? Array.from(options.rows) : Array.from({ length: dataset.size }, (_, i) => i);
  stage('images', `checking ${rows.length} images`);
  const prepared = await prepareImages(
    config,
    rows.map((r) => dataset.imagePaths[r]!),
    { progress: stage, note: (level, message) => stage(level === 'warning' ? 'warning' : 'images', message) },
  );
  const failed = new Map(prepared.failures.map((f) => [f.path, f]));
  const bad = rows.filter((r) => failed.has(resolve(dataset.imagePaths[r]!)));
  const problems: ImageProblem[] = bad.map((r) => {
    const f = failed.get(resolve(dataset.imagePaths[r]!))!;
    return { row: dataset.manifest.rows[r]!.row, path: f.path, code: f.code, message: f.message };
  });
  const missing = prepared.failures.filter((f) => f.code === 'ERR_MISSING_FILE').length;
  const undecodable = prepared.failures.length - missing;
  if (bad.length > 0) {
    const head =
      `${prepared.failures.length} of ${failed.size + prepared.sources.size} images of ${config.data.manifest} cannot be used ` +
      `(${missing} missing, ${undecodable} undecodable)`;
    const list = failureLines(problems).join('\n  ');
    if (config.data.strict) {
      throw new TrainDataError(`${head}; data.strict is set, so the run stops:\n  ${list}`, {
        failures: problems.slice(0, 20),
        count: problems.length,
      });
    }
    stage('warning', `${head}; their ${bad.length} row(s) are dropped from every split:\n  ${list}`);
  }
  const kept = dropRows(dataset, bad);
  const summary = summariseData(kept, config.data.manifest, dataset.size, {
    scope: options.rows ? 'train rows' : 'all rows',
    checked: failed.size + prepared.sources.size,
    missing,
    undecodable,
    droppedRows: bad.length,
    decoded: prepared.decoded,
    reused: prepared.reused,
    fromDataCache: prepared.external?.used ?? 0,
    ...(prepared.external ? { dataCache: prepared.external.dir } : {}),
    ownCache: prepared.ownDir,
    problems: problems.slice(0, 20),
  });
  options.emit({ type: 'data', summary });
  await writeJsonAtomic(join(options.runDir, DATA_SUMMARY_FILE), summary);
  return { dataset: kept, summary };
}
