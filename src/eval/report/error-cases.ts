/**
 * The test cases a reader should look at first: per label, the most confident false positives
 * (negatives scored highest) and false negatives (positives scored lowest). With a threshold
 * only cases on the wrong side of it count; without one (no validation split) the extremes of
 * each class are shown. Uncertain (-1) and missing (NaN) truths are never errors. Ties keep the
 * lower row first so the selection is deterministic.
 */
import { InvalidArgumentError } from '../../errors.js';

export interface ErrorCases {
  /** Row positions (into the score and truth arrays), most confident first. */
  falsePositives: number[];
  falseNegatives: number[];
}

export function mostConfidentErrors(
  scores: ArrayLike<number>,
  truth: ArrayLike<number>,
  threshold: number | null | undefined,
  count: number,
): ErrorCases {
  if (scores.length !== truth.length)
    throw new InvalidArgumentError(`mostConfidentErrors: ${scores.length} scores for ${truth.length} truths; expected equal lengths`);
  if (!Number.isSafeInteger(count) || count < 0) throw new InvalidArgumentError(`mostConfidentErrors: count must be >= 0, got ${count}`);
  const t = typeof threshold === 'number' && Number.isFinite(threshold) ? threshold : undefined;
  const negatives: number[] = [];
  const positives: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) continue;
    if (truth[i] === 0 && (t === undefined || s >= t)) negatives.push(i);
    else if (truth[i] === 1 && (t === undefined || s < t)) positives.push(i);
  }
  negatives.sort((a, b) => scores[b]! - scores[a]! || a - b);
  positives.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return { falsePositives: negatives.slice(0, count), falseNegatives: positives.slice(0, count) };
}
