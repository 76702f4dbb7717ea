/**
 * NegEx-style cues: words that negate a mention, make it uncertain, or end a cue's scope.
 *
 * Cue kinds:
 * - `preNeg` / `preUnc`: apply FORWARD to mentions after them ("no effusion", "possible nodule").
 *   Negation scope runs to the clause's end so lists work ("no effusion, pneumothorax, or
 *   consolidation"); uncertainty scope is limited to a few words, because hedges bind
 *   tightly ("possible small left effusion" but not the cardiomegaly at the end of the clause).
 * - `postNeg` / `postUnc`: apply BACKWARD to mentions before them, within the clause and
 *   never across a comma ("effusion has resolved", "pneumonia cannot be excluded").
 * - `bothNeg`: negations that read either way ("resolved effusion", "effusion has resolved").
 * - `bothUnc`: alternatives ("atelectasis versus pneumonia") make both sides uncertain.
 * - `continuation`: "to suggest", "to indicate": uncertain on their own ("opacity to suggest
 *   pneumonia"), but they carry an earlier negation through ("no consolidation to suggest pneumonia").
 * - `pseudo`: look like negation but are not ("no change in the effusion" keeps the effusion
 *   positive); they are matched first so their words cannot act as cues.
 * - `terminator`: end every scope: contrast ("but", "however"), relative clauses ("which"),
 *   semicolons, and "there is", which opens a new claim.
 * - `assertion`: "is seen", "is present": end the backward reach of post-cues ("effusion is present
 *   and pneumothorax is not seen") but sit inside a negated clause ("no X is seen to suggest Y").
 * - `uncTerminator`: end uncertainty scope only ("possible pneumonia in the setting of edema").
 * Punctuation is handled by the matcher: ';' and ':' end every scope, ',' ends uncertainty
 * scope and backward (post-cue) scope, but not forward negation (lists).
 *
 * All cues are joined into one alternation in the order below: at one position the first
 * listed cue wins, so longer cues containing shorter ones come first ("cannot be excluded"
 * before "not", "there is no" before "there is").
 */

export type CueKind =
  | 'pseudo'
  | 'preNeg'
  | 'postNeg'
  | 'bothNeg'
  | 'preUnc'
  | 'postUnc'
  | 'bothUnc'
  | 'continuation'
  | 'terminator'
  | 'assertion'
  | 'uncTerminator';

export interface CueRule {
  kind: CueKind;
  pattern: string;
}

const c = (kind: CueKind, pattern: string): CueRule => ({ kind, pattern });

export const CUE_RULES: CueRule[] = [
  // Pseudo-negation: a change statement about a finding that is still present.
  c(
    'pseudo',
    String.raw`(?:no|without)(?: (?:significant|substantial|appreciable|definite|major|notable|interval|other))* (?:change|changes|increase|decrease|improvement|worsening|progression)(?: in| of)?`,
  ),
  c('pseudo', String.raw`not (?:significantly |substantially |markedly )?(?:changed|increased|decreased|improved|worsened)`),
  c('pseudo', String.raw`not only|gram[- ]negative|no longer (?:intubated)`),

  // Uncertainty that contains negation words: must precede the plain negations.
  c(
    'postUnc',
    String.raw`(?:cannot|can not|can't|could not|may not|not) (?:be )?(?:entirely |completely |totally |definitely |fully )?(?:excluded|ruled out|be excluded|be ruled out)`,
  ),
  c('postUnc', String.raw`(?:is|are|would be) (?:difficult|hard) to (?:exclude|rule out)|not (?:entirely |completely )?excluded`),
  c(
    'preUnc',
    String.raw`(?:cannot|can not|can't|could not|difficult to|unable to|hard to) (?:entirely |completely |definitely )?(?:exclude|rule out)|not (?:entirely |completely )?exclude`,
  ),

  // Hedges that continue a negation.
  c('continuation', String.raw`to (?:suggest|indicate|represent)|suggesting|indicating`),

  // Negation, before the clause's findings.
  c(
    'preNeg',
    String.raw`there (?:is|are|was|were) no(?: evidence of| signs? of)?|(?:no|without) (?:evidence|signs?|findings?|radiographic evidence|definite evidence|convincing evidence) (?:of|for|to suggest)`,
  ),
  c(
    'preNeg',
    String.raw`negative for|free of|absence of|resolution of|removal of|interval removal of|clear of|rather than|no longer|not|no|without|nor|neither|less likely|denies`,
  ),

  // Negation, after the finding.
  c(
    'postNeg',
    String.raw`(?:is|are|was|were|has been|have been)? ?(?:not|no longer) (?:seen|identified|visualized|visualised|appreciated|present|evident|visible|demonstrated|detected|noted|apparent)`,
  ),
  c(
    'postNeg',
    String.raw`(?:has|have) (?:since |nearly |almost |completely |largely )?(?:resolved|cleared|disappeared)|(?:has|have) been removed|(?:is|are|was|were) (?:absent|resolved|gone|unlikely|excluded|ruled out)|removed|ruled out`,
  ),
  c('bothNeg', String.raw`resolved|unlikely|absent`),

  // Uncertainty.
  c('bothUnc', String.raw`versus|vs\.?|or less likely`),
  c(
    'postUnc',
    String.raw`(?:is|are) (?:not excluded|possible|suspected|questioned|likely|probable|favored)|(?:cannot|can not) be (?:assessed|evaluated)|(?:may|might|could) be present|suspected`,
  ),
  c(
    'preUnc',
    String.raw`differential (?:diagnosis )?(?:includes?|considerations? include)|(?:may|might|could) (?:represent|reflect|be due to|indicate|be|signify|relate to|correspond to|include)|(?:suggestive|suspicious|concerning|worrisome|questionable) (?:of|for)|(?:concern|question) (?:of|for)|(?:rule out|r/o|to exclude|evaluate for|eval for|evaluation for|assess for|assessment for)`,
  ),
  c(
    'preUnc',
    String.raw`possibl[ey]|probabl[ey]|likely|presumed|presumably|suspected|suspect|suggests?|questionable|equivocal|indeterminate|borderline|apparent|potential(?:ly)?|vague|cannot exclude|may|might|could`,
  ),

  // Scope ends.
  c(
    'terminator',
    String.raw`but|however|although|though|except|aside from|apart from|other than|which|whereas|while|yet|there (?:is|are|has been|have been)|(?:which|that) (?:is|are)|following|after|status post|s/p`,
  ),
  c('assertion', String.raw`(?:is|are) (?:seen|noted|present|identified|demonstrated|again seen)`),
  c('uncTerminator', String.raw`with|in the setting of|due to|secondary to|related to|as well as|in addition`),
];
