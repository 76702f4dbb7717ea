/**
 * The 14 CheXpert observations, in CheXpert's column order.
 * A label value is 1 (positive), 0 (negative), -1 (uncertain) or null (not mentioned).
 */
export const OBSERVATIONS = [
  'No Finding',
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
] as const;

export type Observation = (typeof OBSERVATIONS)[number];

/** 1 positive, 0 negative, -1 uncertain, null not mentioned. */
export type LabelValue = 1 | 0 | -1 | null;

export type ReportLabels = Record<Observation, LabelValue>;

/** Observations that the labeler finds in text; 'No Finding' is derived from the others. */
export type MentionedObservation = Exclude<Observation, 'No Finding'>;

/** A fresh label record with every observation "not mentioned". */
export function emptyLabels(): ReportLabels {
  const labels = {} as ReportLabels;
  for (const o of OBSERVATIONS) labels[o] = null;
  return labels;
}
