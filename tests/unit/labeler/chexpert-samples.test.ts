/**
 * The CheXpert labeler's published sample reports (stanfordmlgroup/chexpert-labeler,
 * sample_reports.csv, MIT License, Copyright (c) 2018 Stanford Machine Learning Group) and its
 * output for them (labeled_reports.csv). They are short illustrative texts, not patient reports.
 *
 * radlearn agrees on all 56 labels except where it follows two documented conventions of its own:
 * "No Finding" is 0, not empty, when a finding is present (training code can then tell "abnormal"
 * from "unlabelable"), and "the lungs are clear" is a negative Lung Opacity, not empty.
 */
import { describe, expect, it } from 'vitest';
import { labelReport } from '../../../src/data/labeler/label.js';
import { OBSERVATIONS, type LabelValue, type Observation } from '../../../src/data/labeler/observations.js';

type Labels = Partial<Record<Observation, LabelValue>>;

const SAMPLES: Array<{ text: string; chexpert: Labels; radlearnConvention: Labels }> = [
  {
    text: 'Heart size normal and lungs are clear. No edema or pneumonia. No effusion',
    chexpert: { 'No Finding': 1, Cardiomegaly: 0, Edema: 0, Pneumonia: 0, 'Pleural Effusion': 0 },
    radlearnConvention: { 'Lung Opacity': 0 },
  },
  {
    text: '1. Left pleural effusion with adjacent atelectasis. Right effusion is also present.\n\n2. Cardiomegaly without overt edema.',
    chexpert: { Cardiomegaly: 1, Edema: 0, Atelectasis: 1, 'Pleural Effusion': 1 },
    radlearnConvention: { 'No Finding': 0 },
  },
  {
    text: 'Minimal patchy airspace disease within the lingula, may reflect atelectasis or consolidation.',
    chexpert: { 'Lung Opacity': 1, Consolidation: -1, Atelectasis: -1 },
    radlearnConvention: { 'No Finding': 0 },
  },
  {
    text: '1. Stable mild cardiomegaly. 2. Hyperexpanded but clear lungs.',
    chexpert: { Cardiomegaly: 1 },
    radlearnConvention: { 'No Finding': 0, 'Lung Opacity': 0 },
  },
];

describe("the CheXpert labeler's sample reports", () => {
  it('agree on all 56 labels but the documented conventions (5 labels)', () => {
    let agreed = 0;
    let convention = 0;
    for (const sample of SAMPLES) {
      const labels = labelReport(sample.text);
      for (const o of OBSERVATIONS) {
        const chexpert = sample.chexpert[o] ?? null;
        if (o in sample.radlearnConvention) {
          expect([sample.text, o, labels[o]]).toEqual([sample.text, o, sample.radlearnConvention[o]]);
          expect(chexpert).toBeNull();
          convention++;
        } else {
          expect([sample.text, o, labels[o]]).toEqual([sample.text, o, chexpert]);
          agreed++;
        }
      }
    }
    expect([agreed, convention]).toEqual([51, 5]);
  });
});
