/**
 * Phantom anatomy in "body units": the image field spans [-1, 1] on both axes before
 * the acquisition transform, y grows downwards, x > 0 is the patient's left.
 * One unit is CM_PER_UNIT centimetres, so a field of 2 units is a 43 cm detector.
 *
 * Geometry is a pure function of the study truth; the renderer only evaluates it.
 */
import type { PhantomStudy, Side, Zone } from './truth.js';

export const CM_PER_UNIT = 21.5;

export interface LungGeometry {
  /** +1 for the patient's left lung (image right), -1 for the right lung. */
  sign: 1 | -1;
  apexY: number;
  /** Lateral costophrenic angle height. */
  baseY: number;
  /** Dome height of this hemidiaphragm above baseY. */
  domeHeight: number;
  /** Widest half-width of the lung (inner chest wall). */
  maxHalfWidth: number;
}

export interface HeartGeometry {
  /** Extents from the midline to the right (negative x) and left heart borders. */
  rightExtent: number;
  leftExtent: number;
  topY: number;
  bottomY: number;
}

export interface PhantomGeometry {
  bodyHalfWidth: number;
  lungs: { right: LungGeometry; left: LungGeometry };
  heart: HeartGeometry;
  /** Multiplies every bone density: frailty thins bone. */
  boneFactor: number;
  /** Rib band thickness as a fraction of rib spacing. */
  ribThickness: number;
  /** Posterior rib spacing and downward curvature (body units). */
  ribSpacing: number;
  ribCurve: number;
  /** Clavicle height at its medial end and its slope. */
  clavicleY: number;
  clavicleSlope: number;
  /** Breast shadow density (0: none). */
  breast: number;
  /** Mediastinal half-width factor. */
  mediastinum: number;
  carinaY: number;
}

/** Lung half-width limits at relative height t in [0, 1] (apex → costophrenic angle). */
export function lungMedial(t: number): number {
  return 0.055 + 0.03 * t;
}

export function lungLateral(lung: LungGeometry, t: number): number {
  const s = Math.min(1, Math.max(0, t * 1.55));
  return lung.maxHalfWidth * (0.2 + 0.8 * Math.sqrt(s));
}

/** Diaphragm height under the lung at lateral fraction u in [0, 1] (0 medial, 1 costophrenic angle). */
export function diaphragmY(lung: LungGeometry, u: number): number {
  const d = (u - 0.4) / 0.6;
  return lung.baseY - lung.domeHeight * (1 - d * d);
}

export function buildGeometry(study: PhantomStudy): PhantomGeometry {
  const { patient, findings, acquisition } = study;
  const { anatomy } = patient;
  const f = patient.frailty;
  const maxHalfWidth = 0.72 * patient.habitus * (1 - 0.03 * f);
  // Frailty and supine (AP) positioning both lower lung volume: the diaphragm rides higher;
  // the patient's build and the depth of this study's inspiration move it further.
  const volumeLoss = 0.09 * f + (acquisition.view === 'AP' ? 0.05 : 0) - anatomy.diaphragmShift - acquisition.inspiration;
  const lung = (sign: 1 | -1, base: number): LungGeometry => ({
    sign,
    apexY: -0.66 + 0.02 * f + anatomy.apexShift,
    baseY: base - volumeLoss,
    domeHeight: 0.14 + 0.02 * f,
    maxHalfWidth,
  });
  const right = lung(-1, 0.42); // the liver holds the right hemidiaphragm higher
  const left = lung(1, 0.47);
  const heartWidth = findings.cardiothoracicRatio * 2 * maxHalfWidth;
  const bottomY = left.baseY - 0.07;
  return {
    bodyHalfWidth: maxHalfWidth + 0.13 * patient.habitus - 0.04 * f,
    lungs: { right, left },
    heart: {
      rightExtent: heartWidth * (1 - anatomy.heartLeftShare),
      leftExtent: heartWidth * anatomy.heartLeftShare,
      topY: bottomY - (0.3 + 0.25 * heartWidth),
      bottomY,
    },
    boneFactor: 1 - 0.45 * f,
    ribThickness: 0.42 * (1 - 0.25 * f),
    ribSpacing: anatomy.ribSpacing,
    ribCurve: anatomy.ribCurve,
    clavicleY: -0.66 + anatomy.clavicleShift - acquisition.tilt,
    clavicleSlope: anatomy.clavicleSlope,
    breast: anatomy.breast,
    mediastinum: anatomy.mediastinum,
    carinaY: -0.3 + 0.5 * anatomy.apexShift,
  };
}

export function lungOf(geometry: PhantomGeometry, side: Side): LungGeometry {
  return side === 'left' ? geometry.lungs.left : geometry.lungs.right;
}

/** Relative height t of a lung zone. */
export function zoneT(zone: Zone): number {
  return zone === 'upper' ? 0.22 : zone === 'mid' ? 0.5 : 0.76;
}

/** A point inside a lung at relative height t and lateral fraction u, in body units. */
export function pointInLung(lung: LungGeometry, t: number, u: number): [number, number] {
  const y = lung.apexY + t * (lung.baseY - lung.apexY);
  const m = lungMedial(t);
  const l = lungLateral(lung, t);
  return [lung.sign * (m + u * (l - m)), y];
}
