/**
 * Report texts for the labeler surface: real-looking seeds (phantom reports, sentences of the
 * labeler's own vocabulary) and the mutations that break rule-based text code: splices,
 * clauses repeated a thousand times, comma lists of a hundred thousand items, text without
 * spaces, hostile Unicode, endless words and megabyte texts. Every function draws from the
 * caller's Rng, so a case stays reproducible from (seed, index).
 */
import { CUE_RULES } from '../../src/data/labeler/cues.js';
import { generateReport } from '../../src/data/phantom/report.js';
import { hashKeys } from '../../src/random/counter.js';
import { MENTION_RULES } from '../../src/data/labeler/lexicon.js';
import { samplePatient, sampleStudy } from '../../src/data/phantom/truth.js';
import { type Rng } from '../../src/random/index.js';

/** The literal words and phrases inside the lexicon's and the cue list's patterns. */
const VOCABULARY: string[] = (() => {
  const words = new Set<string>();
  for (const rule of [...MENTION_RULES, ...CUE_RULES]) {
    for (const m of rule.pattern.replace(/\\s\+|\[- \]/g, ' ').matchAll(/[a-z][a-z'/ -]*[a-z]/g)) words.add(m[0].trim());
  }
  return [...words];
})();
const FINDING_WORDS = [
  'effusion',
  'pneumothorax',
  'atelectasis',
  'consolidation',
  'nodule',
  'edema',
  'pneumonia',
  'opacity',
  'fracture',
  'cardiomegaly',
  'pacemaker',
  'catheter',
];
const FILLER_WORDS = ['spine', 'clavicle', 'rib', 'diaphragm', 'trachea', 'aorta', 'hilum', 'carina', 'the', 'right', 'left'];
const PUNCTUATION = [', ', ',', '; ', ': ', '. ', '.', '? ', '! ', ' - ', '\n', '\n\n', '(', ') ', '"', "'", '...', ' 1. ', ' 2) '];
const HEADERS = [
  'FINDINGS:',
  'IMPRESSION:',
  'INDICATION:',
  'HISTORY:',
  'COMPARISON:',
  'TECHNIQUE:',
  'WET READ:',
  '1. FINDINGS:',
  'II) Impression',
  'CONSTRUCTOR:',
  'FINDINGS/IMPRESSION:',
  'Clinical history',
  'REASON FOR EXAM:',
];
/** Runs that stress one rule each: regex repetitions, cue scopes, terminators, enumerations, headers. */
const RUN_UNITS = [
  'no ',
  'possible ',
  'with ',
  'to suggest ',
  'the ',
  'right ',
  ' is',
  ' size',
  ' again',
  'other ',
  ', ',
  ',',
  ';',
  '.',
  '!',
  '?.',
  '."',
  '1. ',
  '1.\n',
  'FINDINGS:\n',
  'IMPRESSION: x ',
  'ABC DEF ',
  '\r\n',
  '\t',
  ' ',
  'Dr. ',
  'vs. ',
  'e.g. ',
  'a.',
  'effusion ',
];

/** Code points that break naive text handling. */
const UNICODE_NASTIES = [
  '\u0301',
  '\u0308\u0323',
  '\u200b',
  '\u200c',
  '\u200d',
  '\ufeff',
  '\u2060',
  '\u00ad', // combining marks, zero-width, soft hyphen
  '\uff0c',
  '\u3002',
  '\uff1b',
  '\uff1a',
  '\uff01',
  '\uff1f',
  '\uff0e',
  '\u3000', // fullwidth punctuation and space
  '\u202e',
  '\u202d',
  '\u200f',
  '\u061f',
  '\u05d0\u05d1',
  '\u0627\u0644', // bidi overrides, RTL marks and letters
  '\ud800',
  '\udfff',
  '\udc00\ud800',
  '\ud83d\ude00', // lone and swapped surrogates, an emoji
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u0085',
  '\u2028',
  '\u2029',
  '\u00a0',
  '\u000b',
  '\u000c', // NUL, controls, odd line breaks
  '\u0130',
  '\u1e9e',
  '\ufb03',
  '\u0391',
  '\uff25\uff26\uff26\uff35\uff33\uff29\uff2f\uff2e', // case-mapping that changes length, Greek, fullwidth letters
];

const pickWord = (rng: Rng): string => rng.pick(VOCABULARY);

/** A report the phantom generator writes for a random study (findings, hedges, negative lists). */
export function phantomReport(rng: Rng): string {
  const seed = hashKeys('labeler-fuzz', rng.nextU32());
  const patient = samplePatient(seed, rng.int(10_000));
  return generateReport(sampleStudy(seed, patient, rng.int(Math.max(1, patient.studyCount))), seed).text;
}

/** Sentences made of the labeler's own vocabulary, under headers, with punctuation. */
export function vocabularyReport(rng: Rng): string {
  const parts: string[] = [];
  for (let s = rng.intBetween(1, 12); s > 0; s--) {
    if (rng.chance(0.2)) parts.push(`${rng.pick(HEADERS)} `);
    const words = Array.from({ length: rng.intBetween(1, 20) }, () => (rng.chance(0.15) ? rng.pick(PUNCTUATION) : pickWord(rng)));
    parts.push(`${words.join(' ')}${rng.pick(['. ', '.\n', '; ', ' ', '\n\n'])}`);
  }
  const text = parts.join('');
  return rng.chance(0.3) ? text.toUpperCase() : text;
}

/** A comma-separated list of `items` findings and filler nouns in one clause, after a negation or a hedge. */
export function commaList(rng: Rng, items: number): string {
  const head = rng.pick(['No ', 'There is no ', 'Possible ', 'no,', '', 'No evidence of ']);
  const separator = rng.pick([', ', ',', ' , ', ', and ', '\u200b,']);
  const parts: string[] = [];
  for (let i = 0; i < items; i++) parts.push(rng.chance(0.3) ? rng.pick(FILLER_WORDS) : rng.pick(FINDING_WORDS));
  return `${head}${parts.join(separator)}${rng.pick(['.', '', ' is not seen.', ' cannot be excluded.'])}`;
}

/** One stress unit repeated until the text has about `length` characters, wrapped in a report. */
export function stressRun(rng: Rng, length: number): string {
  const unit = rng.pick(RUN_UNITS);
  return `${rng.pick(['', 'FINDINGS: ', 'The heart', 'No effusion ', 'blunting of '])}${unit.repeat(Math.ceil(length / unit.length))}${rng.pick(['', 'x', ' effusion.', ' enlarged.', ' costophrenic angle is blunted.'])}`;
}

/** `text` repeated (with a separator) until it has about `length` characters. */
export function grow(text: string, length: number, separator = ' '): string {
  const unit = `${text}${separator}`;
  return unit.repeat(Math.max(1, Math.ceil(length / Math.max(1, unit.length))));
}

/** Longest clause repeatClause copies: a thousand copies stay under half a megabyte. */
const MAX_CLAUSE_CHARACTERS = 400;

export type Mutation = (text: string, rng: Rng) => string;

const at = (text: string, rng: Rng): number => rng.int(text.length + 1);

/** Mutations by name; each returns a new text. */
export const MUTATIONS: Record<string, Mutation> = {
  splice: (text, rng) => {
    const i = at(text, rng);
    return `${text.slice(0, i)}${rng.chance(0.5) ? pickWord(rng) : rng.pick(PUNCTUATION)}${text.slice(i)}`;
  },
  deleteRange: (text, rng) => {
    const i = at(text, rng);
    return text.slice(0, i) + text.slice(i + rng.int(50));
  },
  crossover: (text, rng) => {
    const other = vocabularyReport(rng);
    return text.slice(0, at(text, rng)) + other.slice(at(other, rng));
  },
  repeatClause: (text, rng) => {
    // A clause of a text without ASCII punctuation is the whole text: cap it, or chained repeats explode.
    const clause = rng.pick(text.split(/(?<=[,;.])\s*/)).slice(0, MAX_CLAUSE_CHARACTERS);
    return `${text} ${`${clause} `.repeat(rng.pick([10, 100, 1000]))}`;
  },
  noSpaces: (text, rng) => text.replace(/[ \n]/g, rng.pick(['', ',', '\u200b', '\t', '\u00a0', '.', '\u3000'])),
  unicode: (text, rng) => {
    let out = text;
    for (let k = rng.intBetween(1, 20); k > 0; k--) {
      const i = at(out, rng);
      out = `${out.slice(0, i)}${rng.pick(UNICODE_NASTIES)}${out.slice(i)}`;
    }
    return out;
  },
  fullwidth: (text) => text.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)),
  combiningEverywhere: (text, rng) => text.replace(/[a-z]/gi, (ch) => ch + rng.pick(['\u0301', '\u0308', '\u200b', ''])),
  longWord: (text, rng) => {
    const i = at(text, rng);
    return `${text.slice(0, i)}${rng.pick(['a', 'X', '.', 'é', 'no'])}${'x'.repeat(rng.pick([1_000, 10_000, 100_000]))}${text.slice(i)}`;
  },
  caseFlip: (text, rng) => (rng.chance(0.5) ? text.toUpperCase() : text.toLowerCase()),
  lineEndings: (text, rng) => text.replace(/\n/g, rng.pick(['\r\n', '\r', '\n\n\n', '\u2028', ' \n '])),
  truncate: (text, rng) => text.slice(0, at(text, rng)),
};
