/**
 * What a run trains and evaluates on, stated before the first step: rows, patients and studies,
 * the images dropped as missing or undecodable, duplicates merged by the manifest, and the label
 * counts per split. Emitted as the 'data' event, written to the run folder as data-summary.json
 * and shown in report.md.
 */
import type { LabelCounts } from '../data/import/summary.js';
import type { Split } from '../data/manifest/types.js';
import type { TrainDataset } from './dataset.js';

export interface ImageProblem {
  /** The manifest's 1-based record number. */
  row: number;
  path: string;
  code: string;
  message: string;
}

export interface DataSummary {
  manifest: string;
  /** Manifest rows, and the rows trained and evaluated once rows with unusable images are dropped. */
  manifestRows: number;
  rows: number;
  patients: number;
  studies: number;
  splits: Record<Split, number>;
  images: {
    /** Which rows' images were checked: every row, or the training rows (mode dino reads only those). */
    scope: 'all rows' | 'train rows';
    checked: number;
    missing: number;
    undecodable: number;
    droppedRows: number;
    /** Images decoded (or tried) for this run, read from train's own cache, and read from data.cache. */
    decoded: number;
    reused: number;
    fromDataCache: number;
    dataCache?: string;
    ownCache: string;
    /** The first 20 rows dropped, with the reason. */
    problems: ImageProblem[];
  };
  /** From the manifest's duplicate-image guard, when it ran (else 0). */
  duplicates: { imagesMerged: number; patientsMerged: number };
  labels: Array<{ label: string; counts: Record<Split, LabelCounts> }>;
}

export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export function summariseData(
  dataset: TrainDataset,
  manifestPath: string,
  manifestRows: number,
  images: DataSummary['images'],
): DataSummary {
  const rows = dataset.manifest.rows;
  const splits = { train: 0, val: 0, test: 0 };
  for (const s of dataset.split) splits[s]++;
  const L = dataset.labelNames.length;
  const labels = dataset.labelNames.map((label, l) => {
    const counts = Object.fromEntries(SPLITS.map((s) => [s, { positive: 0, negative: 0, uncertain: 0, missing: 0, other: 0 }])) as Record<
      Split,
      LabelCounts
    >;
    for (let i = 0; i < dataset.size; i++) {
      const v = dataset.labels[i * L + l]!;
      const c = counts[dataset.split[i]!];
      if (Number.isNaN(v)) c.missing++;
      else if (v === 1) c.positive++;
      else if (v === 0) c.negative++;
      else if (v === -1) c.uncertain++;
      else c.other++;
    }
    return { label, counts };
  });
  // The duplicate guard's record is optional in the manifest type; older manifests lack it.
  const duplicates = (dataset.manifest as { duplicates?: { imagesMerged?: number; patientsMerged?: number } }).duplicates;
  return {
    manifest: manifestPath,
    manifestRows,
    rows: dataset.size,
    patients: new Set(rows.map((r) => r.patientId)).size,
    studies: new Set(rows.map((r) => r.studyId)).size,
    splits,
    images,
    duplicates: { imagesMerged: duplicates?.imagesMerged ?? 0, patientsMerged: duplicates?.patientsMerged ?? 0 },
    labels,
  };
}

/** `12/30/1/0`: positive/negative/uncertain/missing. */
export function countsCell(c: LabelCounts): string {
  return `${c.positive}/${c.negative}/${c.uncertain}/${c.missing}`;
}

/** The headline facts, one line each (the CLI prints them; report.md lists them). */
export function dataSummaryFacts(s: DataSummary): string[] {
  const i = s.images;
  const source = [
    i.fromDataCache > 0 || i.dataCache ? `${i.fromDataCache} from data.cache` : '',
    `${i.reused} from train's cache`,
    `${i.decoded} decoded`,
  ].filter(Boolean);
  return [
    `${s.rows} rows (of ${s.manifestRows} in the manifest), ${s.patients} patients, ${s.studies} studies; splits train ${s.splits.train}, val ${s.splits.val}, test ${s.splits.test}`,
    `images (${i.scope}): ${i.checked} checked, ${i.missing} missing, ${i.undecodable} undecodable, ${i.droppedRows} rows dropped; ${source.join(', ')}`,
    `duplicates merged: ${s.duplicates.imagesMerged} images, ${s.duplicates.patientsMerged} patients`,
  ];
}

/** The summary as plain text lines: the facts and a label-count table (the CLI prints these). */
export function dataSummaryLines(s: DataSummary): string[] {
  const lines = [...dataSummaryFacts(s)];
  if (s.labels.length === 0) return lines;
  const header = ['label (pos/neg/unc/missing)', ...SPLITS];
  const rows = s.labels.map((l) => [l.label, ...SPLITS.map((sp) => countsCell(l.counts[sp]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [...lines, line(header), ...rows.map(line)];
}

/** The data section of report.md. */
export function dataSummaryMarkdown(s: DataSummary): string {
  const lines = dataSummaryFacts(s).map((f) => `- ${f}`);
  if (s.images.problems.length > 0) {
    lines.push('', `Dropped rows (first ${s.images.problems.length}):`, '');
    for (const p of s.images.problems) lines.push(`- row ${p.row}: \`${p.path}\`: ${p.code}`);
  }
  if (s.labels.length > 0) {
    lines.push(
      '',
      'Label counts per split (positive/negative/uncertain/missing):',
      '',
      '| label | train | val | test |',
      '|---|---|---|---|',
      ...s.labels.map((l) => `| ${l.label} | ${SPLITS.map((sp) => countsCell(l.counts[sp])).join(' | ')} |`),
    );
  }
  return lines.join('\n');
}
