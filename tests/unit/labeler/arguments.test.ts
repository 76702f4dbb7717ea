import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { labelReport, labelSentence } from '../../../src/data/labeler/label.js';
import { parseReport } from '../../../src/data/reports/parse.js';
import { splitSections } from '../../../src/data/reports/sections.js';
import { splitSentences } from '../../../src/data/reports/sentences.js';

// Values a CSV column, a JSON field or a caller's bug can hand the text API, and how the error names them.
const NOT_TEXT: Array<[unknown, RegExp]> = [
  [null, /got null/],
  [undefined, /got undefined/],
  [42, /got number 42/],
  [Number.NaN, /got number NaN/],
  [true, /got boolean true/],
  [10n, /got bigint 10/],
  [Symbol('s'), /got a symbol/],
  [{}, /got an object/],
  [['No effusion.'], /got an array of length 1/],
  [Buffer.from('No effusion.'), /got a Buffer of 12 bytes/],
  [new Uint8Array(3), /got a Uint8Array of 3 bytes/],
  [new Date(0), /got a Date object/],
  [() => 'No effusion.', /got a function/],
  [Object.create(null), /got an object/],
  [new String('No effusion.'), /got a String object/],
];

const TEXT_FUNCTIONS: Array<[string, (value: never) => unknown, string]> = [
  ['splitSentences', splitSentences, 'text'],
  ['splitSections', splitSections, 'text'],
  ['parseReport', parseReport, 'text'],
  ['labelSentence', labelSentence, 'sentence'],
];

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the text API rejects non-strings with a typed error', () => {
  for (const [name, fn, argument] of TEXT_FUNCTIONS) {
    it(`${name} names the argument, the expected type and what it got`, () => {
      for (const [value, got] of NOT_TEXT) {
        const error = thrown(() => fn(value as never));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
        expect((error as Error).message).toContain(`${name}: ${argument} must be a string`);
        expect((error as Error).message).toMatch(got);
      }
    });
  }

  it('labelReport accepts a string or a ParsedReport and rejects anything else', () => {
    for (const [value, got] of NOT_TEXT) {
      const error = thrown(() => labelReport(value as never));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^labelReport: report must be a report string or a ParsedReport/);
      if (!(typeof value === 'object' && value !== null && !Array.isArray(value))) expect((error as Error).message).toMatch(got);
    }
  });
});

describe('labelReport checks the shape of a ParsedReport', () => {
  const MALFORMED: Array<[unknown, RegExp]> = [
    [{}, /its sentences must be an array, got undefined/],
    [{ sentences: 'No effusion.' }, /its sentences must be an array, got a string of 12 characters/],
    [{ sentences: [null] }, /sentences\[0\] must be an object, got null/],
    [{ sentences: [{ text: 'No effusion.', section: 'findings' }, 'x'] }, /sentences\[1\] must be an object, got a string/],
    [{ sentences: [{ section: 'findings' }] }, /sentences\[0\]\.text must be a string, got undefined/],
    [{ sentences: [{ text: 7, section: 'findings' }] }, /sentences\[0\]\.text must be a string, got number 7/],
    [{ sentences: [{ text: 'No effusion.' }] }, /sentences\[0\]\.section must be a string, got undefined/],
    [{ sentences: [{ text: 'No effusion.', section: ['findings'] }] }, /sentences\[0\]\.section must be a string, got an array/],
  ];
  for (const [value, message] of MALFORMED) {
    it(JSON.stringify(value), () => {
      const error = thrown(() => labelReport(value as never));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
      expect((error as Error).message).toMatch(message);
    });
  }

  it('labels a well-formed ParsedReport, from parseReport or built by hand', () => {
    expect(labelReport(parseReport('FINDINGS: Small left effusion.'))['Pleural Effusion']).toBe(1);
    expect(labelReport({ sections: {}, sentences: [{ text: 'No pneumothorax.', section: 'impression' }] }).Pneumothorax).toBe(0);
    expect(labelReport({ sentences: [] } as never)['No Finding']).toBeNull();
  });
});

describe('odd but valid strings', () => {
  it('are labelled without error', () => {
    for (const text of [
      '',
      '\u0000',
      '\ud800 effusion',
      'e\u0301ffusion',
      'no\u200beffusion',
      'ＮＯ　ＥＦＦＵＳＩＯＮ．',
      '\u202eno effusion',
      'İ no effusion',
    ]) {
      expect(() => labelReport(text)).not.toThrow();
      expect(() => labelSentence(text)).not.toThrow();
    }
  });

  it('a header named like an Object.prototype member does not read the prototype', () => {
    expect(splitSections('CONSTRUCTOR: No effusion.')).toEqual({ constructor: 'No effusion.' });
  });
});
