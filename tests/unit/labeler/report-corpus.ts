/**
 * A deterministic corpus of report-like texts for the label-identity test: clinical sentences
 * built from phrase banks (mentions, negations, hedges, lists, scope ends, pseudo-negations),
 * arranged into reports with the header, enumeration, wrapping and case styles seen in the
 * wild, plus scrambled report vocabulary. It depends on nothing but `Rng`, so its texts only
 * change when this file does.
 */
import { Rng } from '../../../src/random/index.js';

const FINDINGS = [
  'pleural effusion',
  'effusion',
  'pneumothorax',
  'atelectasis',
  'consolidation',
  'focal consolidation',
  'nodule',
  'mass',
  'pulmonary edema',
  'vascular congestion',
  'pneumonia',
  'opacity',
  'airspace opacity',
  'cardiomegaly',
  'rib fracture',
  'pleural thickening',
  'widened mediastinum',
  'infiltrate',
  'granuloma',
  'volume loss',
  'collapse',
  'hydropneumothorax',
];
const DEVICES = [
  'endotracheal tube',
  'ET tube',
  'nasogastric tube',
  'right IJ central line',
  'PICC',
  'pacemaker',
  'chest tube',
  'sternotomy wires',
];
const WHERE = [
  '',
  'left ',
  'right ',
  'bilateral ',
  'small ',
  'moderate ',
  'large ',
  'small left ',
  'trace right ',
  'right lower lobe ',
  'left basilar ',
];
const PRE_NEG = [
  'No',
  'There is no',
  'No evidence of',
  'Without',
  'Negative for',
  'Free of',
  'No definite',
  'Resolution of',
  'Interval removal of',
];
const POST_NEG = [
  'is not seen',
  'has resolved',
  'is no longer visualized',
  'is absent',
  'is not identified',
  'has been removed',
  'unlikely',
];
const PRE_UNC = [
  'Possible',
  'Probable',
  'Questionable',
  'Cannot exclude',
  'Suspicious for',
  'May represent',
  'Concerning for',
  'Likely',
  'Evaluate for',
];
const POST_UNC = ['cannot be excluded', 'is not excluded', 'is possible', 'is suspected', 'may be present'];
const PSEUDO = ['No change in the', 'No significant change in', 'Not significantly changed', 'No interval change in the'];
const ASSERTED = [
  'The heart is mildly enlarged.',
  'Heart size is normal.',
  'The heart is not enlarged.',
  'Normal cardiomediastinal silhouette.',
  'The lungs are clear.',
  'Lungs are well expanded and clear.',
  'The costophrenic angles are sharp.',
  'Borderline heart size.',
  'The cardiac silhouette is top normal.',
  'Blunting of the right costophrenic angle.',
  'The left costophrenic angle is blunted.',
  'No acute osseous abnormality.',
  'Small pericardial effusion.',
  'No mass effect.',
  'Soft tissue edema.',
  'No acute cardiopulmonary process.',
  'The mediastinal contours are normal.',
  'Dr. J. Smith was notified at 3 p.m. today.',
  'A 2.5 cm nodule, approx. 3 mm larger vs. prior.',
];
const JOIN = [
  ' but ',
  ' however ',
  ' with ',
  ' and ',
  ', ',
  '; ',
  ' which is ',
  ' to suggest ',
  ' versus ',
  ' in the setting of ',
  ' although ',
  ' status post ',
];
const HEADERS = [
  'FINDINGS:',
  'IMPRESSION:',
  'INDICATION:',
  'COMPARISON:',
  'TECHNIQUE:',
  'HISTORY:',
  'Findings:',
  'Impression',
  'WET READ:',
  'CONCLUSION:',
];
const SCRAMBLE = [
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
  'there',
  'resolved',
  'seen',
  'likely',
];

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const finding = (rng: Rng): string => `${rng.pick(WHERE)}${rng.pick(FINDINGS)}`;
const list = (rng: Rng, n: number): string => {
  const items = Array.from({ length: n }, () => finding(rng));
  return n === 1
    ? (items[0] as string)
    : `${items.slice(0, -1).join(', ')}${rng.chance(0.5) ? ',' : ''} ${rng.pick(['or', 'and'])} ${items[n - 1]}`;
};

function clause(rng: Rng): string {
  switch (rng.int(9)) {
    case 0:
      return `${rng.pick(PRE_NEG)} ${list(rng, rng.intBetween(1, 6))}`;
    case 1:
      return `${cap(finding(rng))} ${rng.pick(POST_NEG)}`;
    case 2:
      return `${rng.pick(PRE_UNC)} ${finding(rng)}`;
    case 3:
      return `${cap(finding(rng))} ${rng.pick(POST_UNC)}`;
    case 4:
      return `${rng.pick(PSEUDO)} ${finding(rng)}`;
    case 5:
      return `${cap(rng.pick(DEVICES))} ${rng.pick(['in place', 'terminates in the SVC', 'tip above the carina', 'has been removed', 'is not visualized'])}`;
    case 6:
      return `There is ${finding(rng)}`;
    case 7:
      return `${cap(finding(rng))}${rng.pick([' versus ', ', possibly ', ' likely reflecting '])}${finding(rng)}`;
    default:
      return cap(finding(rng));
  }
}

function sentence(rng: Rng): string {
  if (rng.chance(0.2)) return rng.pick(ASSERTED);
  let text = clause(rng);
  const joins = rng.chance(0.5) ? 0 : rng.intBetween(1, 3);
  for (let j = 0; j < joins; j++) {
    const next = clause(rng);
    text += rng.pick(JOIN) + next.charAt(0).toLowerCase() + next.slice(1);
  }
  return `${text}${rng.pick(['.', '.', '.', '', '?', '!'])}`;
}

function wrap(text: string, column: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > column) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function report(rng: Rng): string {
  if (rng.chance(0.15)) return Array.from({ length: rng.intBetween(0, 80) }, () => rng.pick(SCRAMBLE)).join(' ');
  const sections: string[] = [];
  for (let s = rng.intBetween(1, 4); s > 0; s--) {
    const sentences = Array.from({ length: rng.intBetween(1, 6) }, () => sentence(rng));
    const body = rng.chance(0.25)
      ? sentences.map((x, i) => `${i + 1}${rng.pick(['.', ')'])} ${x}`).join(rng.pick([' ', '\n']))
      : sentences.join(' ');
    const header = rng.chance(0.2) ? '' : `${rng.pick(HEADERS)}${rng.pick([' ', '\n', '\n\n'])}`;
    sections.push(header + (rng.chance(0.3) ? wrap(body, rng.intBetween(30, 80)) : body));
  }
  const text = sections.join(rng.pick(['\n', '\n\n', ' ', '\r\n']));
  return rng.chance(0.1) ? text.toLowerCase() : rng.chance(0.05) ? text.toUpperCase() : text;
}

/** The corpus: `count` texts, the same on every run. */
export function reportCorpus(count: number): string[] {
  return Array.from({ length: count }, (_, i) => report(new Rng(20261206, 'label-identity', i)));
}
