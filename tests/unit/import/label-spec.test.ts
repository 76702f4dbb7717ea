import { describe, expect, it } from 'vitest';
import {
  checkLabelNames,
  compileLabelSpec,
  formatLabelSpec,
  parseLabelSpec,
  toLabelSpec,
  type LabelSpec,
} from '../../../src/data/import/label-spec.js';

const at = { path: '/data/metadata.csv', row: 7 };
const mapAll = (spec: string | LabelSpec, values: string[]): Array<number | null> => {
  const s = typeof spec === 'string' ? parseLabelSpec(spec) : spec;
  const map = compileLabelSpec(s);
  return values.map((v) => map(v, at));
};

describe('parseLabelSpec', () => {
  it('reads every mapping kind of the grammar', () => {
    expect(parseLabelSpec('pcr=RT_PCR_positive')).toEqual({ name: 'pcr', column: 'RT_PCR_positive', mapping: { kind: 'boolean' } });
    expect(parseLabelSpec('pcr = RT_PCR_positive : yn')).toEqual({ name: 'pcr', column: 'RT_PCR_positive', mapping: { kind: 'boolean' } });
    expect(parseLabelSpec('grade=KL grade:integer').mapping).toEqual({ kind: 'integer' });
    expect(parseLabelSpec('fever=temperature:>=38').mapping).toEqual({ kind: 'threshold', op: '>=', value: 38 });
    expect(parseLabelSpec('old=age:>70.5').mapping).toEqual({ kind: 'threshold', op: '>', value: 70.5 });
    expect(parseLabelSpec('hypox=pO2_saturation:< 90').mapping).toEqual({ kind: 'threshold', op: '<', value: 90 });
    expect(parseLabelSpec('low=x:<=-1e-3').mapping).toEqual({ kind: 'threshold', op: '<=', value: -0.001 });
    expect(parseLabelSpec('covid=finding:contains COVID-19')).toEqual({
      name: 'covid',
      column: 'finding',
      mapping: { kind: 'contains', text: 'COVID-19' },
    });
    expect(parseLabelSpec('viral=finding:matches ^pneumonia/viral/').mapping).toEqual({ kind: 'matches', pattern: '^pneumonia/viral/' });
    expect(parseLabelSpec('sex=sex:M:1,F:0').mapping).toEqual({ kind: 'values', values: { m: 1, f: 0 } });
    expect(parseLabelSpec('f=finding:No Finding:0,todo:missing,*:1').mapping).toEqual({
      kind: 'values',
      values: { 'no finding': 0, todo: null },
      otherwise: 1,
    });
    expect(parseLabelSpec('u=x:a:1,b:0,c:-1,:0').mapping).toEqual({ kind: 'values', values: { a: 1, b: 0, c: -1, '': 0 } });
  });

  it('round-trips through formatLabelSpec', () => {
    for (const text of [
      'pcr=RT_PCR_positive:boolean',
      'g=KL grade:integer',
      'fever=temperature:>=38',
      'covid=finding:contains COVID-19',
      'v=finding:matches ^pneumonia/(viral|fungal)',
      'sex=sex:m:1,f:0,*:missing',
    ]) {
      expect(parseLabelSpec(formatLabelSpec(parseLabelSpec(text)))).toEqual(parseLabelSpec(text));
      expect(formatLabelSpec(parseLabelSpec(text))).toBe(text);
    }
  });

  it('accepts the same labels as structured objects, with the mapping as an object or a string', () => {
    expect(toLabelSpec({ name: 'covid', column: 'finding', mapping: 'contains COVID-19' })).toEqual(
      parseLabelSpec('covid=finding:contains COVID-19'),
    );
    expect(toLabelSpec({ name: 'pcr', column: 'RT_PCR_positive' })).toEqual(parseLabelSpec('pcr=RT_PCR_positive'));
    expect(toLabelSpec({ name: 'fever', column: 'temperature', mapping: { kind: 'threshold', op: '>=', value: 38 } })).toEqual(
      parseLabelSpec('fever=temperature:>=38'),
    );
    expect(toLabelSpec({ name: 's', column: 'sex', mapping: { kind: 'values', values: { M: 1, ' F ': 0 } } })).toEqual(
      parseLabelSpec('s=sex:m:1,f:0'),
    );
  });

  const badSpecs: Array<[unknown, RegExp]> = [
    ['covid', /expected name=column\[:mapping\]/],
    ['=finding', /label name \(before =\) is empty/],
    ['covid=', /source column \(after =\) is empty/],
    ['covid=finding:startswith COVID', /mapping "startswith COVID" is not one of/],
    ['t=temperature:>=warm', /threshold ">=warm" needs a number after >=/],
    ['t=temperature:>=', /needs a number/],
    ['v=finding:matches (unclosed', /"\(unclosed" is not a valid regular expression/],
    ['s=sex:M:1,F:yes', /target "yes" is not an integer class or "missing"/],
    ['s=sex:M:1,M:0', /the value "m" is mapped twice/],
    ['s=sex:M:1,*:0,*:1', /the value \* is mapped twice/],
    [{ name: 'a', column: 'b', mapping: { kind: 'threshold', op: '=>', value: 1 } }, /threshold op must be/],
    [{ name: 'a', column: 'b', mapping: { kind: 'values', values: { x: 0.5 } } }, /target of "x" must be an integer or null/],
    [{ name: 'a', column: 'b', mapping: { kind: 'fuzzy' } }, /mapping kind must be/],
    [{ name: '', column: 'b' }, /name must be a non-empty string/],
    [{ name: 'a', column: 3 }, /column must be a non-empty string/],
  ];
  for (const [spec, message] of badSpecs) {
    it(`rejects ${JSON.stringify(spec)} with ERR_IMPORT`, () => {
      expect(() => toLabelSpec(spec as string)).toThrow(
        expect.objectContaining({ code: 'ERR_IMPORT', message: expect.stringMatching(message) }),
      );
    });
  }
});

describe('compileLabelSpec', () => {
  it('maps Y/N, yes/no, true/false and 1/0/-1 case-insensitively, blanks and NA to missing', () => {
    expect(
      mapAll('p=c', [
        'Y',
        'n',
        'YES',
        'no',
        'True',
        'false',
        'T',
        'f',
        '1',
        '0',
        '-1',
        '1.0',
        'positive',
        'Negative',
        '',
        ' ',
        'NA',
        'nan',
        'N/A',
        'null',
      ]),
    ).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, -1, 1, 1, 0, null, null, null, null, null, null]);
  });

  it('applies numeric thresholds and integer classes', () => {
    expect(mapAll('f=t:>=38', ['38', '38.6', '37.9', '', '39'])).toEqual([1, 1, 0, null, 1]);
    expect(mapAll('f=t:>38', ['38', '38.01'])).toEqual([0, 1]);
    expect(mapAll('f=t:<=90', ['90', '90.5'])).toEqual([1, 0]);
    expect(mapAll('f=t:<90', ['90', '89'])).toEqual([0, 1]);
    expect(mapAll('g=grade:integer', ['0', '3', '', '-1'])).toEqual([0, 3, null, -1]);
  });

  it('matches free text with contains and regexes, case-insensitively', () => {
    const findings = ['Pneumonia/Viral/COVID-19', 'pneumonia/viral/covid-19', 'Pneumonia/Bacterial/Streptococcus', 'No Finding', ''];
    expect(mapAll('c=finding:contains COVID-19', findings)).toEqual([1, 1, 0, 0, null]);
    expect(mapAll('v=finding:matches ^pneumonia/viral/', findings)).toEqual([1, 1, 0, 0, null]);
  });

  it('maps explicit values, with * for the rest and a named blank', () => {
    expect(mapAll('s=sex:M:1,F:0', ['m', 'F ', ''])).toEqual([1, 0, null]);
    expect(mapAll('f=finding:No Finding:0,todo:missing,*:1', ['No finding', 'todo', 'Pneumonia', ''])).toEqual([0, null, 1, null]);
    expect(mapAll('u=x:a:1,:0', ['a', ''])).toEqual([1, 0]);
  });

  it('names file, row, column, value and the mapping of a value it cannot map', () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'pcr=RT_PCR_positive',
        'Unclear',
        /\/data\/metadata\.csv row 7, column RT_PCR_positive: value "Unclear" does not fit label pcr=RT_PCR_positive:boolean \(expected Y\/N/,
      ],
      [
        'fever=temperature:>=38',
        'warm',
        /row 7, column temperature: value "warm" does not fit label fever=temperature:>=38 \(expected a number/,
      ],
      ['g=grade:integer', '2.5', /row 7, column grade: value "2\.5" does not fit label g=grade:integer/],
      ['s=sex:M:1,F:0', 'X', /row 7, column sex: value "X" does not fit label s=sex:m:1,f:0 \(mapped values are m, f\)/],
    ];
    for (const [spec, value, message] of cases) {
      const map = compileLabelSpec(parseLabelSpec(spec));
      try {
        map(value, at);
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({ code: 'ERR_IMPORT', message: expect.stringMatching(message) });
        expect((error as { details: Record<string, unknown> }).details).toMatchObject({ path: at.path, row: 7, value });
      }
    }
  });
});

describe('checkLabelNames', () => {
  it('refuses duplicates, meta. names and names loadManifest reads as roles', () => {
    expect(() => checkLabelNames(['covid', 'pcr'], 'x')).not.toThrow();
    expect(() => checkLabelNames(['covid', 'covid'], 'x')).toThrow(/label "covid" is named twice/);
    expect(() => checkLabelNames(['meta.age'], 'x')).toThrow(/may not start with "meta\."/);
    for (const name of ['view', 'Split', 'patient_id', 'group', 'filename', 'report']) {
      expect(() => checkLabelNames([name], 'x')).toThrow(
        expect.objectContaining({ code: 'ERR_IMPORT', message: expect.stringMatching(/manifest role column/) }),
      );
    }
    expect(() => checkLabelNames([' padded'], 'x')).toThrow(/non-empty text without leading or trailing spaces/);
  });
});
