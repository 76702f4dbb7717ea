/**
 * Text that is not a finding of this study: the indication, history, comparison and technique
 * sections, and, in reports without headers, the sentences that do their job ("65-year-old man
 * with cough.", "Evaluate for pneumonia.", "Comparison is made to the prior study."). An indexer
 * codes what the study shows; the question asked of it and the patient's past are not findings.
 *
 * History inside a findings sentence ("history of lung cancer", "a stent had been implanted") is
 * handled per mention by the history cues (cues.ts), so that "history of CHF, now with edema"
 * keeps its edema.
 */

/** Canonical sections whose sentences are not findings. */
export const UNLABELED_SECTIONS: ReadonlySet<string> = new Set(['indication', 'comparison', 'technique']);

/**
 * Section names, canonical or not, that hold the clinical question, history, comparison or technique.
 * parseReport names an unknown all-caps header in snake case ("CLINICAL INDICATIONS:" →
 * `clinical_indications`, "REASON FOR STUDY/HISTORY:" → `reason_for_study_history`).
 */
const UNLABELED_SECTION_WORDS =
  /(?:^|_)(?:indications?|history|histories|hx|reason|reasons|question|comparisons?|technique|techniques|procedure|protocol)(?:_|$)/;

export function isUnlabeledSection(section: string): boolean {
  return UNLABELED_SECTIONS.has(section) || UNLABELED_SECTION_WORDS.test(section);
}

/**
 * A sentence (lower-cased) that states the clinical context rather than a finding. Anchored at the
 * sentence's start and bounded, so it costs O(1) per sentence:
 * - the patient's age and sex: "65-year-old man ...", "___ year old ...", "72 yo f ...";
 * - the question: "indication ...", "reason for exam ...", "evaluate for ...", "rule out ...", "r/o ...";
 * - the patient's presentation: "patient is a ...", "patient presents with ...", "patient with a history of ...";
 * - the comparison: "comparison is made to ...", "comparison: ...".
 */
const CONTEXT_SENTENCE = new RegExp(
  [
    String.raw`^(?:an? )?(?:\d{1,3}|x{2,4}|_{1,4})[- ]?(?:years?|yrs?|y)[- ]?(?:old|o)(?![a-z])`,
    String.raw`^\d{1,3} ?(?:yo|y/o|y\.o\.?)(?![a-z])`,
    String.raw`^(?:clinical )?(?:indications?|reason for (?:exam|examination|study|referral)|clinical (?:history|information|question|details))(?![a-z])`,
    String.raw`^(?:please )?(?:evaluate|eval|assess|rule out|r/o) `,
    String.raw`^(?:the )?(?:patient|pt)(?: is an?| presents| presented| presenting| with (?:a )?(?:history|hx|h/o|known|prior|previous|recent)| has (?:a )?(?:history|hx)| underwent| was (?:diagnosed|treated|admitted))(?![a-z])`,
    String.raw`^comparisons?(?: (?:is|was) made|\s*:)`,
  ].join('|'),
);

export function isContextSentence(lowerCased: string): boolean {
  return CONTEXT_SENTENCE.test(lowerCased);
}
