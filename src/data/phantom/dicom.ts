/**
 * Turns a rendered phantom into the DICOM a digital radiography modality would store:
 * 10- or 12-bit values (by site) in 16-bit words, MONOCHROME1 studies stored inverted (bright air),
 * window tags from the acquisition, and deterministic UIDs under the 2.25 (UUID) root.
 */
import type { DicomWriteSpec } from '../dicom/write.js';
import { hashKeys } from '../../random/index.js';
import { CM_PER_UNIT } from './geometry.js';
import type { PhantomStudy } from './truth.js';

/** Maps [0, 1] attenuation to stored values of the site's bit depth, inverting for MONOCHROME1. */
export function toStoredPixels(pixels: Float32Array, study: PhantomStudy): Uint16Array {
  const { storedOffset, storedScale, photometric, bitsStored } = study.acquisition;
  const max = 2 ** bitsStored - 1;
  const out = new Uint16Array(pixels.length);
  const invert = photometric === 'MONOCHROME1';
  for (let i = 0; i < pixels.length; i++) {
    let v = Math.round(storedOffset + (pixels[i] as number) * storedScale);
    v = v < 0 ? 0 : v > max ? max : v;
    out[i] = invert ? max - v : v;
  }
  return out;
}

/** A DICOM UID "2.25.<decimal>" from 128 hashed bits: unique per (seed, study, kind). */
export function phantomUid(seed: number, key: string): string {
  let value = 0n;
  for (let k = 0; k < 4; k++) value = (value << 32n) | BigInt(hashKeys(seed, key, k));
  return `2.25.${value.toString()}`;
}

export function phantomDicomSpec(study: PhantomStudy, stored: Uint16Array, size: number, seed: number): DicomWriteSpec {
  const { acquisition, patient } = study;
  const spacingMm = Math.round(((2 * CM_PER_UNIT * 10) / size) * 1000) / 1000;
  return {
    rows: size,
    columns: size,
    bitsAllocated: 16,
    bitsStored: acquisition.bitsStored,
    pixelRepresentation: 0,
    photometricInterpretation: acquisition.photometric,
    pixels: stored,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windowCenter: acquisition.windowCenter,
    windowWidth: acquisition.windowWidth,
    modality: 'DX',
    viewPosition: acquisition.view,
    patientId: patient.patientId,
    studyInstanceUID: phantomUid(seed, `study:${study.studyId}`),
    seriesInstanceUID: phantomUid(seed, `series:${study.studyId}`),
    sopInstanceUID: phantomUid(seed, `image:${study.studyId}`),
    pixelSpacing: [spacingMm, spacingMm],
    extra: {
      PatientSex: patient.sex,
      PatientAge: `${String(patient.age).padStart(3, '0')}Y`,
      BodyPartExamined: 'CHEST',
      StudyDescription: `CHEST ${acquisition.view}`,
      AccessionNumber: study.studyId,
      Manufacturer: 'radlearn phantom',
      InstitutionName: `radlearn phantom site ${acquisition.site}`,
    },
  };
}
