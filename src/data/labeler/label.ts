/**
 * Rule-based report labeler for the 14 CheXpert observations.
 *
 * Per sentence: find mentions (lexicon.ts), then classify each as positive, negative
 * or uncertain from the nearest cue before it and the nearest cue after it in its
 * clause (cues.ts). Per report: positive > uncertain > negative, as CheXpert's and
 * NegBio's aggregation does, because one firm statement ("small left effusion")
 * outweighs a routine negative elsewhere ("no effusion on the right").
 * "No Finding" is 1 when no observation other than Support Devices is positive or
 * uncertain, 0 when one is, and null for a report with no labelable text.
 *
 * Sentences of the indication/history, comparison and technique sections are skipped:
 * "evaluate for pneumonia" states the question, not a finding.
 */
import { parseReport, type ParsedReport } from '../reports/parse.js';
import { CUE_RULES, type CueKind } from './cues.js';
import { MENTION_RULES, type MentionRule } from './lexicon.js';
import { emptyLabels, OBSERVATIONS, type LabelValue, type MentionedObservation, type ReportLabels } from './observations.js';

/** Sections whose sentences are not findings. */
export const UNLABELED_SECTIONS: ReadonlySet<string> = new Set(['indication', 'comparison', 'technique']);

/** How far (in words) a hedge before a mention reaches: "possible small left lower lobe opacity". */
const UNCERTAINTY_WINDOW_WORDS = 6;
/** How far a negation before a mention reaches: long enough for "no A, B, C, D, or E". */
const NEGATION_WINDOW_WORDS = 16;
/** How far a post-cue reaches back: "effusion on the left is no longer seen". */
const POST_WINDOW_WORDS = 6;

function compileAlternation(patterns: string[], what: string): RegExp {
  const groups = patterns.map((p) => {
    const extraGroups = (new RegExp(`${p}|`).exec('') as RegExpExecArray).length - 1;
    if (extraGroups !== 0) throw new Error(`${what} pattern has capturing groups (use (?:...)): ${p}`);
    return `(${p})`;
  });
  // Word boundaries on both sides, written as look-arounds so rules may start or end with punctuation.
  return new RegExp(`(?<![a-z0-9])(?:${groups.join('|')})(?![a-z0-9])`, 'g');
}

const MENTION_REGEX = compileAlternation(MENTION_RULES.map((rule) => rule.pattern), 'mention');
const CUE_REGEX = compileAlternation(CUE_RULES.map((rule) => rule.pattern), 'cue');

type CueOrPunct = CueKind | 'comma';

interface Cue { kind: CueOrPunct; start: number; end: number }
interface Mention { rule: MentionRule; start: number; end: number; anchor: number }

/** Which alternative of a combined regex matched. */
function matchedGroup(m: RegExpExecArray): number {
  for (let g = 1; g < m.length; g++) if (m[g] !== undefined) return g - 1;
  return -1;
}

function findMentions(text: string): Mention[] {
  const mentions: Mention[] = [];
  MENTION_REGEX.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = MENTION_REGEX.exec(text)) !== null) {
    const rule = MENTION_RULES[matchedGroup(m)] as MentionRule;
    const start = m.index;
    const end = start + m[0].length;
    const anchor = rule.anchor === 'last' ? text.lastIndexOf(' ', end - 1) + 1 : start;
    if (rule.observations.length > 0) mentions.push({ rule, start, end, anchor: Math.max(anchor, start) });
  }
  return mentions;
}

function findCues(text: string): Cue[] {
  const cues: Cue[] = [];
  CUE_REGEX.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = CUE_REGEX.exec(text)) !== null) {
    const rule = CUE_RULES[matchedGroup(m)];
    if (rule) cues.push({ kind: rule.kind, start: m.index, end: m.index + m[0].length });
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 59 /* ; */ || ch === 58 /* : */) cues.push({ kind: 'terminator', start: i, end: i + 1 });
    else if (ch === 44 /* , */) cues.push({ kind: 'comma', start: i, end: i + 1 });
  }
  cues.sort((a, b) => a.start - b.start);
  return cues;
}

function wordsBetween(text: string, from: number, to: number): number {
  let words = 0;
  let inWord = false;
  for (let i = from; i < to; i++) {
    const isSpace = text.charCodeAt(i) === 32;
    if (!isSpace && !inWord) words++;
    inWord = !isSpace;
  }
  return words;
}

/** Index of the first cue starting at or after `position` (cues are sorted by start). */
function firstCueFrom(cues: Cue[], position: number): number {
  let lo = 0;
  let hi = cues.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cues[mid] as Cue).start < position) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The nearest cue before the mention that reaches it: 'neg', 'unc' or null. */
function preCueStatus(text: string, cues: Cue[], anchor: number): 'neg' | 'unc' | null {
  let sawComma = false;
  let sawUncTerminator = false;
  let sawContinuation = false;
  for (let i = firstCueFrom(cues, anchor) - 1; i >= 0; i--) {
    const cue = cues[i] as Cue;
    if (cue.end > anchor) continue;
    switch (cue.kind) {
      case 'terminator':
        return sawContinuation ? 'unc' : null;
      case 'pseudo':
        return null;
      case 'continuation':
        sawContinuation = true;
        break;
      case 'comma':
        sawComma = true;
        break;
      case 'uncTerminator':
        sawUncTerminator = true;
        break;
      case 'preNeg':
      case 'bothNeg':
        if (wordsBetween(text, cue.end, anchor) <= NEGATION_WINDOW_WORDS) return 'neg';
        return sawContinuation ? 'unc' : null;
      case 'preUnc':
      case 'bothUnc':
        if (!sawComma && !sawUncTerminator && wordsBetween(text, cue.end, anchor) <= UNCERTAINTY_WINDOW_WORDS) return 'unc';
        break; // out of reach: an earlier negation may still apply
      default:
        break; // post-cues belong to earlier mentions
    }
  }
  return sawContinuation ? 'unc' : null;
}

/** The nearest cue after the mention that reaches back to it: 'neg', 'unc' or null. */
function postCueStatus(text: string, cues: Cue[], end: number): 'neg' | 'unc' | null {
  for (let i = firstCueFrom(cues, end); i < cues.length; i++) {
    const cue = cues[i] as Cue;
    switch (cue.kind) {
      case 'terminator':
      case 'assertion':
      case 'comma':
      case 'pseudo':
      case 'preNeg':
      case 'preUnc':
        return null; // a new clause, a positive claim, or a cue that looks forward
      case 'postNeg':
      case 'bothNeg':
        return wordsBetween(text, end, cue.start) <= POST_WINDOW_WORDS ? 'neg' : null;
      case 'postUnc':
      case 'bothUnc':
        return wordsBetween(text, end, cue.start) <= POST_WINDOW_WORDS ? 'unc' : null;
      default:
        break;
    }
  }
  return null;
}

/** One observation's value in one mention, or undefined when the mention does not count. */
function mentionValue(text: string, cues: Cue[], mention: Mention): LabelValue | undefined {
  const { rule } = mention;
  if (rule.assert) return rule.assert === 'negative' ? 0 : -1;
  const pre = preCueStatus(text, cues, mention.anchor);
  const post = postCueStatus(text, cues, mention.end);
  const value: LabelValue = pre === 'unc' || post === 'unc' ? -1 : pre === 'neg' || post === 'neg' ? 0 : 1;
  if (rule.negatedOnly && value !== 0) return undefined;
  return value;
}

/** Report-level precedence: positive > uncertain > negative > not mentioned. */
const RANK: Record<string, number> = { null: 0, '0': 1, '-1': 2, '1': 3 };
function stronger(a: LabelValue, b: LabelValue): LabelValue {
  return (RANK[String(b)] as number) > (RANK[String(a)] as number) ? b : a;
}

/** Labels of one sentence (observations not mentioned are absent). */
export function labelSentence(sentence: string): Partial<Record<MentionedObservation, LabelValue>> {
  const text = sentence.toLowerCase();
  const out: Partial<Record<MentionedObservation, LabelValue>> = {};
  const mentions = findMentions(text);
  if (mentions.length === 0) return out;
  const cues = findCues(text);
  for (const mention of mentions) {
    const value = mentionValue(text, cues, mention);
    if (value === undefined) continue;
    for (const observation of mention.rule.observations) {
      out[observation] = stronger(out[observation] ?? null, value);
    }
  }
  return out;
}

/** Labels a report (raw text or the result of parseReport). */
export function labelReport(report: string | ParsedReport): ReportLabels {
  const parsed = typeof report === 'string' ? parseReport(report) : report;
  const labels = emptyLabels();
  let labelable = 0;
  for (const sentence of parsed.sentences) {
    if (UNLABELED_SECTIONS.has(sentence.section)) continue;
    labelable++;
    const found = labelSentence(sentence.text);
    for (const key in found) {
      const observation = key as MentionedObservation;
      labels[observation] = stronger(labels[observation], found[observation] ?? null);
    }
  }
  if (labelable > 0) {
    let anyFinding = false;
    for (const observation of OBSERVATIONS) {
      if (observation === 'No Finding' || observation === 'Support Devices') continue;
      const value = labels[observation];
      if (value === 1 || value === -1) anyFinding = true;
    }
    labels['No Finding'] = anyFinding ? 0 : 1;
  }
  return labels;
}
