/**
 * Ground truth of the chest radiograph phantom: patients, their studies, and each
 * study's findings and acquisition. Everything is drawn from `Rng` streams keyed by
 * (seed, patient) and (seed, patient, study), so a study's truth does not depend on
 * how many other studies were generated or in which order.
 *
 * Sides are the PATIENT's sides. In the rendered frontal image the patient's left is
 * on the image's right (standard radiographic display), i.e. side 'left' → x > 0.
 */
import { Rng } from '../../random/index.js';

export type Side = 'left' | 'right';
export type Zone = 'upper' | 'mid' | 'lower';
export type DeviceKind = 'endotracheal_tube' | 'central_line' | 'enteric_tube' | 'pacemaker';

export interface PhantomPatient {
  patientId: string;
  index: number;
  age: number;
  sex: 'F' | 'M';
  /** Body width factor (thin 0.9 .. broad 1.1). */
  habitus: number;
  /** Latent frailty in [0, 1]: thins bone and lowers lung volume; never named in a report. */
  frailty: number;
  /** Prognostic label (adverse outcome within 12 months), driven by frailty and age only. */
  adverseOutcome: 0 | 1;
  /** Persistent patient traits that recur across studies. */
  chronicCardiomegaly: boolean;
  hasPacemaker: boolean;
  studyCount: number;
}

export interface PhantomFindings {
  /** Cardiothoracic ratio (heart width / inner thoracic width); cardiomegaly when > 0.5. */
  cardiothoracicRatio: number;
  cardiomegaly: boolean;
  effusion: { side: Side | 'bilateral'; size: 'small' | 'moderate' | 'large' } | null;
  pneumothorax: { side: Side; size: 'small' | 'moderate' | 'large' } | null;
  lesion: { kind: 'nodule' | 'mass'; side: Side; zone: Zone; diameterCm: number; lateral: number } | null;
  consolidation: { side: Side; zone: Zone; extent: number } | null;
  devices: DeviceKind[];
}

export interface PhantomAcquisition {
  view: 'PA' | 'AP';
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  rotationDeg: number;
  shiftX: number;
  shiftY: number;
  zoom: number;
  exposure: number;
  noise: number;
  /** Stored value range used for the 12-bit mapping. */
  storedOffset: number;
  storedScale: number;
  windowCenter: number;
  windowWidth: number;
}

export interface PhantomStudy {
  patient: PhantomPatient;
  studyId: string;
  studyIndex: number;
  findings: PhantomFindings;
  acquisition: PhantomAcquisition;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

export function samplePatient(seed: number, index: number): PhantomPatient {
  const rng = new Rng(seed, 'patient', index);
  const age = Math.round(clamp(rng.normal(62, 15), 19, 96));
  const sex = rng.chance(0.5) ? 'F' : 'M';
  // Frailty rises with age but varies widely between people of one age.
  const frailty = clamp(sigmoid((age - 70) / 9 + rng.normal(0, 1.1)), 0, 1);
  // The prognostic outcome depends on frailty (image-visible, weakly) and age (not visible),
  // plus noise, so it is learnable from images but far from determined by them.
  const adverseOutcome = rng.chance(sigmoid(4.0 * (frailty - 0.55) + 0.02 * (age - 62))) ? 1 : 0;
  return {
    patientId: `P${String(index).padStart(5, '0')}`,
    index,
    age,
    sex,
    habitus: clamp(rng.normal(1, 0.05), 0.88, 1.12),
    frailty,
    adverseOutcome,
    chronicCardiomegaly: rng.chance(0.14 + 0.12 * frailty),
    hasPacemaker: rng.chance(0.06),
    studyCount: rng.weighted([1, 2, 3, 4, 5], [0.3, 0.28, 0.2, 0.13, 0.09]),
  };
}

const pickSide = (rng: Rng): Side => (rng.chance(0.5) ? 'left' : 'right');

export function sampleFindings(rng: Rng, patient: PhantomPatient, view: 'PA' | 'AP'): PhantomFindings {
  const sick = view === 'AP' ? 1.6 : 1; // portable studies come from sicker patients
  const cardiomegaly = patient.chronicCardiomegaly || rng.chance(0.05);
  // Normal ratios sit well below 0.5 and enlarged hearts well above, with a few borderline ones.
  const cardiothoracicRatio = cardiomegaly
    ? rng.chance(0.15)
      ? rng.uniform(0.51, 0.54)
      : rng.uniform(0.55, 0.68)
    : rng.uniform(0.38, 0.47);
  const effusion = rng.chance(0.16 * sick)
    ? {
        side: rng.weighted(['left', 'right', 'bilateral'] as const, [0.35, 0.35, 0.3]),
        size: rng.weighted(['small', 'moderate', 'large'] as const, [0.45, 0.4, 0.15]),
      }
    : null;
  const pneumothorax = rng.chance(0.07 * sick)
    ? { side: pickSide(rng), size: rng.weighted(['small', 'moderate', 'large'] as const, [0.4, 0.4, 0.2]) }
    : null;
  const lesion = rng.chance(0.1)
    ? (() => {
        const kind = rng.chance(0.7) ? ('nodule' as const) : ('mass' as const);
        return {
          kind,
          side: pickSide(rng),
          zone: rng.pick(['upper', 'mid', 'lower'] as const),
          diameterCm: Math.round((kind === 'nodule' ? rng.uniform(0.8, 2.8) : rng.uniform(3.5, 6.5)) * 10) / 10,
          lateral: rng.uniform(0.3, 0.75),
        };
      })()
    : null;
  const consolidation = rng.chance(0.13 * sick)
    ? { side: pickSide(rng), zone: rng.weighted(['upper', 'mid', 'lower'] as const, [0.2, 0.3, 0.5]), extent: rng.uniform(0.6, 1.2) }
    : null;
  const devices: DeviceKind[] = [];
  if (patient.hasPacemaker) devices.push('pacemaker');
  if (view === 'AP') {
    if (rng.chance(0.35)) devices.push('endotracheal_tube');
    if (rng.chance(0.45)) devices.push('central_line');
    if (rng.chance(0.3)) devices.push('enteric_tube');
  } else if (rng.chance(0.06)) {
    devices.push('central_line');
  }
  return { cardiothoracicRatio, cardiomegaly: cardiothoracicRatio > 0.5, effusion, pneumothorax, lesion, consolidation, devices };
}

export function sampleAcquisition(rng: Rng, view: 'PA' | 'AP'): PhantomAcquisition {
  const photometric = rng.chance(0.3) ? 'MONOCHROME1' : 'MONOCHROME2';
  const storedOffset = Math.round(rng.uniform(60, 400));
  const storedScale = Math.round(rng.uniform(3000, 4095 - storedOffset - 20));
  // Window tags as a modality would set them: around the body's value range, with jitter.
  const center = storedOffset + storedScale * rng.uniform(0.45, 0.6);
  const width = storedScale * rng.uniform(0.75, 1.1);
  return {
    view,
    photometric,
    rotationDeg: rng.normal(0, view === 'AP' ? 3 : 1.8),
    shiftX: rng.normal(0, 0.03),
    shiftY: rng.normal(0, 0.03),
    zoom: rng.uniform(0.94, 1.06),
    exposure: rng.uniform(0.85, 1.15),
    noise: rng.uniform(0.008, view === 'AP' ? 0.03 : 0.02),
    storedOffset,
    storedScale,
    windowCenter: Math.round(photometric === 'MONOCHROME1' ? 4095 - center : center),
    windowWidth: Math.round(width),
  };
}

/** The study-th study of a patient (0-based). */
export function sampleStudy(seed: number, patient: PhantomPatient, studyIndex: number): PhantomStudy {
  const rng = new Rng(seed, 'study', patient.index, studyIndex);
  const view = rng.chance(0.35) ? 'AP' : 'PA';
  const findings = sampleFindings(rng, patient, view);
  const acquisition = sampleAcquisition(new Rng(seed, 'acquisition', patient.index, studyIndex), view);
  return {
    patient,
    studyId: `${patient.patientId}-S${studyIndex + 1}`,
    studyIndex,
    findings,
    acquisition,
  };
}

/** The first n studies of the dataset: patients in order, each with its studies. */
export function sampleStudies(seed: number, n: number): PhantomStudy[] {
  const studies: PhantomStudy[] = [];
  for (let p = 0; studies.length < n; p++) {
    const patient = samplePatient(seed, p);
    for (let s = 0; s < patient.studyCount && studies.length < n; s++) studies.push(sampleStudy(seed, patient, s));
  }
  return studies;
}

/** Where the phantom's central line enters; shared by the renderer and the report. */
export function centralLineRoute(study: PhantomStudy): 'jugular' | 'subclavian' {
  return (study.patient.index + study.studyIndex) % 2 === 0 ? 'jugular' : 'subclavian';
}
