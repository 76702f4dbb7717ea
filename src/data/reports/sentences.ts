/**
 * Sentence splitter for radiology prose.
 *
 * Reports are line-wrapped at arbitrary columns, enumerate impressions ("1. ... 2. ..."),
 * and are full of abbreviations and measurements, so a naive split on ". " cuts
 * "Dr. Smith", "approx. 2.5 cm" and "e.g. the". The rules, in order:
 *  - blank lines and list markers at line start always begin a new sentence;
 *    other line breaks are just spaces (wrapped text);
 *  - inline enumerators ("... effusion 2. Cardiomegaly") split only when they
 *    continue a numbered list that began with 1 in the same block;
 *  - a period, '!' or '?' followed by space ends a sentence unless the word before
 *    it is a known abbreviation or a single initial, or the next word starts lower case.
 * Decimals ("2.5") never split because no space follows the period.
 */
import { requireText } from './arguments.js';
import { TerminatorScanner } from './terminators.js';

const ABBREVIATIONS = new Set([
  'dr',
  'drs',
  'mr',
  'mrs',
  'ms',
  'prof',
  'vs',
  'approx',
  'appr',
  'e.g',
  'i.e',
  'eg',
  'ie',
  'etc',
  'cf',
  'al',
  'st',
  'no',
  'nos',
  'fig',
  'figs',
  'ref',
  'incl',
  'resp',
  'esp',
  'pt',
  'pts',
  'hx',
  'dx',
  'sx',
  'tx',
  'min',
  'max',
  'avg',
  'approx',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'a.m',
  'p.m',
  'u.s',
  'r/o',
]);
// Abbreviations that commonly end a sentence as well: only treated as such when the next word is lower case.
const AMBIGUOUS_AT_END = new Set(['etc', 'no', 'min', 'max', 'dec', 'mar', 'jun']);

const LIST_MARKER_AT_START = /^\s*(?:(\d{1,2})[.)]|[-*•]|\(\d{1,2}\))\s+/;
const INLINE_ENUMERATOR = /(^|\s)(\d{1,2})[.)]\s+(?=[A-Z(])/g;

/** Joins wrapped lines into blocks; a block ends at a blank line or a line that starts a list item. */
function toBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current = '';
  for (const rawLine of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = rawLine.trim();
    if (line === '') {
      if (current) blocks.push(current);
      current = '';
      continue;
    }
    if (LIST_MARKER_AT_START.test(line) && current) {
      blocks.push(current);
      current = line;
      continue;
    }
    current = current ? `${current} ${line}` : line;
  }
  if (current) blocks.push(current);
  return blocks;
}

/** Splits a block before inline enumerators that continue a list (1., then 2., 3., ...). */
function splitEnumeration(block: string): string[] {
  const parts: string[] = [];
  let expected = 1;
  let lastCut = 0;
  for (const m of block.matchAll(INLINE_ENUMERATOR)) {
    const n = Number(m[2]);
    const markerStart = m.index + (m[1] as string).length;
    if (n === expected || (expected === 1 && markerStart === 0)) {
      if (markerStart > lastCut) parts.push(block.slice(lastCut, markerStart));
      lastCut = markerStart + m[0].length - (m[1] as string).length;
      expected = n + 1;
    }
  }
  parts.push(block.slice(lastCut));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const isAbbreviationChar = (ch: number): boolean =>
  (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 46 /* . */ || ch === 47; /* / */

/** The word (letters, dots, slashes) that ends at `end`, lower-cased, without leading dots. */
function wordBefore(text: string, end: number): string {
  let start = end;
  while (start > 0 && isAbbreviationChar(text.charCodeAt(start - 1))) start--;
  return text.slice(start, end).toLowerCase().replace(/^\.+/, '');
}

const isUpper = (ch: number): boolean => ch >= 65 && ch <= 90;
const isLower = (ch: number): boolean => ch >= 97 && ch <= 122;
const WHITESPACE = /\s/;

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && WHITESPACE.test(text[i] as string)) i++;
  return i;
}

/** True when block[contentStart, end) is a list number such as "2." or "3)". */
function isListNumber(block: string, contentStart: number, end: number): boolean {
  return end - contentStart <= 3 && /^\d{1,2}[.)]$/.test(block.slice(contentStart, end));
}

/** Splits one enumeration-free block at sentence terminators. */
function splitTerminators(block: string): string[] {
  const out: string[] = [];
  let start = 0;
  // Where the text after `start` begins; found once per cut, so a run of whitespace is read once.
  let contentStart = skipWhitespace(block, 0);
  // In all-lower-case text, a lower-case next word says nothing about sentence boundaries.
  const caseIsInformative = /[A-Z]/.test(block);
  for (const t = new TerminatorScanner(block); t.advance();) {
    if (isListNumber(block, contentStart, t.end)) continue; // a list number, not a sentence
    if (t.next < block.length) {
      const nextIsLower = caseIsInformative && isLower(block.charCodeAt(t.next));
      if (t.end - t.start === 1 && block.charCodeAt(t.start) === 46 /* . */) {
        const word = wordBefore(block, t.start);
        if (ABBREVIATIONS.has(word) && (!AMBIGUOUS_AT_END.has(word) || nextIsLower)) continue;
        if (word.length === 1 && isLower(word.charCodeAt(0)) && isUpper(block.charCodeAt(t.start - 1))) continue; // initials: "J. Smith"
      }
      if (nextIsLower) continue; // "approx. two", "e.g. the": a new sentence would start upper case
    }
    const piece = block.slice(start, t.end).trim();
    if (piece) out.push(piece);
    start = t.end;
    contentStart = skipWhitespace(block, start);
  }
  const tail = block.slice(start).trim();
  if (tail) out.push(tail);
  return out;
}

/** Strips a leading list marker ("1.", "-", "(2)") from a sentence. */
function stripMarker(sentence: string): string {
  return sentence.replace(LIST_MARKER_AT_START, '').trim();
}

/**
 * Splits free text into sentences; list markers are removed, original wording is otherwise kept.
 * Linear in the text's length; a non-string throws InvalidArgumentError.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const block of toBlocks(requireText('splitSentences', 'text', text))) {
    for (const item of splitEnumeration(block)) {
      for (const sentence of splitTerminators(stripMarker(item))) {
        const clean = stripMarker(sentence);
        if (/[A-Za-z0-9]/.test(clean)) sentences.push(clean);
      }
    }
  }
  return sentences;
}
