/**
 * Recall@1 of image–sentence matching against the random baseline: over reports whose sentences
 * are known to describe the image's findings or not, how often the top-ranked sentence is one
 * that does, next to what a random ranking achieves (the share of such sentences in the report),
 * with percentile-bootstrap CIs over reports for both and for their paired difference.
 */
import { bootstrapCI, type BootstrapResult } from '../eval/bootstrap.js';
import { InvalidArgumentError } from '../errors.js';

export interface RankedReport {
  /** One score per sentence (higher: more similar to the image). */
  scores: ArrayLike<number>;
  /** Whether each sentence describes a finding the image has. */
  relevant: ArrayLike<boolean>;
}

export interface RecallAtOne {
  /** Reports counted: with at least one relevant and one other sentence. */
  reports: number;
  /** Reports left out (all sentences relevant, or none). */
  skipped: number;
  recall: BootstrapResult;
  /** Expected recall@1 of a random ranking: the mean share of relevant sentences. */
  baseline: BootstrapResult;
  /** recall − baseline, paired by report: a CI above 0 means the ranking beats chance. */
  difference: BootstrapResult;
}

/** Top-1 hit of one report; a tie at the top counts the relevant share of the tied sentences (random tie-break). */
function hit(report: RankedReport): number {
  let best = -Infinity;
  for (let i = 0; i < report.scores.length; i++) best = Math.max(best, report.scores[i]!);
  let tied = 0;
  let relevant = 0;
  for (let i = 0; i < report.scores.length; i++) {
    if (report.scores[i] !== best) continue;
    tied++;
    if (report.relevant[i]) relevant++;
  }
  return relevant / tied;
}

export function recallAtOne(reports: readonly RankedReport[], options: { level?: number; reps?: number; seed?: number } = {}): RecallAtOne {
  const hits: number[] = [];
  const chance: number[] = [];
  let skipped = 0;
  reports.forEach((r, i) => {
    if (r.scores.length !== r.relevant.length)
      throw new InvalidArgumentError(`report ${i}: ${r.scores.length} scores for ${r.relevant.length} sentences`);
    for (let j = 0; j < r.scores.length; j++)
      if (!Number.isFinite(r.scores[j])) throw new InvalidArgumentError(`report ${i}, sentence ${j}: score ${r.scores[j]} is not finite`);
    let relevant = 0;
    for (let j = 0; j < r.relevant.length; j++) if (r.relevant[j]) relevant++;
    if (relevant === 0 || relevant === r.relevant.length) {
      skipped++;
      return;
    }
    hits.push(hit(r));
    chance.push(relevant / r.relevant.length);
  });
  const n = hits.length;
  const mean = (values: readonly number[], rows: Int32Array): number => {
    let s = 0;
    for (const i of rows) s += values[i]!;
    return rows.length > 0 ? s / rows.length : NaN;
  };
  const settings = { level: options.level ?? 0.95, reps: options.reps ?? 2000, seed: options.seed ?? 0 };
  return {
    reports: n,
    skipped,
    recall: bootstrapCI(n, (rows) => mean(hits, rows), settings),
    baseline: bootstrapCI(n, (rows) => mean(chance, rows), settings),
    difference: bootstrapCI(n, (rows) => mean(hits, rows) - mean(chance, rows), settings),
  };
}
