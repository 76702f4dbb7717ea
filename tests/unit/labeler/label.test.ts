import { describe, expect, it } from 'vitest';
import { labelReport, labelSentence } from '../../../src/data/labeler/label.js';
import { OBSERVATIONS, type Observation } from '../../../src/data/labeler/observations.js';

type Expect = Partial<Record<Observation, 1 | 0 | -1>>;

// Each row: a sentence and exactly the observations it should label (others not mentioned).
const SENTENCES: Array<[string, Expect]> = [
  // plain mentions and synonyms
  ['Small left pleural effusion.', { 'Pleural Effusion': 1 }],
  // A blunted angle is a sign (effusion or thickening): uncertain, as CheXpert labels it.
  ['Blunting of the right costophrenic angle.', { 'Pleural Effusion': -1 }],
  ['The left costophrenic angle is blunted.', { 'Pleural Effusion': -1 }],
  ['Moderate cardiomegaly.', { Cardiomegaly: 1 }],
  ['The heart is mildly enlarged.', { Cardiomegaly: 1 }],
  ['Enlarged cardiac silhouette.', { Cardiomegaly: 1 }],
  ['Widened mediastinum.', { 'Enlarged Cardiomediastinum': 1 }],
  ['The cardiomediastinal silhouette is enlarged.', { 'Enlarged Cardiomediastinum': 1 }],
  ['Right lower lobe collapse.', { Atelectasis: 1 }],
  ['Bibasilar atelectasis.', { Atelectasis: 1 }],
  ['Patchy air-space disease in the left base.', { 'Lung Opacity': 1 }],
  ['Diffuse interstitial opacities.', { 'Lung Opacity': 1 }],
  ['A 1.5 cm nodular opacity in the right upper lobe.', { 'Lung Lesion': 1 }],
  ['Large left hilar mass.', { 'Lung Lesion': 1 }],
  ['Right lower lobe consolidation.', { Consolidation: 1 }],
  ['Findings consistent with pneumonia.', { Pneumonia: 1 }],
  // Vascular congestion is raised venous pressure short of edema: uncertain edema in CheXpert.
  ['Mild pulmonary vascular congestion.', { Edema: -1 }],
  ['Moderate pulmonary edema.', { Edema: 1 }],
  ['Small right apical pneumothorax.', { Pneumothorax: 1 }],
  ['Right pleural thickening.', { 'Pleural Other': 1 }],
  ['Healed left rib fractures.', { Fracture: 1 }],
  ['Left chest wall pacemaker with leads in the right ventricle.', { 'Support Devices': 1 }],
  ['ET tube terminates 4 cm above the carina.', { 'Support Devices': 1 }],
  ['Right IJ central line tip in the SVC.', { 'Support Devices': 1 }],
  ['NG tube courses below the diaphragm.', { 'Support Devices': 1 }],
  // pre-negation, with list scope
  ['No pleural effusion.', { 'Pleural Effusion': 0 }],
  ['There is no pneumothorax.', { Pneumothorax: 0 }],
  [
    'No evidence of focal consolidation, pleural effusion, pneumothorax, or pulmonary edema.',
    { Consolidation: 0, 'Pleural Effusion': 0, Pneumothorax: 0, Edema: 0 },
  ],
  ['Without evidence of pneumonia.', { Pneumonia: 0 }],
  ['Negative for fracture.', { Fracture: 0 }],
  ['The heart is not enlarged.', { Cardiomegaly: 0 }],
  ['No acute osseous abnormality.', { Fracture: 0 }],
  ['Interval removal of the endotracheal tube.', { 'Support Devices': 0 }],
  // post-negation
  ['Pneumothorax is not seen.', { Pneumothorax: 0 }],
  ['The left effusion has resolved.', { 'Pleural Effusion': 0 }],
  ['The endotracheal tube has been removed.', { 'Support Devices': 0 }],
  ['Effusion is no longer visualized.', { 'Pleural Effusion': 0 }],
  ['Pneumonia unlikely.', { Pneumonia: 0 }],
  // statements that are negative by themselves
  ['Heart size is normal.', { Cardiomegaly: 0 }],
  ['Normal cardiomediastinal silhouette.', { Cardiomegaly: 0, 'Enlarged Cardiomediastinum': 0 }],
  ['The costophrenic angles are sharp.', { 'Pleural Effusion': 0 }],
  ['The lungs are clear.', { 'Lung Opacity': 0 }],
  // uncertainty, before and after
  ['Possible small left effusion.', { 'Pleural Effusion': -1 }],
  ['Opacity may represent atelectasis.', { 'Lung Opacity': 1, Atelectasis: -1 }],
  ['Findings are suspicious for pneumonia.', { Pneumonia: -1 }],
  ['Cannot exclude a small pneumothorax.', { Pneumothorax: -1 }],
  ['Pneumonia cannot be excluded.', { Pneumonia: -1 }],
  ['A small effusion is not excluded.', { 'Pleural Effusion': -1 }],
  ['Atelectasis versus consolidation.', { Atelectasis: -1, Consolidation: -1 }],
  ['Borderline heart size.', { Cardiomegaly: -1 }],
  ['The heart size is top normal.', { Cardiomegaly: -1 }],
  ['Questionable nodule in the right upper lobe.', { 'Lung Lesion': -1 }],
  // scope termination and pseudo-negation
  ['No pneumothorax, but there is a small right effusion.', { Pneumothorax: 0, 'Pleural Effusion': 1 }],
  ['No pneumothorax; small left effusion.', { Pneumothorax: 0, 'Pleural Effusion': 1 }],
  ['There is no pneumothorax and there is cardiomegaly.', { Pneumothorax: 0, Cardiomegaly: 1 }],
  ['No evidence of pneumothorax following placement of the right central line.', { Pneumothorax: 0, 'Support Devices': 1 }],
  ['Cardiomegaly without pleural effusion.', { Cardiomegaly: 1, 'Pleural Effusion': 0 }],
  ['No change in the small left effusion.', { 'Pleural Effusion': 1 }],
  ['Moderate cardiomegaly is not significantly changed.', { Cardiomegaly: 1 }],
  ['Possible left lower lobe opacity without effusion.', { 'Lung Opacity': -1, 'Pleural Effusion': 0 }],
  ['Left basilar opacity, possibly atelectasis, with moderate cardiomegaly.', { 'Lung Opacity': 1, Atelectasis: -1, Cardiomegaly: 1 }],
  ['There is no focal consolidation to suggest pneumonia.', { Consolidation: 0, Pneumonia: 0 }],
  ['Right lower lobe opacity to suggest pneumonia.', { 'Lung Opacity': 1, Pneumonia: -1 }],
  ['Right chest tube remains in place with no pneumothorax.', { 'Support Devices': 1, Pneumothorax: 0 }],
  ['No focal airspace consolidation is seen to suggest pneumonia.', { Consolidation: 0, Pneumonia: 0 }],
  ['Small effusion is present and pneumothorax is not seen.', { 'Pleural Effusion': 1, Pneumothorax: 0 }],
  ['Evaluation for pneumothorax is limited by patient rotation.', { Pneumothorax: -1 }],
  [
    'Persistent retrocardiac opacity likely reflects atelectasis though pneumonia is not excluded.',
    { 'Lung Opacity': 1, Atelectasis: -1, Pneumonia: -1 },
  ],
  ['Mild interstitial edema versus atypical infection.', { Edema: -1, Pneumonia: -1 }],
  ['Enteric tube tip is not visualized.', { 'Support Devices': 0 }],
  // normal statements reach back over a coordinated subject, not over a clause of its own
  ['Heart size and pulmonary vascular engorgement appear within limits of normal.', { Cardiomegaly: 0, Edema: 0 }],
  ['The heart, mediastinum, and hila are within normal limits.', { Cardiomegaly: 0, 'Enlarged Cardiomediastinum': 0 }],
  ['There is mild cardiomegaly, and the heart and lungs are otherwise normal.', { Cardiomegaly: 1 }],
  ['Mild cardiomegaly and mediastinum are unremarkable.', { Cardiomegaly: 1, 'Enlarged Cardiomediastinum': 0 }],
  ['Cardiomegaly persists, and mediastinal contours are normal.', { Cardiomegaly: 1, 'Enlarged Cardiomediastinum': 0 }],
  ['The heart size is stable.', {}],
  ['Normal heart size, mediastinal contours and pulmonary vasculature.', { Cardiomegaly: 0, 'Enlarged Cardiomediastinum': 0 }],
  ['Normal position of the endotracheal tube.', { 'Support Devices': 1 }],
  ['Heart size upper normal.', { Cardiomegaly: -1 }],
  ['Heart size within upper limits of normal.', { Cardiomegaly: -1 }],
  // "and the" starts a new noun phrase: the negation before it stops there
  ['No effusion and the heart is enlarged.', { 'Pleural Effusion': 0, Cardiomegaly: 1 }],
  ['No pneumothorax and the heart is stable.', { Pneumothorax: 0 }],
  ['The patient has had interval placement of a right chest tube.', { 'Support Devices': 1 }],
  // questions and alternatives are uncertain; negation still wins
  ['Question edema or atypical infection?', { Edema: -1, Pneumonia: -1 }],
  ['Pneumonia?', { Pneumonia: -1 }],
  ['No effusion or pneumothorax?', { 'Pleural Effusion': 0, Pneumothorax: 0 }],
  ['Patchy opacity compatible with ARDS or multifocal pneumonia.', { 'Lung Opacity': 1, Pneumonia: -1 }],
  ['No pneumothorax is suspected.', { Pneumothorax: 0 }],
  ['Pneumonia cannot be excluded and is suspected.', { Pneumonia: -1 }],
  // history and requests are not findings of this study
  ['History of lung cancer.', {}],
  ['A stent had been implanted.', {}],
  ['Coronary stent in place.', { 'Support Devices': 1 }],
  ['History of CHF, now with mild pulmonary edema.', { Edema: 1 }],
  ['Patient with a history of pneumothorax, rule out recurrence.', {}],
  ['72-year-old woman with fever.', {}],
  ['Evaluate for pneumonia.', {}],
  ['Prior CT showed a nodule.', {}],
  // CheXpert's readings of signs and heart failure
  ['Congestive heart failure.', { Edema: 1, Cardiomegaly: -1 }],
  ['Pulmonary vasculature is mildly engorged.', { Edema: -1 }],
  ['Pulmonary vasculature is not engorged.', { Edema: 0 }],
  ['Calcified granuloma.', {}],
  ['Near complete resolution of the consolidation.', { Consolidation: 1 }],
  ['Retrocardiac opacity is likely atelectasis.', { 'Lung Opacity': 1, Atelectasis: -1 }],
  // look-alikes that are not the observation
  ['Small pericardial effusion.', {}],
  ['No mass effect.', {}],
  ['Soft tissue edema of the chest wall.', {}],
];

describe('labelSentence', () => {
  for (const [sentence, expected] of SENTENCES) {
    it(sentence, () => {
      expect(labelSentence(sentence)).toEqual(expected);
    });
  }

  it('is case-insensitive', () => {
    expect(labelSentence('NO PLEURAL EFFUSION.')).toEqual({ 'Pleural Effusion': 0 });
  });
});

describe('labelReport', () => {
  it('returns all 14 observations in CheXpert order', () => {
    expect(OBSERVATIONS).toHaveLength(14);
    expect(Object.keys(labelReport('FINDINGS: Normal.'))).toEqual([...OBSERVATIONS]);
  });

  it('applies positive > uncertain > negative across sentences', () => {
    const labels = labelReport(
      'FINDINGS: No right effusion. Possible small left effusion. Small left effusion.\nIMPRESSION: No pneumothorax. Possible pneumothorax.',
    );
    expect(labels['Pleural Effusion']).toBe(1);
    expect(labels.Pneumothorax).toBe(-1);
  });

  it('derives No Finding from everything but Support Devices', () => {
    expect(labelReport('FINDINGS: ET tube in place. No effusion.\nIMPRESSION: No acute process.')['No Finding']).toBe(1);
    expect(labelReport('IMPRESSION: Possible pneumonia.')['No Finding']).toBe(0);
    expect(labelReport('IMPRESSION: Cardiomegaly.')['No Finding']).toBe(0);
    expect(labelReport('')['No Finding']).toBeNull();
  });

  it('ignores the indication, comparison and technique sections', () => {
    const labels = labelReport(
      'INDICATION: Evaluate for pneumonia and pneumothorax.\nCOMPARISON: Prior with effusion.\nFINDINGS: Lungs are clear.',
    );
    expect(labels.Pneumonia).toBeNull();
    expect(labels.Pneumothorax).toBeNull();
    expect(labels['Pleural Effusion']).toBeNull();
    expect(labels['Lung Opacity']).toBe(0);
    expect(labels['No Finding']).toBe(1);
  });

  it('labels the unheaded body after an indication paragraph, and not the indication', () => {
    const labels = labelReport('INDICATION: Evaluate for pneumothorax.\n\nThe lungs are clear. There is a large right pleural effusion.');
    expect(labels['Pleural Effusion']).toBe(1);
    expect(labels.Pneumothorax).toBeNull();
    expect(labels['No Finding']).toBe(0);
  });

  it('skips unknown headers that hold the clinical question or history, and the title before FINDINGS', () => {
    const labels = labelReport('CLINICAL INDICATIONS: Pneumonia.\nREASON FOR STUDY/HISTORY: Effusion?\nFINDINGS: Lungs are clear.');
    expect([labels.Pneumonia, labels['Pleural Effusion'], labels['Lung Opacity']]).toEqual([null, null, 0]);
    expect(labelReport('Pneumothorax?\nFINDINGS: No pneumothorax.').Pneumothorax).toBe(0);
    expect(labelReport('Pneumothorax?\nIMPRESSION: No effusion.').Pneumothorax).toBe(-1); // no FINDINGS: the first line may be a finding
    expect(labelReport('History of lung cancer.')['No Finding']).toBeNull(); // nothing about this study
  });

  it('counts other abnormalities against No Finding, positive or uncertain, not negated', () => {
    expect(labelReport('Emphysema.')['No Finding']).toBe(0);
    expect(labelReport('Possible hiatal hernia.')['No Finding']).toBe(0);
    expect(labelReport('No emphysema.')['No Finding']).toBe(1);
  });

  it('labels unheaded reports and line-wrapped impressions', () => {
    const labels = labelReport('The heart is\nmildly enlarged. 1. Small left\neffusion 2. No pneumothorax');
    expect(labels.Cardiomegaly).toBe(1);
    expect(labels['Pleural Effusion']).toBe(1);
    expect(labels.Pneumothorax).toBe(0);
  });

  it('leaves unmentioned observations null', () => {
    const labels = labelReport('FINDINGS: No pneumothorax.');
    for (const o of OBSERVATIONS) {
      if (o !== 'Pneumothorax' && o !== 'No Finding') expect(labels[o]).toBeNull();
    }
  });
});

describe('labelReport on random text', () => {
  it('returns valid values quickly for scrambled report vocabulary (no regex blow-up)', async () => {
    const { Rng } = await import('../../../src/random/index.js');
    const words = [
      'no',
      'not',
      'heart',
      'is',
      'enlarged',
      'effusion',
      'possible',
      'cannot',
      'be',
      'excluded',
      'pleural',
      'left',
      'the',
      'size',
      'normal',
      'mildly',
      'FINDINGS:',
      'IMPRESSION:',
      '1.',
      '2.',
      ',',
      ';',
      '.',
      'versus',
      'but',
      'tube',
      'line',
      'costophrenic',
      'angle',
      'blunting',
      'of',
      'to',
      'suggest',
      'pneumonia',
      '___',
      'XXXX',
      '\n',
      '2.5',
      'cm',
      'Dr.',
      'with',
    ];
    const rng = new Rng(42);
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: rng.intBetween(0, 120) }, () => rng.pick(words)).join(' ');
      const labels = labelReport(text);
      for (const o of OBSERVATIONS) expect([1, 0, -1, null]).toContain(labels[o]);
    }
    // A pathological run of filler words between an organ and its adjective.
    expect(labelReport(`The heart${' is mildly'.repeat(2000)} enlarged.`).Cardiomegaly).toBe(1);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
