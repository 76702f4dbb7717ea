/**
 * What an import produced, in numbers a user checks before training: rows, patients, studies,
 * images, the rows dropped and why, and each label's positives / negatives / uncertain / missing,
 * overall and per split. Warnings name the labels that cannot be evaluated (no positives or no
 * negatives in a split) before a training run finds out.
 */
import type { Split } from '../manifest/types.js';
import type { DroppedRow, ImportedRow, ImportFormat, ImportResult } from './types.js';

export interface LabelCounts {
  positive: number;
  negative: number;
  uncertain: number;
  missing: number;
  /** Values other than 1, 0, -1 (multiclass labels). */
  other: number;
}

export interface SplitSummary {
  rows: number;
  patients: number;
  labels: Record<string, LabelCounts>;
}

export type DropReason = DroppedRow['reason'];

export interface ImportSummary {
  format: ImportFormat;
  /** The dataset root (or table) imported from. */
  root: string;
  /** The manifest written. */
  out: string;
  rows: number;
  patients: number;
  studies: number;
  /** Distinct image files. */
  images: number;
  dropped: {
    total: number;
    /** Per reason: how many, and the first few. */
    byReason: Partial<Record<DropReason, { count: number; first: DroppedRow[] }>>;
  };
  labelNames: string[];
  labels: Record<string, LabelCounts>;
  /** Per split ('unassigned' for rows without one), present when any row has a split. */
  splits?: Partial<Record<Split | 'unassigned', SplitSummary>>;
  notes: string[];
  warnings: string[];
}

/** How many dropped rows per reason the summary lists. */
export const DROPPED_LISTED = 5;

function countLabels(rows: readonly ImportedRow[], names: readonly string[]): Record<string, LabelCounts> {
  const out: Record<string, LabelCounts> = {};
  for (const name of names) {
    const c: LabelCounts = { positive: 0, negative: 0, uncertain: 0, missing: 0, other: 0 };
    for (const row of rows) {
      const v = row.labels[name];
      if (v === null || v === undefined) c.missing++;
      else if (v === 1) c.positive++;
      else if (v === 0) c.negative++;
      else if (v === -1) c.uncertain++;
      else c.other++;
    }
    out[name] = c;
  }
  return out;
}

const binaryLike = (c: LabelCounts): boolean => c.other === 0;

export function summarizeImport(result: ImportResult, out: string): ImportSummary {
  const { rows, labelNames } = result;
  const byReason: ImportSummary['dropped']['byReason'] = {};
  for (const d of result.dropped) {
    const entry = (byReason[d.reason] ??= { count: 0, first: [] });
    entry.count++;
    if (entry.first.length < DROPPED_LISTED) entry.first.push(d);
  }
  const labels = countLabels(rows, labelNames);
  const warnings: string[] = [];
  for (const name of labelNames) {
    const c = labels[name] as LabelCounts;
    if (c.missing === rows.length) warnings.push(`label ${name} is missing in every row`);
    else if (binaryLike(c) && c.positive === 0) warnings.push(`label ${name} has no positives`);
    else if (binaryLike(c) && c.negative === 0) warnings.push(`label ${name} has no negatives`);
  }
  const images = new Set(rows.map((r) => r.imagePath));
  if (images.size < rows.length) warnings.push(`${rows.length - images.size} rows repeat an image path of an earlier row`);
  const summary: ImportSummary = {
    format: result.format,
    root: result.root,
    out,
    rows: rows.length,
    patients: new Set(rows.map((r) => r.patientId)).size,
    studies: new Set(rows.map((r) => r.studyId)).size,
    images: images.size,
    dropped: { total: result.dropped.length, byReason },
    labelNames: [...labelNames],
    labels,
    notes: [...result.notes],
    warnings,
  };
  if (rows.some((r) => r.split !== undefined)) {
    const splits: NonNullable<ImportSummary['splits']> = {};
    for (const key of ['train', 'val', 'test', 'unassigned'] as const) {
      const part = rows.filter((r) => (r.split ?? 'unassigned') === key);
      if (part.length === 0) continue;
      const counts = countLabels(part, labelNames);
      splits[key] = { rows: part.length, patients: new Set(part.map((r) => r.patientId)).size, labels: counts };
      if (key === 'unassigned') continue;
      for (const name of labelNames) {
        const c = counts[name] as LabelCounts;
        if (!binaryLike(c) || c.missing === part.length) continue;
        if (c.positive === 0) warnings.push(`label ${name} has no positives in the ${key} split`);
        if (c.negative === 0) warnings.push(`label ${name} has no negatives in the ${key} split`);
      }
    }
    summary.splits = splits;
  }
  return summary;
}

function table(header: string[], body: Array<Array<string | number>>): string[] {
  const cells = [header, ...body.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] as string).length)));
  return cells.map((r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '));
}

function labelTable(names: readonly string[], counts: Record<string, LabelCounts>): string[] {
  const withOther = names.some((n) => (counts[n] as LabelCounts).other > 0);
  const header = ['label', 'positive', 'negative', 'uncertain', 'missing', ...(withOther ? ['other'] : [])];
  return table(
    header,
    names.map((n) => {
      const c = counts[n] as LabelCounts;
      return [n, c.positive, c.negative, c.uncertain, c.missing, ...(withOther ? [c.other] : [])];
    }),
  );
}

/** The summary as lines for a terminal. */
export function summaryLines(summary: ImportSummary): string[] {
  const lines: string[] = [];
  lines.push(`wrote ${summary.out}: ${summary.rows} rows from ${summary.format} ${summary.root}`);
  lines.push(`  ${summary.patients} patients, ${summary.studies} studies, ${summary.images} images`);
  if (summary.dropped.total === 0) lines.push('dropped: none');
  else {
    const parts = Object.entries(summary.dropped.byReason).map(([reason, e]) => `${e.count} ${reason}`);
    lines.push(`dropped: ${summary.dropped.total} rows (${parts.join(', ')})`);
    for (const [reason, e] of Object.entries(summary.dropped.byReason)) {
      for (const d of e.first) lines.push(`  ${reason}: ${d.source}: ${d.message}`);
      if (e.count > e.first.length) lines.push(`  ${reason}: … and ${e.count - e.first.length} more`);
    }
  }
  if (summary.labelNames.length === 0) lines.push('labels: none');
  else {
    lines.push(`labels (${summary.labelNames.length}):`);
    lines.push(...labelTable(summary.labelNames, summary.labels));
  }
  for (const [split, s] of Object.entries(summary.splits ?? {})) {
    lines.push(`split ${split}: ${s.rows} rows, ${s.patients} patients`);
    if (summary.labelNames.length > 0) lines.push(...labelTable(summary.labelNames, s.labels));
  }
  for (const note of summary.notes) lines.push(`note: ${note}`);
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
