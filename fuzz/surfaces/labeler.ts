/**
 * Hostile text for the report pipeline through the public API: labelReport, labelSentence,
 * parseReport, splitSentences and splitSections get real-looking reports, mutated reports
 * (report-texts.ts), stress runs, comma lists of up to 200k items, megabyte texts, values
 * that are not strings, and ParsedReport objects that are malformed.
 *
 * Besides crashes and untyped errors, a case fails when the output is malformed (a label
 * outside 1/0/-1/null, a sentence that is not a string) or when the call is slow for its
 * size: the pipeline is linear, so CPU time beyond a per-character budget means a superlinear
 * path, reported as a hang.
 */
import { labelReport, labelSentence, OBSERVATIONS, parseReport, type ParsedReport } from '../../src/index.js';
import { Rng } from '../../src/random/index.js';
import { splitSections } from '../../src/data/reports/sections.js';
import { splitSentences } from '../../src/data/reports/sentences.js';
import type { FuzzCase, FuzzSurface } from '../surface.js';
import { commaList, grow, MUTATIONS, phantomReport, stressRun, vocabularyReport } from '../labeler/report-texts.js';

const TEXT_FUNCTIONS = { labelReport, labelSentence, parseReport, splitSentences, splitSections } as const;
type TextFunction = keyof typeof TEXT_FUNCTIONS;
const FUNCTION_NAMES = Object.keys(TEXT_FUNCTIONS) as TextFunction[];

interface LabelerCase extends FuzzCase {
  fn: TextFunction;
  input: unknown;
  /** Characters of text in the input: what its CPU budget scales with. */
  characters: number;
}

/** The watchdog's limit: well above the slowest legitimate case (3 MB, about 1.5 s), far below a quadratic one. */
const TIMEOUT_MS = 6_000;
/** CPU a case may use: a fixed allowance (GC, first-call compilation) plus a linear cost per character. */
const BASE_BUDGET_MS = 250;
const BUDGET_US_PER_CHARACTER = 1.5;

const KINDS = ['report', 'mutated', 'run', 'commaList', 'huge', 'notText', 'parsed'] as const;
const KIND_WEIGHTS = [30, 32, 4, 1, 0.3, 15, 8];

function seedText(rng: Rng): [string, string] {
  return rng.chance(0.5) ? ['phantom report', phantomReport(rng)] : ['vocabulary report', vocabularyReport(rng)];
}

function mutated(rng: Rng): [string, string] {
  let [what, text] = seedText(rng);
  const names = Object.keys(MUTATIONS);
  for (let k = rng.intBetween(1, 4); k > 0; k--) {
    const name = rng.pick(names);
    text = (MUTATIONS[name] as (t: string, r: Rng) => string)(text, rng);
    what += `+${name}`;
  }
  return [what, text];
}

/** Values that are not strings, some of them close to one (a Buffer of text, a String object). */
function notText(rng: Rng): [string, unknown] {
  const text = phantomReport(rng);
  const values: Array<[string, () => unknown]> = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['0', () => 0],
    ['NaN', () => Number.NaN],
    ['-Infinity', () => -Infinity],
    ['1e308', () => 1e308],
    ['true', () => true],
    ['bigint', () => 10n ** 30n],
    ['symbol', () => Symbol('report')],
    ['{}', () => ({})],
    ['[]', () => []],
    ['[text]', () => [text]],
    ['[null]', () => [null]],
    ['Buffer', () => Buffer.from(text)],
    ['Uint8Array', () => new Uint8Array(rng.int(1000))],
    ['String object', () => new String(text)],
    ['Date', () => new Date(0)],
    ['function', () => () => text],
    ['Map', () => new Map([['text', text]])],
    ['null-prototype object', () => Object.create(null)],
    ['object with toString', () => ({ toString: () => text })],
    ['{ text }', () => ({ text })],
  ];
  const [what, make] = rng.pick(values);
  return [what, make()];
}

/** A ParsedReport, valid or broken in one of the ways a hand-built one is. */
function parsed(rng: Rng): [string, unknown] {
  const base = parseReport(seedText(rng)[1]) as ParsedReport & Record<string, unknown>;
  const sentences = base.sentences as unknown[];
  const corrupt = rng.pick([
    'valid',
    'valid with odd sections',
    'no sentences',
    'sentences not an array',
    'null sentence',
    'primitive sentence',
    'text not a string',
    'section missing',
    'sparse array',
    'long list with one bad sentence',
  ] as const);
  const victim = rng.int(Math.max(1, sentences.length));
  switch (corrupt) {
    case 'valid':
      break;
    case 'valid with odd sections':
      for (const s of base.sentences) s.section = rng.pick(['__proto__', 'constructor', 'indication', '', 'FINDINGS', 'wet_read']);
      break;
    case 'no sentences':
      delete (base as Partial<ParsedReport>).sentences;
      break;
    case 'sentences not an array':
      base.sentences = rng.pick([null, 'No effusion.', 7, {}, new Map()]) as never;
      break;
    case 'null sentence':
      sentences[victim] = rng.pick([null, undefined]);
      break;
    case 'primitive sentence':
      sentences[victim] = rng.pick(['No effusion.', 3, true, ['No effusion.', 'findings']]);
      break;
    case 'text not a string':
      sentences[victim] = { text: rng.pick([null, 5, Buffer.from('No effusion.'), ['x']]), section: 'findings' };
      break;
    case 'section missing':
      sentences[victim] = { text: 'No effusion.', section: rng.pick([undefined, null, 0]) };
      break;
    case 'sparse array':
      base.sentences = new Array(rng.intBetween(1, 100));
      break;
    case 'long list with one bad sentence':
      base.sentences = Array.from({ length: 50_000 }, (_, i) => ({
        text: i % 2 ? 'No effusion.' : 'Small pneumothorax.',
        section: 'findings',
      }));
      (base.sentences as unknown[]).push({ text: 42, section: 'findings' });
      break;
  }
  return [`ParsedReport (${corrupt})`, base];
}

function textCharacters(input: unknown): number {
  if (typeof input === 'string') return input.length;
  const sentences = (input as { sentences?: unknown } | null)?.sentences;
  if (!Array.isArray(sentences)) return 0;
  let n = 0;
  for (const s of sentences) n += typeof (s as { text?: unknown } | null)?.text === 'string' ? (s as { text: string }).text.length : 0;
  return n;
}

function makeCase(seed: number, index: number): LabelerCase {
  const rng = new Rng(seed, 'labeler', index);
  const kind = rng.weighted(KINDS, KIND_WEIGHTS);
  let fn: TextFunction = rng.chance(0.5) ? 'labelReport' : rng.pick(FUNCTION_NAMES);
  let what: string;
  let input: unknown;
  switch (kind) {
    case 'report':
      [what, input] = seedText(rng);
      break;
    case 'mutated':
      [what, input] = mutated(rng);
      break;
    case 'run': {
      const n = rng.pick([1_000, 10_000, 100_000]);
      [what, input] = [`run of ${n}`, stressRun(rng, n)];
      break;
    }
    case 'commaList': {
      const n = rng.intBetween(10_000, 200_000);
      [what, input] = [`comma list of ${n}`, commaList(rng, n)];
      break;
    }
    case 'huge': {
      const n = rng.intBetween(1_000_000, 3_000_000);
      const [seedWhat, text] = rng.chance(0.5) ? seedText(rng) : ['run', stressRun(rng, 1000)];
      [what, input] = [`${seedWhat} grown to ${n}`, grow(text, n, rng.pick([' ', '\n', '', ', ']))];
      break;
    }
    case 'notText':
      [what, input] = notText(rng);
      break;
    case 'parsed':
      [what, input] = parsed(rng);
      fn = 'labelReport';
      break;
  }
  const characters = textCharacters(input);
  return { label: `${fn}(${what}, ${characters} chars)`, fn, input, characters };
}

const LABEL_VALUES = new Set<unknown>([1, 0, -1, null]);

/** Throws (an untyped error, so a failure) when a call returned something malformed. */
function checkOutput(fn: TextFunction, output: unknown): void {
  const fail = (what: string): never => {
    throw new Error(`${fn} returned ${what}`);
  };
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  switch (fn) {
    case 'labelReport':
      if (!isRecord(output) || Object.keys(output).join() !== OBSERVATIONS.join()) return fail('labels that are not the 14 observations');
      for (const o of OBSERVATIONS) if (!LABEL_VALUES.has(output[o])) fail(`${String(output[o])} for ${o}`);
      return;
    case 'labelSentence':
      if (!isRecord(output)) return fail('a non-object');
      for (const [o, v] of Object.entries(output)) {
        if (o === 'No Finding' || !(OBSERVATIONS as readonly string[]).includes(o) || v === null || !LABEL_VALUES.has(v))
          fail(`${String(v)} for ${o}`);
      }
      return;
    case 'splitSentences':
      if (!Array.isArray(output) || output.some((s) => typeof s !== 'string' || s === ''))
        fail('a sentence that is not a non-empty string');
      return;
    case 'splitSections':
      if (!isRecord(output) || Object.values(output).some((s) => typeof s !== 'string')) fail('a section that is not a string');
      return;
    case 'parseReport': {
      const report = output as ParsedReport;
      if (!isRecord(report) || !isRecord(report.sections) || !Array.isArray(report.sentences)) return fail('a malformed ParsedReport');
      if (report.sentences.some((s) => typeof s.text !== 'string' || s.text === '' || typeof s.section !== 'string'))
        fail('a malformed sentence');
    }
  }
}

export const surface: FuzzSurface<LabelerCase> = {
  name: 'labeler',
  timeoutMs: TIMEOUT_MS,
  makeCase,
  async run(testCase) {
    const start = process.cpuUsage();
    const output = (TEXT_FUNCTIONS[testCase.fn] as (input: unknown) => unknown)(testCase.input);
    const used = process.cpuUsage(start);
    checkOutput(testCase.fn, output);
    const cpuMs = (used.user + used.system) / 1000;
    const budgetMs = BASE_BUDGET_MS + (BUDGET_US_PER_CHARACTER * testCase.characters) / 1000;
    if (cpuMs > budgetMs) {
      // Slow for its size: a superlinear path. Never settle, so the runner's watchdog reports a hang.
      process.stderr.write(`labeler: ${cpuMs.toFixed(0)} ms CPU for ${testCase.characters} characters, budget ${budgetMs.toFixed(0)} ms\n`);
      await new Promise(() => setInterval(() => undefined, 1_000));
    }
    return output;
  },
};
