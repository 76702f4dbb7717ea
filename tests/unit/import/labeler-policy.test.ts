import { describe, expect, it } from 'vitest';
import { labelReport } from '../../../src/data/labeler/label.js';
import { OBSERVATIONS } from '../../../src/data/labeler/observations.js';
import { applyLabelerPolicy } from '../../../src/data/labeler/policy.js';

describe('applyLabelerPolicy', () => {
  const report = 'FINDINGS: Small left pleural effusion. No pneumothorax. Possible pneumonia.';

  it('keeps the labeler output by default: uncertain -1, not mentioned missing', () => {
    const raw = labelReport(report);
    expect(applyLabelerPolicy(raw)).toEqual(raw);
    expect(raw).toMatchObject({ 'Pleural Effusion': 1, Pneumothorax: 0, Pneumonia: -1, Edema: null, Fracture: null });
  });

  it('makes an observation the report never mentions 0 with notMentioned: negative', () => {
    const labels = applyLabelerPolicy(labelReport(report), { notMentioned: 'negative' });
    expect(labels).toMatchObject({ 'Pleural Effusion': 1, Pneumothorax: 0, Pneumonia: -1, Edema: 0, Fracture: 0, Cardiomegaly: 0 });
    expect(OBSERVATIONS.filter((o) => labels[o] === null)).toEqual([]);
  });

  it('maps uncertain to 1, 0 or missing', () => {
    expect(applyLabelerPolicy(labelReport(report), { uncertain: 'ones' }).Pneumonia).toBe(1);
    expect(applyLabelerPolicy(labelReport(report), { uncertain: 'zeros' }).Pneumonia).toBe(0);
    expect(applyLabelerPolicy(labelReport(report), { uncertain: 'missing' }).Pneumonia).toBeNull();
    expect(applyLabelerPolicy(labelReport(report), { uncertain: 'missing', notMentioned: 'negative' })).toMatchObject({
      Pneumonia: null,
      Edema: 0,
    });
  });

  it('leaves a report without labelable text missing everywhere', () => {
    for (const text of ['', 'INDICATION: cough, evaluate for pneumonia.']) {
      const labels = applyLabelerPolicy(labelReport(text), { notMentioned: 'negative' });
      expect(OBSERVATIONS.every((o) => labels[o] === null)).toBe(true);
    }
  });

  it('refuses unknown policy names with ERR_INVALID_ARGUMENT', () => {
    expect(() => applyLabelerPolicy(labelReport(report), { uncertain: 'u-ones' as 'ones' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/uncertain policy must be one of keep, ones, zeros, missing/),
      }),
    );
    expect(() => applyLabelerPolicy(labelReport(report), { notMentioned: 'zero' as 'negative' })).toThrow(
      /not-mentioned policy must be one of missing, negative/,
    );
  });
});
