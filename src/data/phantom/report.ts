/**
 * Writes a FINDINGS/IMPRESSION report for a phantom study from its ground truth,
 * the way radiologists vary their wording: synonyms, pertinent negatives, hedged
 * (uncertain) statements for subtle findings, normal boilerplate, and omissions
 * (most negatives go unsaid; a small fraction of subtle positives are missed).
 *
 * Alongside the text it returns what the report STATES per observation (1, 0, -1 or
 * null), so tests can separate labeler errors from deliberate report omissions.
 * The latent frailty and the prognostic outcome are never written. Site B's reports have their
 * own habits: title-case headings, "Negative for ...", the abbreviation PTX.
 */
import { Rng } from '../../random/index.js';
import { centralLineRoute, type PhantomStudy, type Side, type Zone } from './truth.js';

export const PHANTOM_OBSERVATIONS = [
  'Cardiomegaly',
  'Pleural Effusion',
  'Pneumothorax',
  'Lung Lesion',
  'Consolidation',
  'Support Devices',
] as const;
export type PhantomObservation = (typeof PHANTOM_OBSERVATIONS)[number];
export type StatedLabels = Record<PhantomObservation | 'No Finding', 1 | 0 | -1 | null>;

export interface PhantomReport {
  text: string;
  stated: StatedLabels;
}

/** Rate at which a subtle positive finding goes unreported. */
const MISS_RATE = 0.015;

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const zoneWords = (zone: Zone, side: Side, rng: Rng): string => {
  if (rng.chance(0.5)) return `${side} ${zone} lung`;
  if (zone === 'mid') return side === 'right' ? 'right middle lobe' : 'lingula';
  return `${side} ${zone} lobe`;
};

class ReportBuilder {
  readonly findings: string[] = [];
  readonly impression: string[] = [];
  readonly stated: StatedLabels = {
    'No Finding': null,
    Cardiomegaly: null,
    'Pleural Effusion': null,
    Pneumothorax: null,
    'Lung Lesion': null,
    Consolidation: null,
    'Support Devices': null,
  };
  /** Negatives to fold into one list sentence ("No effusion or pneumothorax."). */
  readonly negatives: Array<[PhantomObservation, string]> = [];

  state(observation: PhantomObservation, value: 1 | 0 | -1): void {
    const rank = (v: 1 | 0 | -1 | null): number => (v === null ? 0 : v === 0 ? 1 : v === -1 ? 2 : 3);
    if (rank(value) > rank(this.stated[observation])) this.stated[observation] = value;
  }
}

function cardiac(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const ctr = study.findings.cardiothoracicRatio;
  if (study.findings.cardiomegaly) {
    if (ctr < 0.54 && rng.chance(0.6)) {
      b.findings.push(
        rng.pick([
          'Borderline heart size.',
          'The heart size is top normal.',
          'Heart size is at the upper limits of normal.',
          'Borderline cardiomegaly.',
        ]),
      );
      b.state('Cardiomegaly', -1);
      return;
    }
    if (ctr < 0.54 && rng.chance(MISS_RATE)) return;
    const degree = ctr < 0.58 ? 'mild' : ctr < 0.63 ? 'moderate' : 'marked';
    const adverb = degree === 'mild' ? 'mildly' : degree === 'moderate' ? 'moderately' : 'markedly';
    const options = [
      `${cap(degree)} cardiomegaly.`,
      `The heart is ${adverb} enlarged.`,
      `Heart size is ${adverb} enlarged.`,
      'Enlarged cardiac silhouette.',
      'The cardiac silhouette is enlarged.',
      'There is cardiomegaly.',
    ];
    // Follow-up studies of a patient with a chronically large heart compare with the prior.
    if (study.studyIndex > 0 && study.patient.chronicCardiomegaly) {
      options.push(
        'Stable cardiomegaly.',
        `${cap(degree)} cardiomegaly is unchanged.`,
        `No change in the ${degree} enlargement of the cardiac silhouette.`,
      );
    }
    b.findings.push(rng.pick(options));
    if (rng.chance(0.7)) b.impression.push(rng.pick(['Cardiomegaly.', `${cap(degree)} cardiomegaly.`, 'Enlarged heart.']));
    b.state('Cardiomegaly', 1);
  } else if (rng.chance(0.65)) {
    b.findings.push(
      rng.pick([
        'Heart size is normal.',
        'The heart is normal in size.',
        'Normal heart size.',
        'The cardiac silhouette is within normal limits.',
        'Normal cardiomediastinal silhouette.',
        'The cardiomediastinal silhouette is unremarkable.',
        'The heart is not enlarged.',
      ]),
    );
    b.state('Cardiomegaly', 0);
  }
}

function effusion(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const e = study.findings.effusion;
  if (!e) {
    if (rng.chance(0.3)) b.negatives.push(['Pleural Effusion', rng.pick(['pleural effusion', 'effusion', 'pleural effusions'])]);
    else if (rng.chance(0.12)) {
      b.findings.push('The costophrenic angles are sharp.');
      b.state('Pleural Effusion', 0);
    }
    return;
  }
  const bilateral = e.side === 'bilateral';
  const size = e.size === 'small' ? rng.pick(['small', 'small', 'trace', 'minimal']) : e.size;
  const where = bilateral ? 'bilateral' : e.side;
  if (e.size === 'small' && !bilateral && rng.chance(0.35)) {
    b.findings.push(
      rng.pick([
        `Possible small ${where} pleural effusion.`,
        `Trace ${where} pleural effusion is not excluded.`,
        `Questionable small ${where} effusion.`,
        `A small ${where} effusion cannot be excluded.`,
      ]),
    );
    b.state('Pleural Effusion', -1);
    return;
  }
  if (e.size === 'small' && rng.chance(MISS_RATE)) return;
  const noun = bilateral ? rng.pick(['pleural effusions', 'effusions']) : rng.pick(['pleural effusion', 'effusion']);
  const options = [
    `${cap(size)} ${where} ${noun}.`,
    `There ${bilateral ? 'are' : 'is a'} ${size} ${where} ${noun}.`,
    `${cap(size)} amount of ${where} pleural fluid.`,
    `${cap(where)} ${noun}, ${size}.`,
  ];
  if (e.size === 'small' && !bilateral) options.push(`Blunting of the ${where} costophrenic angle, consistent with a small effusion.`);
  if (e.size !== 'small') options.push(`${cap(size)} ${where} ${noun} with a meniscus along the lateral chest wall.`);
  b.findings.push(rng.pick(options));
  if (rng.chance(0.8)) b.impression.push(`${cap(size)} ${where} pleural ${bilateral ? 'effusions' : 'effusion'}.`);
  b.state('Pleural Effusion', 1);
}

function pneumothorax(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const p = study.findings.pneumothorax;
  // site B's radiologists abbreviate
  const abbreviated = study.acquisition.site === 'B' && rng.chance(0.4);
  if (!p) {
    if (rng.chance(0.6)) b.negatives.push(['Pneumothorax', abbreviated ? 'PTX' : 'pneumothorax']);
    return;
  }
  const where = p.size === 'small' ? `${p.side} apical` : p.side;
  if (abbreviated) {
    b.findings.push(`${cap(p.size)} ${where} PTX.`);
    b.impression.push(`${cap(p.side)} PTX.`);
    b.state('Pneumothorax', 1);
    return;
  }
  b.findings.push(
    rng.pick([
      `${cap(p.size)} ${where} pneumothorax.`,
      `There is a ${p.size} ${where} pneumothorax with a visible visceral pleural line.`,
      `${cap(p.size)} ${where} pneumothorax without lung markings lateral to the pleural line.`,
      `A ${p.size} ${where} pneumothorax is present.`,
      `${cap(where)} pneumothorax, ${p.size} in size.`,
    ]),
  );
  b.impression.push(`${cap(p.size)} ${p.side} pneumothorax.`);
  b.state('Pneumothorax', 1);
}

function lesion(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const l = study.findings.lesion;
  if (!l) {
    if (rng.chance(0.2)) b.negatives.push(['Lung Lesion', rng.pick(['pulmonary nodules or masses', 'focal nodule'])]);
    return;
  }
  const where = zoneWords(l.zone, l.side, rng);
  const size = `${l.diameterCm.toFixed(1)} cm`;
  if (l.kind === 'nodule' && l.diameterCm < 1.2) {
    if (rng.chance(0.5)) {
      b.findings.push(rng.pick([`Possible ${size} nodule in the ${where}.`, `Questionable small nodular density in the ${where}.`]));
      b.state('Lung Lesion', -1);
      return;
    }
    if (rng.chance(MISS_RATE)) return;
  }
  if (l.kind === 'nodule') {
    b.findings.push(
      rng.pick([
        `${size} nodule in the ${where}.`,
        `There is a ${size} nodule in the ${where}.`,
        `Rounded ${size} nodular opacity projecting over the ${where}.`,
      ]),
    );
    b.impression.push(rng.pick([`${cap(where)} nodule. Recommend chest CT.`, `${size} ${where} nodule.`]));
  } else {
    b.findings.push(
      rng.pick([`${size} mass in the ${where}.`, `Large ${where} mass measuring ${size}.`, `Lobulated ${size} mass in the ${where}.`]),
    );
    b.impression.push(`${cap(where)} mass, ${size}. Recommend CT for further characterization.`);
  }
  b.state('Lung Lesion', 1);
}

function consolidation(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const c = study.findings.consolidation;
  if (!c) {
    if (rng.chance(0.45))
      b.negatives.push(['Consolidation', rng.pick(['focal consolidation', 'consolidation', 'focal airspace consolidation'])]);
    return;
  }
  const where = zoneWords(c.zone, c.side, rng);
  if (c.extent < 0.75 && rng.chance(0.4)) {
    b.findings.push(
      rng.pick([
        `Hazy opacity in the ${where} may represent early consolidation.`,
        `Patchy opacity in the ${where}, possibly consolidation.`,
        `Subtle ${where} opacity; consolidation cannot be excluded.`,
      ]),
    );
    b.state('Consolidation', -1);
    return;
  }
  b.findings.push(
    rng.pick([
      `Focal consolidation in the ${where}.`,
      `${cap(where)} consolidation.`,
      `Patchy consolidative opacity in the ${where}.`,
      `Airspace consolidation in the ${where}.`,
    ]),
  );
  b.impression.push(
    rng.pick([`${cap(where)} consolidation, concerning for pneumonia.`, `${cap(where)} pneumonia.`, `${cap(where)} consolidation.`]),
  );
  b.state('Consolidation', 1);
}

function devices(b: ReportBuilder, study: PhantomStudy, rng: Rng): void {
  const list = study.findings.devices;
  if (list.length === 0) {
    if (rng.chance(0.04)) {
      b.findings.push('No support devices.');
      b.state('Support Devices', 0);
    }
    return;
  }
  const sentences: string[] = [];
  for (const device of list) {
    switch (device) {
      case 'endotracheal_tube':
        sentences.push(
          rng.pick([
            'Endotracheal tube terminates 4 cm above the carina.',
            'ET tube in standard position above the carina.',
            'The endotracheal tube tip is above the carina.',
          ]),
        );
        break;
      case 'central_line':
        sentences.push(
          centralLineRoute(study) === 'jugular'
            ? rng.pick([
                'Right internal jugular central venous catheter with tip in the SVC.',
                'Right IJ central line terminates in the SVC.',
              ])
            : rng.pick([
                'Right subclavian central venous catheter terminates in the SVC.',
                'Right subclavian catheter tip in the low SVC.',
              ]),
        );
        break;
      case 'enteric_tube':
        sentences.push(rng.pick(['Enteric tube courses below the diaphragm into the stomach.', 'Nasogastric tube tip is in the stomach.']));
        break;
      case 'pacemaker':
        sentences.push(
          rng.pick([
            'Left chest wall pacemaker with leads in the right atrium and right ventricle.',
            'Left-sided dual-lead pacemaker is in place.',
          ]),
        );
        break;
    }
  }
  b.findings.unshift(...sentences);
  if (rng.chance(0.4)) b.impression.push(rng.pick(['Support devices as described.', 'Lines and tubes in satisfactory position.']));
  b.state('Support Devices', 1);
}

function listSentence(items: string[], rng: Rng, site: string): string {
  const first = items[0] as string;
  const extra = site === 'B' ? ['Negative for'] : [];
  if (items.length === 1)
    return `${rng.pick(['No', first.endsWith('s') ? 'There are no' : 'There is no', 'No evidence of', ...extra])} ${first}.`;
  const head = items.slice(0, -1).join(', ');
  return `${rng.pick(['No', 'No evidence of', ...extra])} ${head}${items.length > 2 ? ',' : ''} or ${items[items.length - 1]}.`;
}

/** Wraps text at a column, as dictation systems do. */
function wrap(text: string, column: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > column) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export function generateReport(study: PhantomStudy, seed: number): PhantomReport {
  const rng = new Rng(seed, 'report', study.patient.index, study.studyIndex);
  const b = new ReportBuilder();
  devices(b, study, rng);
  const lungClear = !study.findings.consolidation && !study.findings.lesion && !study.findings.pneumothorax;
  if (lungClear && rng.chance(0.5)) b.findings.push(rng.pick(['The lungs are clear.', 'Lungs are well expanded and clear.']));
  consolidation(b, study, rng);
  lesion(b, study, rng);
  effusion(b, study, rng);
  pneumothorax(b, study, rng);
  if (b.negatives.length > 0) {
    const shuffled = rng.shuffled(b.negatives);
    b.findings.push(
      listSentence(
        shuffled.map(([, words]) => words),
        rng,
        study.acquisition.site,
      ),
    );
    for (const [observation] of shuffled) b.state(observation, 0);
  }
  cardiac(b, study, rng);
  if (rng.chance(0.4)) b.findings.push(rng.pick(['The mediastinal contours are normal.', 'Hilar contours are unremarkable.']));
  if (rng.chance(0.45)) b.findings.push(rng.pick(['No acute osseous abnormality.', 'The visualized osseous structures are unremarkable.']));

  const anyFinding = PHANTOM_OBSERVATIONS.some((o) => o !== 'Support Devices' && (b.stated[o] === 1 || b.stated[o] === -1));
  b.stated['No Finding'] = anyFinding ? 0 : 1;
  if (b.impression.length === 0 || (!anyFinding && rng.chance(0.5))) {
    if (!anyFinding)
      b.impression.splice(
        0,
        b.impression.length,
        rng.pick([
          'No acute cardiopulmonary process.',
          'No acute cardiopulmonary abnormality.',
          'Normal chest radiograph.',
          'No acute intrathoracic process.',
        ]),
      );
    else b.impression.push(rng.pick(['Findings as above.', 'See findings.']));
  }

  const sections: string[] = [];
  if (rng.chance(0.6)) {
    const who = study.patient.sex === 'F' ? rng.pick(['woman', 'female']) : rng.pick(['man', 'male']);
    const why = rng.pick(['cough', 'shortness of breath', 'chest pain', 'fever', 'hypoxia', 'follow-up']);
    const ask = rng.pick(['Evaluate for pneumonia.', 'Assess for effusion.', 'Rule out pneumothorax.', '']);
    sections.push(`INDICATION: ___-year-old ${who} with ${why}. ${ask}`.trim());
  }
  if (rng.chance(0.5)) sections.push(`COMPARISON: ${study.studyIndex > 0 ? 'Chest radiograph from ___.' : 'None.'}`);
  if (rng.chance(0.4)) sections.push(`TECHNIQUE: ${study.acquisition.view === 'AP' ? 'Portable AP' : 'PA'} view of the chest.`);
  const findingsText = b.findings.join(' ');
  const wrapAt = rng.chance(0.5) ? rng.intBetween(55, 80) : 0;
  // site B's reporting system writes its headings in title case
  const [findingsHead, impressionHead] = study.acquisition.site === 'B' ? ['Findings:', 'Impression:'] : ['FINDINGS:', 'IMPRESSION:'];
  sections.push(`${findingsHead}${rng.chance(0.5) ? '\n' : ' '}${wrapAt ? wrap(findingsText, wrapAt) : findingsText}`);
  const impressionText =
    b.impression.length > 1 && rng.chance(0.6)
      ? b.impression.map((s, i) => `${i + 1}. ${s}`).join(rng.chance(0.5) ? '\n' : ' ')
      : b.impression.join(' ');
  sections.push(`${impressionHead}${rng.chance(0.5) ? '\n' : ' '}${impressionText}`);
  return { text: sections.join('\n\n'), stated: b.stated };
}
