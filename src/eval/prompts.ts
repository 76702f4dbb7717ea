/**
 * Prompt data for zero-shot classification. Templates contain '{c}', replaced by
 * the observation's phrase. CHEXZERO_TEMPLATES is the single pair of the CheXzero
 * protocol ('{c}' vs 'no {c}'); DEFAULT_PROMPT_TEMPLATES is a small ensemble in
 * report language, averaged as normalised embeddings (see zeroShot.ts).
 */

export interface PromptTemplates {
  positive: string[];
  negative: string[];
}

export interface LabelPrompts {
  /** Label name as it appears in the label columns. */
  label: string;
  positive: string[];
  negative: string[];
}

export const CHEXZERO_TEMPLATES: PromptTemplates = Object.freeze({
  positive: ['{c}'],
  negative: ['no {c}'],
}) as PromptTemplates;

export const DEFAULT_PROMPT_TEMPLATES: PromptTemplates = Object.freeze({
  positive: ['{c}', 'findings suggest {c}', 'there is {c}', 'findings consistent with {c}'],
  negative: ['no {c}', 'no evidence of {c}', 'there is no {c}', 'negative for {c}'],
}) as PromptTemplates;

/** The 14 CheXpert observations and the phrase a report would use for each. */
export const CHEXPERT_OBSERVATIONS: readonly { label: string; phrase: string }[] = Object.freeze([
  { label: 'No Finding', phrase: 'no finding' },
  { label: 'Enlarged Cardiomediastinum', phrase: 'enlarged cardiomediastinum' },
  { label: 'Cardiomegaly', phrase: 'cardiomegaly' },
  { label: 'Lung Opacity', phrase: 'lung opacity' },
  { label: 'Lung Lesion', phrase: 'lung lesion' },
  { label: 'Edema', phrase: 'pulmonary edema' },
  { label: 'Consolidation', phrase: 'consolidation' },
  { label: 'Pneumonia', phrase: 'pneumonia' },
  { label: 'Atelectasis', phrase: 'atelectasis' },
  { label: 'Pneumothorax', phrase: 'pneumothorax' },
  { label: 'Pleural Effusion', phrase: 'pleural effusion' },
  { label: 'Pleural Other', phrase: 'pleural thickening' },
  { label: 'Fracture', phrase: 'fracture' },
  { label: 'Support Devices', phrase: 'support devices' },
]);

/**
 * 'No Finding' is a negation itself, so templates would produce 'no no finding';
 * its prompts are written out instead.
 */
const SPECIAL_PROMPTS: Record<string, PromptTemplates> = {
  'No Finding': {
    positive: ['no acute cardiopulmonary abnormality', 'normal chest radiograph', 'the lungs are clear'],
    negative: ['acute cardiopulmonary abnormality', 'abnormal chest radiograph', 'findings of acute disease'],
  },
};

/** Fills '{c}' in each template with the phrase. */
export function fillTemplates(templates: readonly string[], phrase: string): string[] {
  return templates.map((t) => t.split('{c}').join(phrase));
}

/**
 * Prompts for arbitrary labels (e.g. a phantom's findings, or your own dataset's).
 * `phrases` maps label → phrase; by default the phrase is the label lower-cased,
 * with '_' and '-' read as spaces.
 */
export function makeLabelPrompts(
  labels: readonly string[],
  options: { templates?: PromptTemplates; phrases?: Record<string, string> } = {},
): LabelPrompts[] {
  const templates = options.templates ?? DEFAULT_PROMPT_TEMPLATES;
  return labels.map((label) => {
    const special = options.phrases?.[label] === undefined ? SPECIAL_PROMPTS[label] : undefined;
    if (special) return { label, positive: [...special.positive], negative: [...special.negative] };
    const phrase = options.phrases?.[label] ?? label.toLowerCase().replace(/[_-]+/g, ' ').trim();
    return { label, positive: fillTemplates(templates.positive, phrase), negative: fillTemplates(templates.negative, phrase) };
  });
}

/** Prompts for the 14 CheXpert observations (or a subset, in the order given). */
export function chexpertPrompts(options: { labels?: readonly string[]; templates?: PromptTemplates } = {}): LabelPrompts[] {
  const phrases: Record<string, string> = {};
  for (const o of CHEXPERT_OBSERVATIONS) if (SPECIAL_PROMPTS[o.label] === undefined) phrases[o.label] = o.phrase;
  const labels = options.labels ?? CHEXPERT_OBSERVATIONS.map((o) => o.label);
  return makeLabelPrompts(labels, { templates: options.templates, phrases });
}
