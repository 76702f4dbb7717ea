/**
 * Cues: the words around a mention that negate it, hedge it, mark it as history, or bound the
 * reach of other cues. scope.ts decides which cue reaches which mention; label.ts combines what
 * reaches a mention in CheXpert's order: pre-negation uncertainty ("cannot exclude"), then
 * negation, then post-negation uncertainty ("possible", "versus", a question).
 *
 * Cue kinds:
 * - `preNeg` / `postNeg` / `bothNeg`: negation before the mention ("no effusion"), after it
 *   ("effusion has resolved") or either way ("resolved effusion"). A negation before reaches to
 *   the clause's end so lists work ("no effusion, pneumothorax, or consolidation").
 * - `preUncStrong` / `postUncStrong`: uncertainty worded with a negation ("cannot exclude",
 *   "is not excluded"); it outranks negation, as CheXpert's pre-negation uncertainty rules do.
 * - `preUnc` / `postUnc` / `bothUnc`: hedges ("possible", "is suspected", "versus"). A hedge before
 *   a mention reaches a few words and stops at a comma: "possible small left effusion" but not the
 *   cardiomegaly later in the clause.
 * - `preHist` / `bothHist`: clinical history and requests ("history of", "rule out", "prior CT
 *   showed"; "had been implanted"): the mention is not a finding of this study and is dropped.
 * - `present`: "now", "new", "currently": the history before them is over ("history of CHF, now
 *   with edema").
 * - `normal` / `normalNear`: "are within normal limits", "appear normal": a negation that reaches
 *   back over its subject, which may be a coordination ("heart size and pulmonary vascularity are
 *   normal"); `normalNear` (a bare "normal") reaches only its own noun phrase. `preNormal`, an
 *   attributive "normal", negates the bare organs after it ("normal heart size and mediastinal
 *   contours") and nothing else ("normal position of the ET tube" keeps the tube).
 * - `continuation`: "to suggest": uncertain alone ("opacity to suggest pneumonia"), but it carries an
 *   earlier negation through ("no consolidation to suggest pneumonia").
 * - `pseudo`: look like negation but are not ("no change in the effusion", "near complete resolution
 *   of"); matched first so their words cannot act as cues.
 * - `terminator` / `existential`: end every scope: contrast ("but", "however"), relative clauses
 *   ("which"); "there is" opens a new claim.
 * - `assertion`: "is seen", "is present": end the backward reach of post-cues ("effusion is present and
 *   pneumothorax is not seen") but sit inside a negated clause ("no X is seen to suggest Y").
 * - `verb`: other verbs and predicate adjectives ("persists", "is stable"): a clause with its own verb
 *   is not the subject of a later normal statement.
 * - `coord` / `coordBreak`: "and", "or"; "and the" starts a new noun phrase: a negation before it does
 *   not reach past it ("no pneumothorax and the heart is enlarged"), nor does a normal statement
 *   after it reach back ("mild cardiomegaly and the lungs are clear").
 * - `uncTerminator`: end hedge and history scope ("possible pneumonia in the setting of edema").
 * Punctuation is handled by the matcher: ';' and ':' end every scope, ',' ends hedge, history and
 * post-cue scope, but not forward negation (lists).
 *
 * All cues are joined into one alternation in the order below: at one position the first
 * listed cue wins, so longer cues containing shorter ones come first ("cannot be excluded"
 * before "not", "there is no" before "there is", everything before the bare verbs).
 */

export type CueKind =
  | 'pseudo'
  | 'preNeg'
  | 'postNeg'
  | 'bothNeg'
  | 'preUncStrong'
  | 'postUncStrong'
  | 'preUnc'
  | 'postUnc'
  | 'bothUnc'
  | 'preHist'
  | 'bothHist'
  | 'present'
  | 'normal'
  | 'normalNear'
  | 'preNormal'
  | 'continuation'
  | 'terminator'
  | 'existential'
  | 'assertion'
  | 'verb'
  | 'coord'
  | 'coordBreak'
  | 'uncTerminator';

export interface CueRule {
  kind: CueKind;
  pattern: string;
}

const c = (kind: CueKind, pattern: string): CueRule => ({ kind, pattern });

const NORMAL_WORDS = String.raw`(?:normal|unremarkable|negative|within (?:the )?(?:normal limits|limits of normal|normal range))(?: (?:in|for) (?:size|caliber|contour|configuration|appearance|age))?`;
const COPULA = String.raw`(?:is|are|was|were|appears?|remains?|looks?|seems?)(?: (?:otherwise|again|still|now|stably|grossly|essentially|also|both|all))*`;

export const CUE_RULES: CueRule[] = [
  // Pseudo-negation: a change statement about a finding that is still present, or a partial resolution.
  c(
    'pseudo',
    String.raw`(?:no|without)(?: (?:significant|substantial|appreciable|definite|major|notable|interval|other))* (?:change|changes|increase|decrease|improvement|worsening|progression)(?: in| of)?`,
  ),
  c('pseudo', String.raw`not (?:significantly |substantially |markedly )?(?:changed|increased|decreased|improved|worsened)`),
  c(
    'pseudo',
    String.raw`(?:near|nearly|almost|partial|incomplete)[- ](?:complete |total )?resolution(?: of)?|(?:has |have )?(?:nearly|almost|partially|incompletely|not (?:completely|entirely|fully)) (?:completely )?(?:resolved|cleared)`,
  ),
  c('pseudo', String.raw`not only|gram[- ]negative|no longer (?:intubated)`),

  // Uncertainty worded with a negation: must precede the plain negations.
  c(
    'postUncStrong',
    String.raw`(?:cannot|can not|can't|could not|may not|not) (?:be )?(?:entirely |completely |totally |definitely |fully )?(?:excluded|ruled out|be excluded|be ruled out)`,
  ),
  c('postUncStrong', String.raw`(?:is|are|would be) (?:difficult|hard) to (?:exclude|rule out)|not (?:entirely |completely )?excluded`),
  c(
    'preUncStrong',
    String.raw`(?:cannot|can not|can't|could not|difficult to|unable to|hard to) (?:entirely |completely |definitely )?(?:exclude|rule out)|not (?:entirely |completely )?exclude|cannot exclude`,
  ),

  // History and requests: not a finding of this study.
  c(
    'preHist',
    String.raw`(?:(?:a|past|prior|previous|remote|known|clinical|medical|family) )?(?:history|hx) of|h/o|hx|pmh|(?:was |were |been )?(?:diagnosed|treated) (?:with|for)|underwent|had undergone|(?:study|exam|examination|radiograph|film|ct|scan|x-ray|images?)(?: (?:from|of|dated) [^\s,;:]+)? (?:which |that )?(?:showed|demonstrated|revealed|showing|demonstrating|revealing)|(?:to )?rule out|r/o|(?:please )?(?:evaluate|eval) for`,
  ),
  // "Has had" is the present perfect of this study's events ("has had interval placement of a chest tube").
  c('verb', String.raw`(?:has|have) had`),
  c('bothHist', String.raw`had been|had (?:a|an)|had|years ago|in the past|previously treated`),
  c('present', String.raw`now|currently|new|today|at this time|presents? with|presenting with`),

  // Hedges that continue a negation.
  c('continuation', String.raw`to (?:suggest|indicate|represent)|suggesting|indicating`),

  // Negation, before the clause's findings.
  c(
    'preNeg',
    String.raw`there (?:is|are|was|were) no(?: evidence of| signs? of)?|(?:no|without) (?:evidence|signs?|findings?|radiographic evidence|definite evidence|convincing evidence) (?:of|for|to suggest)`,
  ),
  c(
    'preNeg',
    String.raw`negative for|free of|absence of|resolution of|removal of|interval removal of|clear of|rather than|no longer|not|no|without|nor|neither|denies`,
  ),

  // Negation, after the finding.
  c(
    'postNeg',
    String.raw`(?:is|are|was|were|has been|have been)? ?(?:not|no longer) (?:seen|identified|visualized|visualised|appreciated|present|evident|visible|demonstrated|detected|noted|apparent)`,
  ),
  c(
    'postNeg',
    String.raw`(?:has|have) (?:since |completely |largely )?(?:resolved|cleared|disappeared)|(?:has|have) (?:since )?been removed|(?:is|are|was|were) (?:absent|resolved|gone|unlikely|excluded|ruled out)|removed|ruled out`,
  ),
  c('bothNeg', String.raw`resolved|unlikely|absent`),

  // A normal statement negates its subject.
  c('normal', String.raw`${COPULA} ${NORMAL_WORDS}|(?:(?:is|are) )?within (?:the )?(?:normal limits|limits of normal)|wnl`),
  // A bare "normal" as a predicate ("mediastinum normal.") reaches back; before a noun ("normal heart size and
  // mediastinal contours") it reaches forward, to bare organs only. "Upper normal" is borderline, not normal.
  c(
    'normalNear',
    String.raw`(?<!(?:upper|top|high|low|borderline)[- ])(?:normal|unremarkable)(?= *(?:[.,;:!?)]|$|and |but |with |in size|otherwise))`,
  ),
  c('preNormal', String.raw`(?<!(?:upper|top|high|low|borderline)[- ])(?:normal|unremarkable)`),

  // Uncertainty.
  c('bothUnc', String.raw`versus|vs\.?|or less likely|less likely|and/or|suspected`),
  c(
    'postUnc',
    // "Atelectasis is likely." hedges the subject; in "opacity is likely atelectasis" the hedge is the predicate's, so it only counts at the clause's end.
    String.raw`(?:is|are) (?:not excluded|possible|suspected|questioned|likely|probable|favored|obscured)(?= *(?:[.,;:!?)]|$|given |in |on |at |but |and |however))|(?:is|are) not well (?:seen|visualized|evaluated|assessed)|poorly (?:seen|visualized|evaluated|assessed)|(?:cannot|can not) be (?:assessed|evaluated)|(?:may|might|could) be present`,
  ),
  c(
    'preUnc',
    String.raw`differential (?:diagnosis )?(?:includes?|considerations? include)|(?:may|might|could) (?:represent|reflect|be due to|indicate|be|signify|relate to|correspond to|include)|(?:suggestive|suspicious|concerning|worrisome|questionable) (?:of|for)|(?:concern|question) (?:of|for)|(?:to exclude|assess for|assessment for|evaluation for|evaluation of)|(?:correlate|correlation)(?: clinically)? (?:for|to exclude)|clinical correlation for`,
  ),
  c(
    'preUnc',
    String.raw`possibl[ey]|probabl[ey]|likely|presumed|presumably|suspected|suspect|suggests?|questionable|question|equivocal|indeterminate|borderline|apparent|potential(?:ly)?|vague|may|might|could`,
  ),

  // Scope ends.
  c(
    'terminator',
    String.raw`but|however|although|though|except|aside from|apart from|other than|which|whereas|while|yet|(?:which|that) (?:is|are)|following|after|status post|s/p`,
  ),
  c('existential', String.raw`there (?:is|are|has been|have been|was|were)`),
  c('assertion', String.raw`(?:is|are) (?:seen|noted|present|identified|demonstrated|again seen)`),
  c('uncTerminator', String.raw`with|in the setting of|due to|secondary to|related to|as well as|in addition`),

  // Clause structure.
  c('coordBreak', String.raw`(?:and|or) (?:the|a|an|his|her)`),
  c('coord', String.raw`and|or|&`),
  c(
    'verb',
    String.raw`is|are|was|were|be|been|has|have|appears?|remains?|persists?|measures?|projects?|terminates?|extends?|overlies|overlie|shows?|demonstrates?|seen|noted|stable|unchanged|increased|decreased|improved|worsened|enlarging|increasing|decreasing`,
  ),
];
