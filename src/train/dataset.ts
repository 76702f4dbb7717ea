/**
 * The training data a run works on: manifest rows with splits, a label matrix, each row's
 * candidate sentences (indices into one de-duplicated sentence table), and which training
 * rows keep their labels at the configured label fraction.
 */
import { resolve } from 'node:path';
import { RadlearnError } from '../errors.js';
import { loadManifest } from '../data/manifest/load.js';
import { labelFraction, splitByPatient } from '../data/manifest/split.js';
import type { Manifest, Split } from '../data/manifest/types.js';
import { mapLimit } from '../io/map-limit.js';
import { readReportText } from '../data/manifest/write.js';
import { candidateSentences, sampleSentences } from '../data/sampling/sentences.js';
import type { ParsedReport } from '../data/reports/parse.js';
import { labelReport } from '../data/labeler/label.js';
import type { TrainConfig } from './config.js';

export class TrainDataError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_TRAIN_DATA', message, details);
  }
}

export interface TrainDataset {
  manifest: Manifest;
  /** Row count N. */
  size: number;
  imagePaths: string[];
  reports: string[];
  split: Split[];
  labelNames: string[];
  /** Row-major [N, L]: 1, 0, -1 (uncertain) or NaN (missing). */
  labels: Float32Array;
  /** Training rows whose labels are used at data.labelFraction. */
  labelled: Uint8Array;
  /** Distinct candidate sentences over all rows. */
  sentences: string[];
  /** CSR: row i's sentences are rowSentences[rowOffsets[i] .. rowOffsets[i + 1]) in report order. */
  rowOffsets: Int32Array;
  rowSentences: Int32Array;
  indices(split: Split): Int32Array;
}

/**
 * `onWarning` receives what the user should know about the data (cross-patient duplicate images
 * merged into one split group, rows moved between given splits); the modes emit it as a 'warning'
 * stage event. `manifest.duplicates` stays set on the returned manifest for the run's summary.
 */
export async function loadTrainDataset(
  config: TrainConfig,
  needsText: boolean,
  onWarning: (message: string) => void = (message) => process.emitWarning(message, 'RadlearnWarning'),
): Promise<TrainDataset> {
  const path = resolve(config.data.manifest);
  let manifest = await loadManifest(path, { duplicates: 'merge', onWarning });
  if (manifest.rows.length === 0) throw new TrainDataError(`${path}: the manifest has no rows`, { path });
  const binary = manifest.labelColumns.filter((c) => c.kind === 'binary').map((c) => c.name);
  const labelNames = config.data.labels ?? binary;
  for (const name of labelNames) {
    const column = manifest.labelColumns.find((c) => c.name === name);
    if (!column) {
      throw new TrainDataError(
        `config key data.labels: column "${name}" is not a label column of ${path} (label columns: ${manifest.labelColumns.map((c) => c.name).join(', ') || 'none'})`,
        { key: 'data.labels', column: name },
      );
    }
    if (column.kind !== 'binary')
      throw new TrainDataError(
        `config key data.labels: column "${name}" of ${path} is ${column.kind}; radlearn heads train binary (multi-label) columns`,
        { key: 'data.labels', column: name },
      );
  }
  const groupBy = config.eval.groupBy;
  if (groupBy !== undefined && !manifest.columns.includes(groupBy))
    throw new TrainDataError(`config key eval.groupBy: ${path} has no column "${groupBy}" (columns: ${manifest.columns.join(', ')})`, {
      key: 'eval.groupBy',
      column: groupBy,
    });
  if (labelNames.length === 0 && config.mode !== 'contrastive' && config.mode !== 'clip-finetune')
    throw new TrainDataError(`${path} has no binary label columns; ${config.mode} training needs labels`, { path });
  if (manifest.rows.some((r) => r.split === undefined)) {
    const { train, val, test } = config.data.split;
    manifest = splitByPatient(manifest, { train, val, test, seed: config.seed, stratifyBy: labelNames[0] });
  }
  const N = manifest.rows.length;
  // a report is its text, else the file its report path names, read 16 at a time
  const reports = needsText ? await mapLimit(manifest.rows, 16, readReportText) : manifest.rows.map((r) => r.reportText ?? '');
  // Training rows without report text cannot serve a text mode: dropped with a warning, or fatal with data.strict.
  const withoutText = needsText ? manifest.rows.flatMap((r, i) => (r.split === 'train' && reports[i]!.trim() === '' ? [i] : [])) : [];
  if (withoutText.length > 0) {
    const first = manifest.rows[withoutText[0]!]!.row;
    const head = `${path}: ${withoutText.length} training row(s) have an empty or missing report (first: row ${first}); ${config.mode} training needs report text`;
    if (config.data.strict) throw new TrainDataError(`${head}; data.strict is set, so the run stops`, { path, row: first });
    onWarning(`${head}; those rows are left out of training`);
  }
  const labels = new Float32Array(N * labelNames.length);
  manifest.rows.forEach((r, i) =>
    labelNames.forEach((name, l) => {
      const v = r.labels[name];
      labels[i * labelNames.length + l] = v === null || v === undefined ? NaN : v;
    }),
  );
  const kept = new Set(
    labelFraction(manifest, config.data.labelFraction, {
      seed: config.seed,
      stratifyBy: labelNames.length > 0 ? labelNames[0] : undefined,
    }).rows.map((r) => r.row),
  );
  const labelled = new Uint8Array(N);
  manifest.rows.forEach((r, i) => (labelled[i] = r.split === 'train' && kept.has(r.row) ? 1 : 0));

  const table = new Map<string, number>();
  const sentences: string[] = [];
  const rowOffsets = new Int32Array(N + 1);
  const flat: number[] = [];
  reports.forEach((report, i) => {
    for (const s of needsText ? candidateSentences(report, config.data.sentences.sections) : []) {
      let id = table.get(s);
      if (id === undefined) {
        id = sentences.length;
        table.set(s, id);
        sentences.push(s);
      }
      flat.push(id);
    }
    rowOffsets[i + 1] = flat.length;
  });
  const split = manifest.rows.map((r) => r.split as Split);
  const dataset: TrainDataset = {
    manifest,
    size: N,
    imagePaths: manifest.rows.map((r) => {
      if (r.imagePaths.length === 0) throw new TrainDataError(`${path} row ${r.row}: no image path`, { path, row: r.row });
      return r.imagePaths[0]!;
    }),
    reports,
    split,
    labelNames,
    labels,
    labelled,
    sentences,
    rowOffsets,
    rowSentences: Int32Array.from(flat),
    indices: (which) => Int32Array.from(split.flatMap((s, i) => (s === which ? [i] : []))),
  };
  return dropRows(dataset, withoutText);
}

/**
 * The dataset without the given rows (indices into `dataset`), every per-row array cut the same
 * way: splits, labels, the label-fraction choice and reports of the other rows stay as they were,
 * and the sentence table keeps only sentences of the rows left (in first-use order, as
 * loadTrainDataset builds it).
 */
export function dropRows(dataset: TrainDataset, rows: Iterable<number>): TrainDataset {
  const drop = new Set(rows);
  if (drop.size === 0) return dataset;
  const keep = Array.from({ length: dataset.size }, (_, i) => i).filter((i) => !drop.has(i));
  const L = dataset.labelNames.length;
  const labels = new Float32Array(keep.length * L);
  keep.forEach((i, k) => labels.set(dataset.labels.subarray(i * L, (i + 1) * L), k * L));
  const table = new Map<number, number>();
  const sentences: string[] = [];
  const rowOffsets = new Int32Array(keep.length + 1);
  const flat: number[] = [];
  keep.forEach((i, k) => {
    for (let j = dataset.rowOffsets[i]!; j < dataset.rowOffsets[i + 1]!; j++) {
      const old = dataset.rowSentences[j]!;
      let id = table.get(old);
      if (id === undefined) {
        id = sentences.length;
        table.set(old, id);
        sentences.push(dataset.sentences[old]!);
      }
      flat.push(id);
    }
    rowOffsets[k + 1] = flat.length;
  });
  const split = keep.map((i) => dataset.split[i]!);
  return {
    manifest: { ...dataset.manifest, rows: keep.map((i) => dataset.manifest.rows[i]!) },
    size: keep.length,
    imagePaths: keep.map((i) => dataset.imagePaths[i]!),
    reports: keep.map((i) => dataset.reports[i]!),
    split,
    labelNames: dataset.labelNames,
    labels,
    labelled: Uint8Array.from(keep, (i) => dataset.labelled[i]!),
    sentences,
    rowOffsets,
    rowSentences: Int32Array.from(flat),
    indices: (which) => Int32Array.from(split.flatMap((s, i) => (s === which ? [i] : []))),
  };
}

/**
 * The sentences sampled for row `row` at `epoch`: exactly sampleSentences' draw (same count,
 * same subset, report order), returned as indices into the sentence table so cached sentence
 * embeddings can be combined instead of re-encoding text every step.
 */
export function sampledSentenceIds(dataset: TrainDataset, row: number, config: TrainConfig, epoch: number): number[] {
  const start = dataset.rowOffsets[row]!;
  const end = dataset.rowOffsets[row + 1]!;
  const n = end - start;
  if (n === 0) return [];
  // Sentence texts replaced by their positions: sampleSentences' choice depends only on the count.
  const parsed: ParsedReport = { sections: {}, sentences: Array.from({ length: n }, (_, k) => ({ section: 'findings', text: String(k) })) };
  const picked = sampleSentences(parsed, {
    sections: ['findings'],
    min: config.data.sentences.min,
    max: config.data.sentences.max,
    seed: config.seed,
    epoch,
    index: row,
  });
  return picked.split(' ').map((k) => dataset.rowSentences[start + Number(k)]!);
}

/** Group ids for multi-positive contrastive targets: rows whose reports carry the same labeler findings share an id. */
export function reportGroups(dataset: TrainDataset): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(
    dataset.reports.map((report) => {
      const labels = labelReport(report) as Record<string, unknown>;
      const key = Object.keys(labels)
        .sort()
        .map((k) => `${k}=${String(labels[k])}`)
        .join('|');
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    }),
  );
}
