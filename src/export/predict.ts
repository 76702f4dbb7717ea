/**
 * Predicting with a classifier.onnx on image files: what `radlearn predict` does, as a library
 * call. Inputs are files, folders (walked for DICOM, PNG and JPEG) or manifests (their first
 * image per row, as training reads them); each file is preprocessed from the model's own metadata
 * and run through the model in batches. Files that cannot be read are reported with their error
 * code and skipped, or fail the call when `strict`.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { formatCsv } from '../data/manifest/csv.js';
import { loadManifest } from '../data/manifest/load.js';
import type { Split } from '../data/manifest/types.js';
import { InvalidArgumentError, MissingFileError, RadlearnError } from '../errors.js';
import type { LoadedClassifier } from './load-classifier.js';
import { preprocessForClassifier } from './preprocessing.js';

/** One image to predict, with its manifest row when it came from one. */
export interface PredictInput {
  path: string;
  row?: number;
  studyId?: string;
  patientId?: string;
}

export interface PredictFailure extends PredictInput {
  /** The error's code (ERR_DICOM_..., ERR_IMAGE_..., ERR_IO when the file system refused). */
  code: string;
  message: string;
}

export interface PredictOptions {
  /** Images per model call (default 32); the probabilities do not depend on it. */
  batchSize?: number;
  /** Throw on the first unreadable file instead of skipping it. */
  strict?: boolean;
  onProgress?: (done: number, total: number, failed: number) => void;
}

export interface FilePredictions {
  labels: string[];
  /** The inputs that were predicted, in input order. */
  predicted: PredictInput[];
  /** float32 [predicted.length, labels.length], row-major. */
  probabilities: Float32Array;
  failures: PredictFailure[];
}

const IMAGE_EXTENSIONS = new Set(['.dcm', '.dicom', '.png', '.jpg', '.jpeg']);

/** A file without an extension is taken when it has the DICOM preamble's 'DICM' at byte 128. */
async function hasDicomMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buffer, 0, 4, 128);
    return bytesRead === 4 && buffer.toString('latin1') === 'DICM';
  } finally {
    await handle.close();
  }
}

/** Image files under `dir`, recursively, sorted by path so the output order is stable. */
export async function findImageFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const ext = extname(e.name).toLowerCase();
        if (IMAGE_EXTENSIONS.has(ext) || (ext === '' && (await hasDicomMagic(full)))) found.push(full);
      }
    }
  };
  await walk(dir);
  return found;
}

/**
 * The images named by command-line style arguments: a .csv is a manifest (one input per row, its
 * first image, optionally only the rows of `split`), a folder is walked, anything else is a file.
 */
export async function collectPredictInputs(
  args: string[],
  options: { split?: Split } = {},
): Promise<{ inputs: PredictInput[]; manifest: boolean }> {
  const inputs: PredictInput[] = [];
  let manifest = false;
  for (const arg of args) {
    const full = resolve(arg);
    const info = await stat(full).catch(() => {
      throw new MissingFileError(full, 'image, folder or manifest');
    });
    if (info.isDirectory()) {
      for (const path of await findImageFiles(full)) inputs.push({ path });
    } else if (extname(full).toLowerCase() === '.csv') {
      manifest = true;
      for (const r of (await loadManifest(full)).rows) {
        if (options.split && r.split !== options.split) continue;
        inputs.push({ path: r.imagePaths[0]!, row: r.row, studyId: r.studyId, patientId: r.patientId });
      }
    } else inputs.push({ path: full });
  }
  if (options.split && !manifest)
    throw new InvalidArgumentError(`a split (${options.split}) selects manifest rows, but no manifest (.csv) was given`);
  return { inputs, manifest };
}

function failureOf(input: PredictInput, error: unknown): PredictFailure {
  const code = error instanceof RadlearnError ? error.code : 'ERR_IO';
  const message = error instanceof Error ? error.message : String(error);
  return { ...input, code, message };
}

/** Preprocesses each input from the model's metadata and runs the model on them, `batchSize` at a time. */
export async function predictFiles(
  model: LoadedClassifier,
  inputs: Array<string | PredictInput>,
  options: PredictOptions = {},
): Promise<FilePredictions> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  const items = inputs.map((i) => (typeof i === 'string' ? { path: resolve(i) } : i));
  const { channels, height, width } = model.preprocessing;
  const per = channels * height * width;
  const L = model.labels.length;
  const predicted: PredictInput[] = [];
  const failures: PredictFailure[] = [];
  const chunks: Float32Array[] = [];
  let batch = new Float32Array(batchSize * per);
  let filled = 0;
  const flush = async (): Promise<void> => {
    if (filled === 0) return;
    chunks.push((await model.predict(batch.subarray(0, filled * per))).slice());
    batch = new Float32Array(batchSize * per);
    filled = 0;
  };
  for (const [i, item] of items.entries()) {
    try {
      batch.set(await preprocessForClassifier(item.path, model.preprocessing), filled * per);
      filled++;
      predicted.push(item);
    } catch (error) {
      if (options.strict) throw error;
      failures.push(failureOf(item, error));
    }
    if (filled === batchSize) await flush();
    options.onProgress?.(i + 1, items.length, failures.length);
  }
  await flush();
  const probabilities = new Float32Array(predicted.length * L);
  let offset = 0;
  for (const c of chunks) {
    probabilities.set(c, offset);
    offset += c.length;
  }
  return { labels: model.labels, predicted, probabilities, failures };
}

/**
 * The predictions as CSV: [row, study_id, patient_id,] image, prob.<label>..., label.<label>...
 * Probabilities are written as predictions.csv writes them (the shortest decimal that reads back
 * as the same number); label.<label> is 1 or 0 against the model's threshold, empty without one.
 */
export function predictionsTable(result: FilePredictions, thresholds: Record<string, number | null> | undefined, withIds: boolean): string {
  const { labels, predicted, probabilities } = result;
  const L = labels.length;
  const header = [
    ...(withIds ? ['row', 'study_id', 'patient_id'] : []),
    'image',
    ...labels.map((l) => `prob.${l}`),
    ...labels.map((l) => `label.${l}`),
  ];
  const lines = predicted.map((input, i) => {
    const probs = labels.map((_, j) => probabilities[i * L + j]!);
    const decided = labels.map((l, j) => {
      const t = thresholds?.[l];
      return typeof t === 'number' ? (probs[j]! >= t ? '1' : '0') : '';
    });
    return [
      ...(withIds ? [input.row === undefined ? '' : String(input.row), input.studyId ?? '', input.patientId ?? ''] : []),
      input.path,
      ...probs.map(String),
      ...decided,
    ];
  });
  return formatCsv([header, ...lines]);
}
