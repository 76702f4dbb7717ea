/**
 * Random sentence sampling for image–report contrastive training: at each step the
 * text paired with an image is a random subset of its report's sentences, in their
 * original order. The draw is a pure function of (seed, epoch, index), so any worker
 * can reproduce any step without shared generator state.
 */
import { InvalidArgumentError } from '../../errors.js';
import { Rng } from '../../random/index.js';
import { parseReport, type ParsedReport } from '../reports/parse.js';

export interface SampleSentencesOptions {
  /** Sections to draw from (canonical names, case-insensitive). Default findings + impression. */
  sections?: string[];
  /** Fewest sentences to keep (default 1). */
  min?: number;
  /** Most sentences to keep (default: all of them). */
  max?: number;
  seed: number;
  epoch: number;
  /** The sample's index in the dataset. */
  index: number;
}

export const DEFAULT_SAMPLE_SECTIONS = ['findings', 'impression'];

/** The sentences eligible for sampling: the chosen sections, or the whole report when those are empty. */
export function candidateSentences(report: string | ParsedReport, sections: string[] = DEFAULT_SAMPLE_SECTIONS): string[] {
  const parsed = typeof report === 'string' ? parseReport(report) : report;
  const wanted = new Set(sections.map((s) => s.toLowerCase()));
  const chosen = parsed.sentences.filter((s) => wanted.has(s.section)).map((s) => s.text);
  return chosen.length > 0 ? chosen : parsed.sentences.map((s) => s.text);
}

export function sampleSentences(report: string | ParsedReport, options: SampleSentencesOptions): string {
  const { seed, epoch, index } = options;
  for (const [name, value] of Object.entries({ seed, epoch, index })) {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`sampleSentences: ${name} must be a finite number, got ${value}`);
  }
  const min = options.min ?? 1;
  if (!Number.isInteger(min) || min < 0) throw new InvalidArgumentError(`sampleSentences: min must be a non-negative integer, got ${min}`);
  if (options.max !== undefined && (!Number.isInteger(options.max) || options.max < min)) {
    throw new InvalidArgumentError(`sampleSentences: max must be an integer >= min (${min}), got ${options.max}`);
  }
  const sentences = candidateSentences(report, options.sections);
  const n = sentences.length;
  if (n === 0) return '';
  const lo = Math.min(Math.max(min, 1), n);
  const hi = Math.max(lo, Math.min(options.max ?? n, n));
  const rng = new Rng(seed, 'sentences', epoch, index);
  const count = rng.intBetween(lo, hi);
  // Partial Fisher–Yates over indices, then restore report order.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => sentences[i])
    .join(' ');
}
