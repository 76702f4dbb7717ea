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
export type SiteId = 'A' | 'B';

/**
 * A simulated hospital: its scanner's acquisition statistics and its case mix. Models trained at
 * one site and tested at the other meet a shift in both (external validation).
 */
export interface PhantomSite {
  id: SiteId;
  description: string;
  /** Share of patients seen at this site. */
  share: number;
  /** Share of portable AP studies (sicker inpatients, more devices). */
  apShare: number;
  /** Multiplies the findings' prevalence (case mix). */
  acuity: number;
  monochrome1Share: number;
  bitsStored: 10 | 12;
  exposure: [number, number];
  noise: [number, number];
  /** Detector response exponent range: < 1 flattens contrast in the dense regions. */
  gamma: [number, number];
  /** Share of studies taken through a stationary anti-scatter grid (fine vertical lines). */
  gridShare: number;
  /** Burned-in text on the image: none, or the position and projection as this site's modality writes it. */
  burnedInText: boolean;
  /** Laterality marker corner: the patient's left (image right, standard) or a mirrored habit. */
  markerOnImageRight: boolean;
}

export const PHANTOM_SITES: readonly PhantomSite[] = [
  {
    id: 'A',
    description: 'academic hospital: outpatient PA studies, 12-bit detector, laterality marker only',
    share: 0.65,
    apShare: 0.25,
    acuity: 0.9,
    monochrome1Share: 0.15,
    bitsStored: 12,
    exposure: [0.9, 1.12],
    noise: [0.008, 0.02],
    gamma: [0.95, 1.05],
    gridShare: 0.05,
    burnedInText: false,
    markerOnImageRight: true,
  },
  {
    id: 'B',
    description: 'community hospital with an ICU: more portable AP studies and acute findings, 10-bit detector, grid lines, burned-in text',
    share: 0.35,
    apShare: 0.6,
    acuity: 1.3,
    monochrome1Share: 0.7,
    bitsStored: 10,
    exposure: [0.75, 1.3],
    noise: [0.015, 0.04],
    gamma: [0.75, 0.9],
    gridShare: 0.8,
    burnedInText: true,
    markerOnImageRight: false,
  },
];

export function siteOf(id: SiteId): PhantomSite {
  return PHANTOM_SITES.find((s) => s.id === id)!;
}

/** Persistent body shape of a patient (recurs across the patient's studies). */
export interface PhantomAnatomy {
  /** Lung apex height offset (body units; negative: taller lungs). */
  apexShift: number;
  /** Hemidiaphragm height offset at full inspiration (body units; positive: lower lungs). */
  diaphragmShift: number;
  /** Share of the heart's width left of the midline (0.6 .. 0.72). */
  heartLeftShare: number;
  /** Posterior rib spacing (body units) and the ribs' downward curvature. */
  ribSpacing: number;
  ribCurve: number;
  /** Clavicle height offset and slope. */
  clavicleShift: number;
  clavicleSlope: number;
  /** Breast shadow density (0 in men). */
  breast: number;
  /** Mediastinal half-width factor. */
  mediastinum: number;
}

export interface PhantomPatient {
  patientId: string;
  index: number;
  age: number;
  sex: 'F' | 'M';
  /** Body width factor (thin 0.84 .. broad 1.16). */
  habitus: number;
  /** Latent frailty in [0, 1]: thins bone and lowers lung volume; never named in a report. */
  frailty: number;
  /** Prognostic label (adverse outcome within 12 months), driven by frailty and age only. */
  adverseOutcome: 0 | 1;
  /** Persistent patient traits that recur across studies. */
  chronicCardiomegaly: boolean;
  hasPacemaker: boolean;
  studyCount: number;
  site: SiteId;
  anatomy: PhantomAnatomy;
}

export interface PhantomFindings {
  /** Cardiothoracic ratio (heart width / inner thoracic width); cardiomegaly when > 0.5. */
  cardiothoracicRatio: number;
  cardiomegaly: boolean;
  /** Ordinal heart-size grade 0-4 from the ratio (CARDIOMEGALY_GRADE_CUTS). */
  cardiomegalyGrade: CardiomegalyGrade;
  effusion: { side: Side | 'bilateral'; size: 'small' | 'moderate' | 'large' } | null;
  pneumothorax: { side: Side; size: 'small' | 'moderate' | 'large' } | null;
  lesion: { kind: 'nodule' | 'mass'; side: Side; zone: Zone; diameterCm: number; lateral: number } | null;
  consolidation: { side: Side; zone: Zone; extent: number } | null;
  devices: DeviceKind[];
}

export interface PhantomAcquisition {
  site: SiteId;
  view: 'PA' | 'AP';
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  bitsStored: 10 | 12;
  /** Depth of inspiration: raises (negative) or lowers the diaphragm (body units). */
  inspiration: number;
  /** Lordotic tilt of the chest to the beam: projects the clavicles higher (body units). */
  tilt: number;
  /** Detector response exponent. */
  gamma: number;
  /** Stationary grid lines: period and amplitude in [0, 1] signal units, or null. */
  grid: { period: number; amplitude: number; phase: number } | null;
  /** Collimated (unexposed) margins as fractions of the field: top, bottom, left, right. */
  collimation: [number, number, number, number];
  /** Burned-in overlays: the laterality marker's corner and the modality's text (or null). */
  marker: { letter: 'L' | 'R'; imageRight: boolean };
  text: string | null;
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

export type CardiomegalyGrade = 0 | 1 | 2 | 3 | 4;
/** Ratio cut points of the heart-size grade: 0 small, 1 upper normal, 2 mild, 3 moderate, 4 marked enlargement (the report's own words). */
export const CARDIOMEGALY_GRADE_CUTS = [0.44, 0.5, 0.58, 0.63] as const;

export function cardiomegalyGrade(ratio: number): CardiomegalyGrade {
  let grade = 0;
  for (const cut of CARDIOMEGALY_GRADE_CUTS) if (ratio >= cut) grade++;
  return grade as CardiomegalyGrade;
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
    habitus: clamp(rng.normal(1, 0.06), 0.84, 1.16),
    frailty,
    adverseOutcome,
    chronicCardiomegaly: rng.chance(0.14 + 0.12 * frailty),
    hasPacemaker: rng.chance(0.06),
    studyCount: rng.weighted([1, 2, 3, 4, 5], [0.3, 0.28, 0.2, 0.13, 0.09]),
    site: new Rng(seed, 'site', index).weighted(
      PHANTOM_SITES.map((s) => s.id),
      PHANTOM_SITES.map((s) => s.share),
    ),
    anatomy: sampleAnatomy(new Rng(seed, 'anatomy', index), sex),
  };
}

function sampleAnatomy(rng: Rng, sex: 'F' | 'M'): PhantomAnatomy {
  return {
    apexShift: clamp(rng.normal(0, 0.025), -0.06, 0.06),
    diaphragmShift: clamp(rng.normal(0, 0.035), -0.08, 0.08),
    heartLeftShare: rng.uniform(0.6, 0.72),
    ribSpacing: rng.uniform(0.106, 0.13),
    ribCurve: rng.uniform(0.75, 1.15),
    clavicleShift: clamp(rng.normal(0, 0.03), -0.07, 0.07),
    clavicleSlope: rng.uniform(0.12, 0.32),
    breast: sex === 'F' ? rng.uniform(0.4, 1.6) : 0,
    mediastinum: rng.uniform(0.88, 1.15),
  };
}

const pickSide = (rng: Rng): Side => (rng.chance(0.5) ? 'left' : 'right');

export function sampleFindings(rng: Rng, patient: PhantomPatient, view: 'PA' | 'AP'): PhantomFindings {
  // portable studies come from sicker patients; sites differ in case mix
  const sick = (view === 'AP' ? 1.6 : 1) * siteOf(patient.site).acuity;
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
  return {
    cardiothoracicRatio,
    cardiomegaly: cardiothoracicRatio > 0.5,
    cardiomegalyGrade: cardiomegalyGrade(cardiothoracicRatio),
    effusion,
    pneumothorax,
    lesion,
    consolidation,
    devices,
  };
}

export function sampleAcquisition(rng: Rng, view: 'PA' | 'AP', siteId: SiteId = 'A'): PhantomAcquisition {
  const site = siteOf(siteId);
  const photometric = rng.chance(site.monochrome1Share) ? 'MONOCHROME1' : 'MONOCHROME2';
  const max = 2 ** site.bitsStored - 1;
  const unit = max / 4095;
  const storedOffset = Math.round(rng.uniform(60, 400) * unit);
  const storedScale = Math.round(rng.uniform(3000 * unit, max - storedOffset - 20 * unit));
  // Window tags as a modality would set them: around the body's value range, with jitter.
  const center = storedOffset + storedScale * rng.uniform(0.45, 0.6);
  const width = storedScale * rng.uniform(0.75, 1.1);
  const portable = view === 'AP';
  const margin = (): number => (rng.chance(portable ? 0.7 : 0.4) ? rng.uniform(0.02, portable ? 0.12 : 0.07) : 0);
  const collimation: [number, number, number, number] = [margin(), margin(), margin(), margin()];
  return {
    site: siteId,
    view,
    photometric,
    bitsStored: site.bitsStored,
    rotationDeg: rng.normal(0, portable ? 3 : 1.8),
    shiftX: rng.normal(0, portable ? 0.045 : 0.03),
    shiftY: rng.normal(0, portable ? 0.045 : 0.03),
    // portable AP films magnify the chest (short source distance)
    zoom: rng.uniform(0.9, 1.06) * (portable ? 1.07 : 1),
    exposure: rng.uniform(site.exposure[0], site.exposure[1]),
    noise: rng.uniform(site.noise[0], site.noise[1] * (portable ? 1.3 : 1)),
    inspiration: clamp(rng.normal(portable ? -0.04 : 0, 0.03), -0.12, 0.07),
    tilt: clamp(rng.normal(portable ? 0.03 : 0, 0.025), -0.06, 0.1),
    gamma: rng.uniform(site.gamma[0], site.gamma[1]),
    grid: rng.chance(site.gridShare)
      ? { period: rng.uniform(0.012, 0.02), amplitude: rng.uniform(0.012, 0.03), phase: rng.uniform(0, 6.283) }
      : null,
    collimation,
    marker: { letter: site.markerOnImageRight ? 'L' : 'R', imageRight: site.markerOnImageRight },
    text: site.burnedInText ? (portable ? rng.pick(['PORTABLE', 'PORTABLE AP', 'AP SUPINE']) : rng.pick(['PA ERECT', 'ERECT'])) : null,
    storedOffset,
    storedScale,
    windowCenter: Math.round(photometric === 'MONOCHROME1' ? max - center : center),
    windowWidth: Math.round(width),
  };
}

/** The study-th study of a patient (0-based). */
export function sampleStudy(seed: number, patient: PhantomPatient, studyIndex: number): PhantomStudy {
  const rng = new Rng(seed, 'study', patient.index, studyIndex);
  const view = rng.chance(siteOf(patient.site).apShare) ? 'AP' : 'PA';
  const findings = sampleFindings(rng, patient, view);
  const acquisition = sampleAcquisition(new Rng(seed, 'acquisition', patient.index, studyIndex), view, patient.site);
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
