/**
 * Finds the lexicon's mentions and the cues (plus scope-ending punctuation) in one
 * lower-cased sentence, in text order.
 *
 * Each rule list is compiled into one alternation with a capturing group per rule, so a
 * single left-to-right pass finds every match and the group number says which rule fired.
 */
import { CUE_RULES, type CueKind } from './cues.js';
import { MENTION_RULES, type MentionRule } from './lexicon.js';

export type CueOrPunct = CueKind | 'comma';

export interface Mention {
  rule: MentionRule;
  start: number;
  end: number;
  anchor: number;
}

/** Cues in text order as parallel arrays: a long list sentence holds millions of them. */
export interface CueList {
  kinds: CueOrPunct[];
  starts: number[];
  ends: number[];
}

function compileAlternation(patterns: string[], what: string): RegExp {
  const groups = patterns.map((p) => {
    const extraGroups = (new RegExp(`${p}|`).exec('') as RegExpExecArray).length - 1;
    if (extraGroups !== 0) throw new Error(`${what} pattern has capturing groups (use (?:...)): ${p}`);
    return `(${p})`;
  });
  // Word boundaries on both sides, written as look-arounds so rules may start or end with punctuation.
  return new RegExp(`(?<![a-z0-9])(?:${groups.join('|')})(?![a-z0-9])`, 'g');
}

const MENTION_REGEX = compileAlternation(
  MENTION_RULES.map((rule) => rule.pattern),
  'mention',
);
const CUE_REGEX = compileAlternation(
  CUE_RULES.map((rule) => rule.pattern),
  'cue',
);

/** Which alternative of a combined regex matched. */
function matchedGroup(m: RegExpExecArray): number {
  for (let g = 1; g < m.length; g++) if (m[g] !== undefined) return g - 1;
  return -1;
}

export function findMentions(text: string): Mention[] {
  const mentions: Mention[] = [];
  MENTION_REGEX.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = MENTION_REGEX.exec(text)) !== null) {
    const rule = MENTION_RULES[matchedGroup(m)] as MentionRule;
    const start = m.index;
    const end = start + m[0].length;
    const anchor = rule.anchor === 'last' ? text.lastIndexOf(' ', end - 1) + 1 : start;
    if (rule.observations.length > 0 || rule.other) mentions.push({ rule, start, end, anchor: Math.max(anchor, start) });
  }
  return mentions;
}

const COMMA = 44;
const SEMICOLON = 59;
const COLON = 58;

function pushPunctuation(text: string, from: number, to: number, cues: CueList): void {
  for (let i = from; i < to; i++) {
    const ch = text.charCodeAt(i);
    const kind: CueOrPunct | undefined = ch === COMMA ? 'comma' : ch === SEMICOLON || ch === COLON ? 'terminator' : undefined;
    if (kind === undefined) continue;
    cues.kinds.push(kind);
    cues.starts.push(i);
    cues.ends.push(i + 1);
  }
}

/**
 * Word cues and punctuation, sorted by start. No cue pattern can match ',', ';' or ':', and
 * the regex's matches never overlap, so the cues are disjoint and also sorted by end: the
 * punctuation is merged in between the regex matches in one linear pass.
 */
export function findCues(text: string): CueList {
  const cues: CueList = { kinds: [], starts: [], ends: [] };
  CUE_REGEX.lastIndex = 0;
  let scanned = 0;
  let m: RegExpExecArray | null;
  while ((m = CUE_REGEX.exec(text)) !== null) {
    const rule = CUE_RULES[matchedGroup(m)];
    if (!rule) continue;
    const end = m.index + m[0].length;
    pushPunctuation(text, scanned, m.index, cues);
    cues.kinds.push(rule.kind);
    cues.starts.push(m.index);
    cues.ends.push(end);
    scanned = end;
  }
  pushPunctuation(text, scanned, text.length, cues);
  return cues;
}
