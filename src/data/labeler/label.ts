/**
 * Rule-based report labeler for the 14 CheXpert observations, in the CheXpert labeler's stages.
 *
 * 1. The text is Unicode-normalised (normalize.ts) and split into sections and sentences.
 *    Sentences of the indication/history, comparison and technique sections are skipped, and so
 *    are sentences that do those sections' job in a report without headers (history.ts): "evaluate
 *    for pneumonia" states the question, not a finding. When the report has a FINDINGS section, the
 *    text before the first header is its title and indication, and is skipped too.
 * 2. Mention extraction (lexicon.ts): the phrases that name each observation.
 * 3. Classification of each mention from the cues that reach it (cues.ts, scope.ts), in CheXpert's
 *    order: history drops the mention; uncertainty worded with a negation ("cannot be excluded")
 *    makes it uncertain; else a negation makes it negative; else a hedge, a question ("...?") or an
 *    alternative ("atelectasis or pneumonia") makes it uncertain; else it is positive.
 * 4. Aggregation per report: positive > uncertain > negative, as CheXpert's and NegBio's
 *    aggregation does, because one firm statement ("small left effusion") outweighs a routine
 *    negative elsewhere ("no effusion on the right"). Heart failure that is positive or uncertain
 *    also makes cardiomegaly uncertain (CheXpert's rule). "No Finding" is 1 when no observation
 *    other than Support Devices, and no other abnormality ("emphysema"), is positive or uncertain,
 *    0 when one is, and null for a report with no labelable text.
 */
import { requireParsedReport, requireText } from '../reports/arguments.js';
import { parseReport, type ParsedReport, type ReportSentence } from '../reports/parse.js';
import { UNHEADED_SECTION } from '../reports/sections.js';
import { splitSentences } from '../reports/sentences.js';
import { isContextSentence, isUnlabeledSection } from './history.js';
import { findCues, findMentions, type Mention } from './matchers.js';
import { normalizeReportText } from './normalize.js';
import { emptyLabels, OBSERVATIONS, type LabelValue, type MentionedObservation, type ReportLabels } from './observations.js';
import { CueScopes } from './scope.js';
import { WordCounter } from './words.js';

export { UNLABELED_SECTIONS } from './history.js';

type SentenceLabels = Partial<Record<MentionedObservation, LabelValue>>;

/** "X or Y": CheXpert reads a disjunction as uncertainty about both sides. Bounded look-arounds, O(1) per mention. */
const OR_BEFORE = /(?:^|[\s,])(?:or|and\/or) (?:[a-z-]+ ){0,2}$/;
const OR_AFTER = /^,? (?:or|and\/or) /;
const OR_LOOKBEHIND_CHARS = 40;
const OR_LOOKAHEAD_CHARS = 10;

function isAlternative(text: string, mention: Mention): boolean {
  return (
    OR_AFTER.test(text.slice(mention.end, mention.end + OR_LOOKAHEAD_CHARS)) ||
    OR_BEFORE.test(text.slice(Math.max(0, mention.start - OR_LOOKBEHIND_CHARS), mention.start))
  );
}

const QUESTION = 63;
const PERIOD = 46;
const EXCLAMATION = 33;
const NEWLINE = 10;
const isDigit = (ch: number): boolean => ch >= 48 && ch <= 57;

/** For each offset, 1 when the next sentence stop at or after it is a '?': the text there is a question. */
function questionMap(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  let inQuestion = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const ch = text.charCodeAt(i);
    if (ch === QUESTION) inQuestion = 1;
    else if (ch === EXCLAMATION || ch === NEWLINE || (ch === PERIOD && !isDigit(text.charCodeAt(i + 1)))) inQuestion = 0;
    out[i] = inQuestion;
  }
  return out;
}

/** A mention that states the patient's history rather than a finding of this study. */
const HISTORY = 'history';

/** One mention's value; HISTORY, or undefined for a bare organ that is not negated: neither counts. */
function mentionValue(
  scopes: CueScopes,
  mention: Mention,
  text: string,
  questions: Uint8Array | undefined,
): LabelValue | typeof HISTORY | undefined {
  const { rule } = mention;
  const pre = scopes.before(mention.anchor);
  const post = scopes.after(mention.start, mention.end);
  if (pre === 'hist' || post === 'hist') return HISTORY;
  let value: LabelValue;
  if (rule.assert) value = rule.assert === 'negative' ? 0 : -1;
  else if (pre === 'uncStrong' || post === 'uncStrong') value = -1;
  else if (pre === 'neg' || post === 'neg' || (rule.negatedOnly && scopes.normalBefore(mention.anchor))) value = 0;
  else if (pre === 'unc' || post === 'unc' || questions?.[mention.end] === 1 || isAlternative(text, mention)) value = -1;
  else value = 1;
  if (rule.hedged && value === 1) value = -1;
  if (rule.negatedOnly && value !== 0) return undefined;
  return value;
}

/** Report-level precedence: positive > uncertain > negative > not mentioned. */
const RANK: Record<string, number> = { null: 0, '0': 1, '-1': 2, '1': 3 };
function stronger(a: LabelValue, b: LabelValue): LabelValue {
  return (RANK[String(b)] as number) > (RANK[String(a)] as number) ? b : a;
}

interface LabeledText {
  labels: SentenceLabels;
  /** An abnormality outside the 13 findings is positive or uncertain. */
  otherFinding: boolean;
  /** Every mention is history: the sentence says nothing about this study ("a stent had been implanted"). */
  historyOnly: boolean;
}

function labelLowerCased(text: string): LabeledText {
  const labels: SentenceLabels = {};
  let otherFinding = false;
  const mentions = findMentions(text);
  if (mentions.length === 0) return { labels, otherFinding, historyOnly: false };
  const scopes = new CueScopes(findCues(text), text, new WordCounter(text));
  const questions = text.includes('?') ? questionMap(text) : undefined;
  let history = 0;
  for (const mention of mentions) {
    const value = mentionValue(scopes, mention, text, questions);
    if (value === HISTORY) history++;
    if (value === undefined || value === HISTORY) continue;
    const present = value === 1 || value === -1;
    if (mention.rule.other && present) otherFinding = true;
    if (mention.rule.chf && present) labels.Cardiomegaly = stronger(labels.Cardiomegaly ?? null, -1);
    for (const observation of mention.rule.observations) {
      labels[observation] = stronger(labels[observation] ?? null, value);
    }
  }
  return { labels, otherFinding, historyOnly: history === mentions.length };
}

/**
 * Labels of one sentence, read as a findings sentence (observations not mentioned are absent; a
 * sentence that states the clinical context has none). A non-string throws InvalidArgumentError.
 */
export function labelSentence(sentence: string): SentenceLabels {
  const text = normalizeReportText(requireText('labelSentence', 'sentence', sentence)).toLowerCase();
  return isContextSentence(text) ? {} : labelLowerCased(text).labels;
}

/** A hand-built ParsedReport's sentences, normalised; one that normalisation gives a sentence end is split again. */
function normalizedSentences(sentences: ReportSentence[]): ReportSentence[] {
  const out: ReportSentence[] = [];
  for (const sentence of sentences) {
    const text = normalizeReportText(sentence.text);
    if (text === sentence.text) out.push(sentence);
    else for (const piece of splitSentences(text)) out.push({ text: piece, section: sentence.section });
  }
  return out;
}

/**
 * Labels a report: raw text, or a ParsedReport (parseReport's result or one built by hand, whose
 * sentences must be { text, section } strings). Anything else throws InvalidArgumentError.
 */
export function labelReport(report: string | ParsedReport): ReportLabels {
  const sentences =
    typeof report === 'string'
      ? parseReport(normalizeReportText(report)).sentences
      : normalizedSentences(requireParsedReport('labelReport', 'report', report).sentences);
  const hasFindingsSection = sentences.some((s) => s.section === 'findings');
  const labels = emptyLabels();
  let labelable = 0;
  let otherFinding = false;
  for (const sentence of sentences) {
    if (isUnlabeledSection(sentence.section)) continue;
    if (hasFindingsSection && sentence.section === UNHEADED_SECTION) continue;
    const text = sentence.text.toLowerCase();
    if (isContextSentence(text)) continue;
    const found = labelLowerCased(text);
    if (found.historyOnly) continue;
    labelable++;
    if (found.otherFinding) otherFinding = true;
    for (const key in found.labels) {
      const observation = key as MentionedObservation;
      labels[observation] = stronger(labels[observation], found.labels[observation] ?? null);
    }
  }
  if (labelable > 0) {
    let anyFinding = otherFinding;
    for (const observation of OBSERVATIONS) {
      if (observation === 'No Finding' || observation === 'Support Devices') continue;
      const value = labels[observation];
      if (value === 1 || value === -1) anyFinding = true;
    }
    labels['No Finding'] = anyFinding ? 0 : 1;
  }
  return labels;
}
