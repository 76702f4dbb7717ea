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
import { requireParsedReport, requireText } from '../reports/arguments.js';
import { parseReport, type ParsedReport } from '../reports/parse.js';
import { findCues, findMentions, type Mention } from './matchers.js';
import { emptyLabels, OBSERVATIONS, type LabelValue, type MentionedObservation, type ReportLabels } from './observations.js';
import { CueScopes } from './scope.js';
import { WordCounter } from './words.js';

/** Sections whose sentences are not findings. */
export const UNLABELED_SECTIONS: ReadonlySet<string> = new Set(['indication', 'comparison', 'technique']);

/** One observation's value in one mention, or undefined when the mention does not count. */
function mentionValue(scopes: CueScopes, mention: Mention): LabelValue | undefined {
  const { rule } = mention;
  if (rule.assert) return rule.assert === 'negative' ? 0 : -1;
  const pre = scopes.before(mention.anchor);
  const post = scopes.after(mention.end);
  const value: LabelValue = pre === 'unc' || post === 'unc' ? -1 : pre === 'neg' || post === 'neg' ? 0 : 1;
  if (rule.negatedOnly && value !== 0) return undefined;
  return value;
}

/** Report-level precedence: positive > uncertain > negative > not mentioned. */
const RANK: Record<string, number> = { null: 0, '0': 1, '-1': 2, '1': 3 };
function stronger(a: LabelValue, b: LabelValue): LabelValue {
  return (RANK[String(b)] as number) > (RANK[String(a)] as number) ? b : a;
}

/** Labels of one sentence (observations not mentioned are absent). A non-string throws InvalidArgumentError. */
export function labelSentence(sentence: string): Partial<Record<MentionedObservation, LabelValue>> {
  return labelLowerCased(requireText('labelSentence', 'sentence', sentence).toLowerCase());
}

function labelLowerCased(text: string): Partial<Record<MentionedObservation, LabelValue>> {
  const out: Partial<Record<MentionedObservation, LabelValue>> = {};
  const mentions = findMentions(text);
  if (mentions.length === 0) return out;
  const scopes = new CueScopes(findCues(text), new WordCounter(text));
  for (const mention of mentions) {
    const value = mentionValue(scopes, mention);
    if (value === undefined) continue;
    for (const observation of mention.rule.observations) {
      out[observation] = stronger(out[observation] ?? null, value);
    }
  }
  return out;
}

/**
 * Labels a report: raw text, or a ParsedReport (parseReport's result or one built by hand, whose
 * sentences must be { text, section } strings). Anything else throws InvalidArgumentError.
 */
export function labelReport(report: string | ParsedReport): ReportLabels {
  const parsed = typeof report === 'string' ? parseReport(report) : requireParsedReport('labelReport', 'report', report);
  const labels = emptyLabels();
  let labelable = 0;
  for (const sentence of parsed.sentences) {
    if (UNLABELED_SECTIONS.has(sentence.section)) continue;
    labelable++;
    const found = labelLowerCased(sentence.text.toLowerCase());
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
