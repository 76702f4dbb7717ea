/**
 * What to make of the labeler's uncertain and not-mentioned values before they serve as training
 * labels. A report that never mentions an observation says nothing about it, so "missing" is the
 * faithful default; CheXpert-style training often reads silence as negative instead, and without
 * that some observations have no negatives at all in a split.
 */
import { InvalidArgumentError } from '../../errors.js';
import { OBSERVATIONS, type LabelValue, type ReportLabels } from './observations.js';

/** Uncertain (-1): kept as -1, read as positive, as negative, or as missing. */
export type LabelerUncertainPolicy = 'keep' | 'ones' | 'zeros' | 'missing';
/** Not mentioned (null): kept missing, or read as negative (0). */
export type NotMentionedPolicy = 'missing' | 'negative';

export interface LabelerPolicy {
  uncertain?: LabelerUncertainPolicy;
  notMentioned?: NotMentionedPolicy;
}

export const LABELER_UNCERTAIN_POLICIES: readonly LabelerUncertainPolicy[] = ['keep', 'ones', 'zeros', 'missing'];
export const NOT_MENTIONED_POLICIES: readonly NotMentionedPolicy[] = ['missing', 'negative'];

/** The policy with its defaults (uncertain kept, not mentioned missing); an unknown name throws InvalidArgumentError. */
export function checkLabelerPolicy(policy: LabelerPolicy = {}): Required<LabelerPolicy> {
  const uncertain = policy.uncertain ?? 'keep';
  const notMentioned = policy.notMentioned ?? 'missing';
  if (!LABELER_UNCERTAIN_POLICIES.includes(uncertain)) {
    throw new InvalidArgumentError(`uncertain policy must be one of ${LABELER_UNCERTAIN_POLICIES.join(', ')}, got '${String(uncertain)}'`);
  }
  if (!NOT_MENTIONED_POLICIES.includes(notMentioned)) {
    throw new InvalidArgumentError(
      `not-mentioned policy must be one of ${NOT_MENTIONED_POLICIES.join(', ')}, got '${String(notMentioned)}'`,
    );
  }
  return { uncertain, notMentioned };
}

/**
 * The labels with the policies applied. A report with no labelable text ('No Finding' is null
 * only then) stays missing everywhere: there was nothing that could have mentioned anything.
 */
export function applyLabelerPolicy(labels: ReportLabels, policy: LabelerPolicy = {}): ReportLabels {
  const { uncertain, notMentioned } = checkLabelerPolicy(policy);
  const unlabelable = labels['No Finding'] === null;
  const out = { ...labels };
  for (const o of OBSERVATIONS) {
    let value: LabelValue = labels[o];
    if (value === null && notMentioned === 'negative' && !unlabelable) value = 0;
    if (value === -1) value = uncertain === 'ones' ? 1 : uncertain === 'zeros' ? 0 : uncertain === 'missing' ? null : -1;
    out[o] = value;
  }
  return out;
}
