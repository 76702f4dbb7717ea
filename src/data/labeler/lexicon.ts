/**
 * Mention lexicon: the phrases that name each observation in chest radiograph reports.
 *
 * Rules are regular-expression sources applied to the lower-cased sentence. They are
 * joined, in this order, into one alternation, so at any position the FIRST rule that
 * matches wins: specific phrases come before the generic words they contain
 * ("nodular opacity" before "opacity", "pericardial effusion" before "effusion").
 *
 * Rule fields:
 * - `observations`: what the phrase mentions; empty for exclusions, which only consume
 *   text so a generic rule cannot fire inside it ("pericardial effusion", "mass effect").
 * - `anchor: 'last'`: the phrase is "<organ> ... <adjective>" ("heart is not enlarged"),
 *   so negation/uncertainty cues are looked for before its LAST word, where a cue such as
 *   "not" inside the phrase applies. Default: the first word.
 * - `assert`: the phrase itself states the value ("heart size is normal" → negative,
 *   "borderline heart size" → uncertain); cue scopes are then not consulted.
 * - `negatedOnly`: the phrase only counts when negated ("no acute osseous abnormality"
 *   rules out a fracture, but "osseous abnormality" alone is not a fracture). The bare organs
 *   ("heart size", "mediastinum") are such mentions: "heart size and pulmonary vascularity are
 *   normal" rules out cardiomegaly, "the heart size is stable" says nothing.
 * - `hedged`: a sign rather than the finding itself; where it would be positive it is uncertain
 *   ("blunting of the costophrenic angle", "vascular congestion", as CheXpert labels them).
 * - `chf`: heart failure; when it is positive or uncertain, cardiomegaly is uncertain (CheXpert's rule).
 * - `other`: an abnormality outside the 13 findings ("emphysema", "calcified granuloma"): it
 *   labels nothing, but when positive or uncertain the report is not "No Finding".
 */
import type { MentionedObservation } from './observations.js';

export interface MentionRule {
  observations: MentionedObservation[];
  pattern: string;
  anchor?: 'first' | 'last';
  assert?: 'negative' | 'uncertain';
  negatedOnly?: boolean;
  hedged?: boolean;
  chf?: boolean;
  other?: boolean;
}

// Words that may sit between an organ and its adjective: "heart size is now mildly enlarged".
const LINK = String.raw`(?: (?:is|are|was|were|appears?|remains?|has|have|been|be|now|again|still|also|not|no longer|mildly|moderately|markedly|slightly|severely|minimally|stably|massively|significantly|somewhat|increasingly|more|less|size|in size))*`;
const HEART = String.raw`(?:heart|cardiac (?:silhouette|shadow|size|contours?|outline)|heart size|size of the heart)`;
// Laterality before an organ: "the right", "both". Bounded: a rule that starts with it is tried at
// every word of a run of such words, and an unbounded repeat would rescan the rest of the run each
// time (quadratic). Four is more than any report writes.
const MAX_SIDE_WORDS = 4;
const SIDE = String.raw`(?:(?:right|left|bilateral|both|the)\s+){0,${MAX_SIDE_WORDS}}`;
const NORMAL = String.raw`(?:normal(?: in size)?|within (?:the )?(?:normal limits|limits of normal)|unremarkable|normal size|of normal size)`;

const r = (observations: MentionedObservation[], pattern: string, extra: Partial<MentionRule> = {}): MentionRule => ({
  observations,
  pattern,
  ...extra,
});

export const MENTION_RULES: MentionRule[] = [
  // --- exclusions: look like mentions, are not ---
  r([], String.raw`(?:pericardial|joint|knee|subpulmonic pericardial) effusions?`),
  r([], String.raw`mass effect`),
  r([], String.raw`(?:soft[- ]tissue|subcutaneous|extremity|facial) edema`),
  r([], String.raw`(?:vertebral|vertebral body) collapse`),
  r([], String.raw`(?:bone|breast) densit(?:y|ies)`),

  // --- Enlarged Cardiomediastinum (and the heart within it) ---
  // A normal cardiomediastinal silhouette rules out both mediastinal and cardiac enlargement.
  r(
    ['Enlarged Cardiomediastinum', 'Cardiomegaly'],
    String.raw`(?:normal|unremarkable) cardiomediastinal (?:silhouette|contours?|size|shadow)`,
    { assert: 'negative' },
  ),
  r(
    ['Enlarged Cardiomediastinum', 'Cardiomegaly'],
    String.raw`cardiomediastinal (?:silhouette|contours?|size|shadow)(?: (?:is|are|appears?|remains?|again|otherwise))* ${NORMAL}`,
    { assert: 'negative' },
  ),
  r(
    ['Enlarged Cardiomediastinum'],
    String.raw`(?:normal|unremarkable) (?:mediastinal|hilar and mediastinal|mediastinal and hilar) (?:silhouette|contours?)`,
    { assert: 'negative' },
  ),
  r(
    ['Enlarged Cardiomediastinum'],
    String.raw`(?:mediastinal|hilar and mediastinal|mediastinal and hilar) (?:silhouette|contours?)(?: (?:is|are|appears?|remains?|otherwise))* ${NORMAL}`,
    { assert: 'negative' },
  ),
  // "widened mediastinum", "mediastinal widening", "enlarged cardiomediastinal silhouette".
  r(
    ['Enlarged Cardiomediastinum'],
    String.raw`(?:widened|widening of the|enlarged|enlargement of the|prominent|prominence of the) (?:superior )?(?:mediastinum|mediastinal (?:silhouette|contours?)|cardiomediastinal (?:silhouette|contours?|shadow))`,
  ),
  r(['Enlarged Cardiomediastinum'], String.raw`(?:mediastinal|cardiomediastinal) (?:widening|enlargement|prominence)`),
  r(
    ['Enlarged Cardiomediastinum'],
    String.raw`(?:mediastinum|mediastinal (?:silhouette|contours?)|cardiomediastinal (?:silhouette|contours?|shadow))${LINK} (?:widened|enlarged|prominent)`,
    { anchor: 'last' },
  ),

  // --- Cardiomegaly ---
  // Borderline or top-normal size is CheXpert's classic uncertain cardiomegaly.
  r(
    ['Cardiomegaly'],
    String.raw`(?:borderline|top[- ]normal|upper[- ]normal|high[- ]normal) (?:heart size|cardiac size|cardiomegaly|enlargement of the heart|cardiac enlargement|enlarged heart)`,
    { assert: 'uncertain' },
  ),
  r(
    ['Cardiomegaly'],
    String.raw`${HEART}(?: (?:is|are|appears?|remains?))* (?:borderline(?: enlarged| in size)?|(?:top|upper|high)[- ]normal|(?:at|within) the upper limits? of normal|(?:at |within )?upper limits? of normal|mildly prominent|prominent)`,
    { assert: 'uncertain' },
  ),
  r(['Cardiomegaly'], String.raw`normal (?:heart|cardiac) (?:size|silhouette|contours?)`, { assert: 'negative' }),
  r(['Cardiomegaly'], String.raw`${HEART}(?: (?:is|are|appears?|remains?|again|otherwise))* ${NORMAL}`, { assert: 'negative' }),
  r(
    ['Cardiomegaly'],
    String.raw`cardiomegaly|cardiac (?:enlargement|megaly)|enlarged (?:heart|cardiac (?:silhouette|shadow|contours?|size))|enlargement of the (?:heart|cardiac silhouette)`,
  ),
  r(['Cardiomegaly'], String.raw`${HEART}${LINK} (?:enlarged|increased|large)`, { anchor: 'last' }),

  // --- Pleural Effusion: fluid, or its sign, the blunted costophrenic angle ---
  r(['Pleural Effusion'], String.raw`(?:sharp|clear|normal|preserved) ${SIDE}costophrenic (?:angles?|sulc(?:us|i))`, {
    assert: 'negative',
  }),
  r(
    ['Pleural Effusion'],
    String.raw`${SIDE}costophrenic (?:angles?|sulc(?:us|i))(?: (?:is|are|remains?|appear|appears|again|otherwise))* (?:sharp|clear|preserved|normal)`,
    { assert: 'negative' },
  ),
  r(['Pleural Effusion'], String.raw`blunt(?:ing|ed) (?:of )?${SIDE}(?:costophrenic|cp) (?:angles?|sulc(?:us|i))`, { hedged: true }),
  r(['Pleural Effusion'], String.raw`${SIDE}(?:costophrenic|cp) (?:angles?|sulc(?:us|i))${LINK} blunt(?:ed|ing)`, {
    anchor: 'last',
    hedged: true,
  }),
  r(
    ['Pleural Effusion'],
    String.raw`(?:pleural )?effusions?|hydrothorax|hydrothoraces|pleural fluid|layering fluid|fluid in the (?:right |left )?(?:pleural space|fissure)|meniscus sign`,
  ),

  // --- Pleural Other ---
  r(
    ['Pleural Other'],
    String.raw`pleural (?:thickening|plaques?|scarring|calcifications?|fibrosis|reaction|abnormalit(?:y|ies))|pleural-parenchymal (?:scarring|thickening)|fibrothorax|apical (?:pleural )?(?:cap|capping|thickening)`,
  ),

  // --- Pneumothorax ---
  r(['Pneumothorax'], String.raw`(?:hydro)?pneumothora(?:x|ces)|ptx`),

  // --- Lung Lesion before Lung Opacity: "nodular opacity" is a lesion ---
  // Calcified granulomas and nodules are healed disease, not a lesion (CheXpert's unmention list).
  r(
    [],
    String.raw`calcified (?:granulomas?|nodules?|(?:hilar |mediastinal )?lymph nodes?)|granulomas?|granulomatous (?:disease|changes?|calcifications?)`,
    {
      other: true,
    },
  ),
  r(
    ['Lung Lesion'],
    String.raw`nodul(?:e|es|ar opacit(?:y|ies)|ar densit(?:y|ies)|arity)|masses|mass|lesions?|tumou?rs?|neoplasms?|neoplastic|malignan(?:cy|t)|carcinomas?|cancer|metasta(?:sis|ses|tic)`,
  ),

  // --- Consolidation before Lung Opacity: "consolidative opacity" is consolidation ---
  r(['Consolidation'], String.raw`consolidat(?:ion|ions|ive opacit(?:y|ies)|ive process|ive changes?|ed|ive)|air bronchograms?`),

  // --- Edema ---
  r(['Edema'], String.raw`(?:pulmonary |interstitial |alveolar |perihilar )?edema|kerley b lines|fluid overload`),
  r(['Edema'], String.raw`(?:congestive )?heart failure|chf`, { chf: true }),
  // Signs of raised venous pressure short of edema: CheXpert labels them uncertain edema.
  r(
    ['Edema'],
    String.raw`(?:pulmonary )?(?:vascular|venous) (?:congestion|engorgement|redistribution|hypertension|prominence|plethora)|pulmonary congestion|cephalization|(?:perihilar|vascular) indistinctness|indistinct(?:ness of the)? (?:pulmonary )?vascular(?:ity|ture)`,
    { hedged: true },
  ),
  r(['Edema'], String.raw`(?:pulmonary )?vascula(?:ture|rity)${LINK} (?:engorged|congested|indistinct|prominent|cephalized)`, {
    anchor: 'last',
    hedged: true,
  }),

  // --- Pneumonia ---
  r(['Pneumonia'], String.raw`(?:broncho)?pneumonias?|pneumonitis|infectious (?:process|etiology|cause)|infections?`),

  // --- Atelectasis ---
  r(['Atelectasis'], String.raw`atelecta(?:sis|ses|tic)|(?:lobar |segmental |subsegmental |lobe |lung )?collapse(?:d)?|volume loss`),

  // --- Lung Opacity (generic parenchymal density) ---
  // "The lungs are clear" rules out parenchymal opacity.
  r(
    ['Lung Opacity'],
    String.raw`(?:the )?lungs?(?: and (?:the )?pleural? (?:spaces|surfaces))?(?: (?:are|is|appear|appears|remain|remains|otherwise|now|again|well expanded and))* clear|clear lungs`,
    { assert: 'negative' },
  ),
  r(
    ['Lung Opacity'],
    String.raw`(?:air[- ]?space|alveolar) (?:disease|opacit(?:y|ies)|opacification|process)|opacit(?:y|ies)|opacification|opacified|infiltrat(?:e|es|ion|ive)|ground[- ]glass|haz(?:e|iness|y)|densit(?:y|ies)|reticul(?:ar|ation|onodular)|interstitial (?:markings|opacit(?:y|ies)|prominence|disease|lung disease|thickening|abnormality|changes?)|(?:parenchymal )?scar(?:s|ring)?|peribronchial (?:thickening|cuffing)|bronchial wall thickening`,
  ),

  // --- Fracture ---
  r(['Fracture'], String.raw`fractures?|fractured|fx`),
  r(['Fracture'], String.raw`(?:acute )?(?:osseous|bony|skeletal) (?:abnormalit(?:y|ies)|injur(?:y|ies)|findings?)`, { negatedOnly: true }),

  // --- Support Devices: lines, tubes, cardiac devices, surgical material ---
  r(
    ['Support Devices'],
    String.raw`(?:central|central venous|venous|picc|arterial|midline|jugular|ij|internal jugular|subclavian|femoral|swan[- ]ganz|dialysis|hemodialysis|pulmonary artery) (?:lines?|catheters?)|catheters?|picc|port[- ]a[- ]cath|portacath|mediport|(?:chest wall|infusion|venous access|power) port|port`,
  ),
  r(
    ['Support Devices'],
    String.raw`(?:endotracheal|et|tracheostomy|trach|chest|nasogastric|ng|orogastric|og|feeding|enteric|gastric|dobhoff|dobbhoff|thoracostomy|pleural|drainage) tubes?|ett|tracheostomy|pacemaker|pacer|aicd|icd|defibrillator|(?:pacemaker|pacer|icd|aicd|transvenous|epicardial) (?:leads?|wires?)|sternotomy(?: wires| sutures)?|sternal (?:wires|sutures|cerclage)|(?:surgical )?clips?|stents?|(?:prosthetic|mechanical) valves?|valve replacement|lvad|impella|intra-aortic balloon pump|iabp|drains?|(?:lines?|tubes?) (?:and|or) (?:lines?|tubes?)|(?:support|monitoring|medical) devices?`,
  ),

  // --- Other abnormalities: not one of the 13 findings, but not "No Finding" either ---
  r(
    [],
    String.raw`(?:subcutaneous )?emphysema(?:tous)?(?: changes)?|copd|chronic obstructive (?:pulmonary|lung|airways?) disease|hyperinfla(?:ted|tion)|hyperexpan(?:ded|sion)|hyperaerat(?:ed|ion)|bullae|bullous|bronchiectasis|scoliosis|kyphosis|kyphotic|(?:hiatal|hiatus) hernia|degenerative (?:changes?|disease)|spondylosis|osteophytes?|osteopenia|osteoporosis|demineraliz(?:ed|ation)|(?:aortic|vascular|arterial) calcifications?|atherosclero(?:sis|tic)|tortuous (?:thoracic )?aorta|tortuosity of the (?:thoracic )?aorta|(?:elevated|elevation of the) (?:right |left )?hemidiaphragm|eventration|pneumomediastinum|pneumoperitoneum|aspiration|inflammatory (?:process|changes?)|bronchitis|(?:reactive )?airways? disease|contusions?|hematomas?|(?:post-?surgical|post-?operative|surgical) changes?`,
    { other: true },
  ),

  // --- Bare organs: count only when negated ("the heart and mediastinum are normal") ---
  r(['Enlarged Cardiomediastinum', 'Cardiomegaly'], String.raw`cardiomediastinal (?:silhouette|contours?|shadow|size)`, {
    negatedOnly: true,
  }),
  r(['Enlarged Cardiomediastinum'], String.raw`mediastinum|mediastinal (?:silhouette|contours?|width|structures)`, { negatedOnly: true }),
  r(['Cardiomegaly'], String.raw`heart(?: size)?|cardiac (?:silhouette|size|shadow|contours?|outline)|size of the heart`, {
    negatedOnly: true,
  }),
];
