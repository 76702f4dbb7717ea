import { describe, expect, it } from 'vitest';
import { parseReport } from '../../../src/data/reports/parse.js';
import { splitSections } from '../../../src/data/reports/sections.js';
import { splitSentences } from '../../../src/data/reports/sentences.js';

describe('splitSections', () => {
  it('finds the standard sections with colons, any case, and text on the header line', () => {
    const s = splitSections(
      'EXAMINATION: CHEST (PA AND LAT)\nindication: cough\nComparison: ___\nFindings: Lungs clear.\nIMPRESSION: Normal.',
    );
    expect(s).toEqual({
      technique: 'CHEST (PA AND LAT)',
      indication: 'cough',
      comparison: '___',
      findings: 'Lungs clear.',
      impression: 'Normal.',
    });
  });

  it('accepts numbered headers, headers alone on their line, and synonyms', () => {
    const s = splitSections('1. CLINICAL HISTORY:\nFever.\n\nII) Findings\nSmall left effusion.\n\nCONCLUSION\nEffusion.');
    expect(s.indication).toBe('Fever.');
    expect(s.findings).toBe('Small left effusion.');
    expect(s.impression).toBe('Effusion.');
  });

  it('keeps unheaded text as preamble and tolerates missing sections', () => {
    expect(splitSections('Heart size normal. No effusion.')).toEqual({ preamble: 'Heart size normal. No effusion.' });
    const s = splitSections('Portable film.\nIMPRESSION: No acute process.');
    expect(s.preamble).toBe('Portable film.');
    expect(s.impression).toBe('No acute process.');
    expect(s.findings).toBeUndefined();
  });

  it('finds capitalised headers inside a line and unknown all-caps headers', () => {
    const s = splitSections(
      'INDICATION: XXXX-year-old with cough. FINDINGS: No effusion. IMPRESSION: Normal.\nWET READ: discussed with Dr. ___.',
    );
    expect(s.indication).toBe('XXXX-year-old with cough.');
    expect(s.findings).toBe('No effusion.');
    expect(s.impression).toBe('Normal.');
    expect(s.wet_read).toBe('discussed with Dr. ___.');
  });

  it('does not treat the word "findings" inside a sentence as a header', () => {
    const s = splitSections('FINDINGS: These findings are stable. No new findings.');
    expect(s).toEqual({ findings: 'These findings are stable. No new findings.' });
  });

  it('ends an indication, comparison or technique section at its first blank line: the unheaded body after it is the report', () => {
    expect(splitSections('INDICATION: Cough and fever.\n\nThe lungs are clear.\nNo effusion.')).toEqual({
      indication: 'Cough and fever.',
      preamble: 'The lungs are clear.\nNo effusion.',
    });
    // a blank line between the header and its text, and a technique paragraph before a headed body
    expect(splitSections('TECHNIQUE:\n\nPA and lateral.\n\nComparison film unavailable.\n\nIMPRESSION: Normal.')).toEqual({
      technique: 'PA and lateral.',
      preamble: 'Comparison film unavailable.',
      impression: 'Normal.',
    });
    // a blank line just before the next header, or inside findings, moves nothing
    expect(splitSections('HISTORY: Fever.\n\nFINDINGS: Clear.\n\nNo effusion.')).toEqual({
      indication: 'Fever.',
      findings: 'Clear.\n\nNo effusion.',
    });
  });

  it('joins a repeated section and keeps an empty one', () => {
    const s = splitSections('FINDINGS: A.\nIMPRESSION:\nFINDINGS: B.');
    expect(s.findings).toBe('A.\nB.');
    expect(s.impression).toBe('');
  });
});

describe('splitSentences', () => {
  it('survives abbreviations, initials, decimals and measurements', () => {
    expect(
      splitSentences('Dr. J. Smith was paged at 3 p.m. today. There is a 2.5 cm nodule, approx. 3 mm larger vs. prior. No effusion.'),
    ).toEqual(['Dr. J. Smith was paged at 3 p.m. today.', 'There is a 2.5 cm nodule, approx. 3 mm larger vs. prior.', 'No effusion.']);
  });

  it('splits enumerations inline and on separate lines, and strips the numbers', () => {
    expect(splitSentences('1. Cardiomegaly. 2. Small left effusion 3. No pneumothorax.')).toEqual([
      'Cardiomegaly.',
      'Small left effusion',
      'No pneumothorax.',
    ]);
    expect(splitSentences('1. Cardiomegaly\n2. Left effusion, 1.2 cm\n3) Lines in place')).toEqual([
      'Cardiomegaly',
      'Left effusion, 1.2 cm',
      'Lines in place',
    ]);
  });

  it('does not mistake a number at a sentence end for an enumerator', () => {
    expect(splitSentences('Compared with study 2. The effusion is smaller.')).toEqual([
      'Compared with study 2.',
      'The effusion is smaller.',
    ]);
  });

  it('joins line-wrapped text and breaks at blank lines and bullets', () => {
    const text =
      'The heart is mildly\nenlarged. There is a small\nleft effusion\n\nNo pneumothorax\n- ET tube in place\n* NG tube in stomach';
    expect(splitSentences(text)).toEqual([
      'The heart is mildly enlarged.',
      'There is a small left effusion',
      'No pneumothorax',
      'ET tube in place',
      'NG tube in stomach',
    ]);
  });

  it('splits all-lower-case text and keeps e.g./i.e. inside a sentence', () => {
    expect(splitSentences('heart normal. lungs clear, e.g. no focal opacity. no effusion')).toEqual([
      'heart normal.',
      'lungs clear, e.g. no focal opacity.',
      'no effusion',
    ]);
  });

  it('handles question and exclamation marks, CRLF, and de-identification placeholders', () => {
    expect(splitSentences('Pneumonia? Unclear!\r\nCall ___ at XXXX. Done.')).toEqual([
      'Pneumonia?',
      'Unclear!',
      'Call ___ at XXXX.',
      'Done.',
    ]);
  });

  it('returns nothing for empty or punctuation-only text', () => {
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences(' \n . \n ')).toEqual([]);
  });
});

describe('parseReport', () => {
  it('tags each sentence with its section, in report order', () => {
    const r = parseReport('INDICATION: Cough.\n\nFINDINGS: Heart normal. Lungs clear.\n\nIMPRESSION:\n1. Normal. 2. No change.');
    expect(r.sentences).toEqual([
      { text: 'Cough.', section: 'indication' },
      { text: 'Heart normal.', section: 'findings' },
      { text: 'Lungs clear.', section: 'findings' },
      { text: 'Normal.', section: 'impression' },
      { text: 'No change.', section: 'impression' },
    ]);
  });

  it('never throws on odd input', () => {
    for (const text of ['', ':::', 'IMPRESSION:', '\u0000\u0001', 'x'.repeat(10_000), '1.\n2.\n3.', 'FINDINGS:\n\n\n']) {
      expect(() => parseReport(text)).not.toThrow();
    }
  });

  it('rejects a non-string with a typed error instead of guessing', () => {
    expect(() => parseReport(undefined as unknown as string)).toThrow(/parseReport: text must be a string, got undefined/);
  });
});
