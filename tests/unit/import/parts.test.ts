import { describe, expect, it } from 'vitest';
import { compileRowFilters, parseRowFilter, toRowFilter } from '../../../src/data/import/filter.js';
import { joinReportColumns, sectionTitle } from '../../../src/data/import/report-text.js';
import { expandTemplate, parseTemplate } from '../../../src/data/import/template.js';
import { checkViews, viewClass, viewMatches } from '../../../src/data/import/views.js';
import { parseReport } from '../../../src/data/reports/parse.js';

describe('views', () => {
  it('recognises frontal and lateral spellings, case-insensitively', () => {
    const frontal = [
      'PA',
      'AP',
      'ap',
      'AP supine',
      'AP Supine',
      'AP erect',
      'AP semi erect',
      'AP semi-erect',
      'PA/AP',
      'Frontal',
      'frontal',
      'AP portable',
      'AP upright',
      'postero-anterior',
      'PA view',
    ];
    const lateral = ['LATERAL', 'Lateral', 'LL', 'RL', 'L', 'lat', 'left lateral'];
    const neither = ['Axial', 'Coronal', 'LAO', 'RAO', 'decubitus', '', '  ', 'PA and lateral', 'AP lateral', 'SWIMMERS'];
    for (const v of frontal) expect([v, viewClass(v)]).toEqual([v, 'frontal']);
    for (const v of lateral) expect([v, viewClass(v)]).toEqual([v, 'lateral']);
    for (const v of neither) expect([v, viewClass(v)]).toEqual([v, undefined]);
    expect(viewClass(undefined)).toBeUndefined();
  });

  it('filters by class or by listed names', () => {
    expect(viewMatches('AP Supine', 'frontal')).toBe(true);
    expect(viewMatches('L', 'frontal')).toBe(false);
    expect(viewMatches(undefined, 'frontal')).toBe(false);
    expect(viewMatches('pa', ['PA', 'AP'])).toBe(true);
    expect(viewMatches('AP Supine', ['PA', 'AP'])).toBe(false); // a list names exact views
    expect(viewMatches('ap  supine', ['AP Supine'])).toBe(true);
    expect(viewMatches('RL', ['lateral'])).toBe(true);
    expect(viewMatches('PA', ['lateral', 'AP'])).toBe(false);
    expect(checkViews(['PA'])).toEqual(['PA']);
    expect(() => checkViews([])).toThrow(expect.objectContaining({ code: 'ERR_IMPORT' }));
    expect(() => checkViews('lateral')).toThrow(/views must be 'frontal' or a non-empty list/);
  });
});

describe('row filters', () => {
  const record: Record<string, string> = { modality: 'X-ray', finding: 'Pneumonia/Viral/COVID-19', view: 'PA', notes: '' };
  const failed = (...filters: string[]): string | undefined => {
    const f = compileRowFilters(filters.map(parseRowFilter))((c) => record[c] ?? '');
    return f ? `${f.column}${f.op}${f.value}` : undefined;
  };

  it('parses the four operators', () => {
    expect(parseRowFilter('modality=X-ray')).toEqual({ column: 'modality', op: '=', value: 'X-ray' });
    expect(parseRowFilter('view != L')).toEqual({ column: 'view', op: '!=', value: 'L' });
    expect(parseRowFilter('finding~covid')).toEqual({ column: 'finding', op: '~', value: 'covid' });
    expect(parseRowFilter('finding!~^No')).toEqual({ column: 'finding', op: '!~', value: '^No' });
    expect(parseRowFilter('notes=')).toEqual({ column: 'notes', op: '=', value: '' });
    expect(toRowFilter({ column: ' view ', op: '=', value: 'PA' })).toEqual({ column: 'view', op: '=', value: 'PA' });
  });

  it('ANDs filters, compares case-insensitively, and returns the first that fails', () => {
    expect(failed('modality=x-ray', 'view!=L', 'finding~COVID', 'finding!~bacterial', 'notes=')).toBeUndefined();
    expect(failed('modality=X-ray', 'view=AP')).toBe('view=AP');
    expect(failed('finding~^no finding$')).toBe('finding~^no finding$');
    expect(failed('finding!~viral')).toBe('finding!~viral');
  });

  it('rejects malformed filters with ERR_IMPORT', () => {
    expect(() => parseRowFilter('modality')).toThrow(
      expect.objectContaining({ code: 'ERR_IMPORT', message: expect.stringMatching(/expected column=value/) }),
    );
    expect(() => parseRowFilter('=x')).toThrow(/expected column=value/);
    expect(() => parseRowFilter('finding~(')).toThrow(/not a valid regular expression/);
  });
});

describe('path templates', () => {
  const columns = ['patientid', 'folder', 'filename'];
  it('expands columns and leaves rows with a blank column without a path', () => {
    const t = parseTemplate('{folder}/{patientid}/{ filename }', columns, 'image', 'm.csv');
    expect(t.columns).toEqual(['folder', 'patientid', 'filename']);
    const f = (r: Record<string, string>) => (c: string) => r[c] ?? '';
    expect(expandTemplate(t, f({ folder: 'images', patientid: '7', filename: 'a.png' }))).toBe('images/7/a.png');
    expect(expandTemplate(t, f({ folder: 'images', patientid: '7', filename: ' ' }))).toBeUndefined();
  });
  it('names an unknown column and rejects templates without columns', () => {
    expect(() => parseTemplate('images/{file}', columns, 'image', 'm.csv')).toThrow(
      expect.objectContaining({
        code: 'ERR_IMPORT',
        message: expect.stringMatching(
          /m\.csv: image template "images\/\{file\}" names column "file", which is not in the file; columns are patientid, folder, filename/,
        ),
      }),
    );
    expect(() => parseTemplate('images/x.png', columns, 'image', 'm.csv')).toThrow(/names no column/);
    expect(() => parseTemplate('images/{}', columns, 'image', 'm.csv')).toThrow(/empty \{\}/);
    expect(() => parseTemplate('images/{filename}}', columns, 'image', 'm.csv')).toThrow(/unbalanced brace/);
  });
});

describe('report text from columns', () => {
  it('titles several columns as sections the report parser recognises, and keeps one column as it is', () => {
    expect(sectionTitle('clinical_notes')).toBe('CLINICAL NOTES');
    const text = joinReportColumns([
      { column: 'findings', text: 'Small left effusion.' },
      { column: 'impression', text: ' Effusion. ' },
      { column: 'history', text: '' },
    ]);
    expect(text).toBe('FINDINGS: Small left effusion.\n\nIMPRESSION: Effusion.');
    const parsed = parseReport(text);
    expect(parsed.sections.findings).toBe('Small left effusion.');
    expect(parsed.sections.impression).toBe('Effusion.');
    expect(joinReportColumns([{ column: 'clinical_notes', text: ' as is ' }])).toBe(' as is ');
  });
});
