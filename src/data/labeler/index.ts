export { OBSERVATIONS, emptyLabels, type Observation, type LabelValue, type ReportLabels, type MentionedObservation } from './observations.js';
export { labelReport, labelSentence, UNLABELED_SECTIONS } from './label.js';
export { MENTION_RULES, type MentionRule } from './lexicon.js';
export { CUE_RULES, type CueRule, type CueKind } from './cues.js';
