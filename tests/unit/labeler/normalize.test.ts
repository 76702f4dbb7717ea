import { describe, expect, it } from 'vitest';
import { labelReport, labelSentence } from '../../../src/data/labeler/label.js';
import { normalizeReportText } from '../../../src/data/labeler/normalize.js';
import { parseReport } from '../../../src/data/reports/parse.js';

describe('normalizeReportText', () => {
  it('returns ASCII text unchanged (the same string)', () => {
    const text = 'FINDINGS: No effusion.\n\tIMPRESSION: Normal.';
    expect(normalizeReportText(text)).toBe(text);
  });

  it('folds fullwidth forms, removes invisible characters and combining marks', () => {
    expect(normalizeReportText('\uFF25\uFF26\uFF26\uFF35\uFF33\uFF29\uFF2F\uFF2E')).toBe('EFFUSION');
    expect(normalizeReportText('eff\u200Busion eff\u200Cusion eff\u200Dusion eff\u2060usion eff\uFEFFusion eff\u00ADusion')).toBe(
      'effusion effusion effusion effusion effusion effusion',
    );
    expect(normalizeReportText('e\u0301dema cardiome\u0301galy \u00E9dema')).toBe('edema cardiomegaly edema');
    expect(normalizeReportText('left\u202Eeffusion\u202C')).toBe('lefteffusion');
    expect(normalizeReportText('no\u00A0pleural\u2003effusion')).toBe('no pleural effusion');
    expect(normalizeReportText('\uFB01ndings')).toBe('findings'); // the "fi" ligature
  });

  it('turns CJK sentence punctuation into ASCII with a space, so it ends sentences and clauses', () => {
    expect(normalizeReportText('No pneumothorax\uFF0ESmall effusion\u3002')).toBe('No pneumothorax. Small effusion. ');
    expect(normalizeReportText('Pneumonia\uFF1F No\uFF0C small\uFF1B large\uFF1A x')).toBe('Pneumonia?  No,  small;  large:  x');
    expect(parseReport(normalizeReportText('No pneumothorax\uFF0ESmall effusion\uFF0E')).sentences.map((s) => s.text)).toEqual([
      'No pneumothorax.',
      'Small effusion.',
    ]);
  });

  it('is linear: a megabyte of zero-width characters and accents takes well under a second', () => {
    const text = 'e\u0301\u200B'.repeat(350_000);
    const start = performance.now();
    expect(normalizeReportText(text)).toBe('e'.repeat(350_000));
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('the labeler reads normalised text', () => {
  it('a fullwidth full stop ends the negation', () => {
    const labels = labelReport('No pneumothorax\uFF0ESmall left pleural effusion\uFF0E');
    expect([labels.Pneumothorax, labels['Pleural Effusion']]).toEqual([0, 1]);
  });

  it('a zero-width character or an accent does not hide a mention', () => {
    expect(labelSentence('Small pleural eff\u200Busion.')).toEqual({ 'Pleural Effusion': 1 });
    expect(labelSentence('Moderate cardiome\u0301galy.')).toEqual({ Cardiomegaly: 1 });
  });

  it('re-splits the sentences of a hand-built ParsedReport that normalisation changes', () => {
    const labels = labelReport({ sections: {}, sentences: [{ text: 'No pneumothorax\u3002Small effusion\u3002', section: 'findings' }] });
    expect([labels.Pneumothorax, labels['Pleural Effusion']]).toEqual([0, 1]);
  });
});
