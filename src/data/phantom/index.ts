export { generatePhantom, phantomLabels, PHANTOM_LABEL_COLUMNS, type GeneratePhantomOptions, type PhantomSummary } from './generate.js';
export { renderPhantom, type RenderedPhantom } from './render.js';
export { generateReport, PHANTOM_OBSERVATIONS, type PhantomReport, type PhantomObservation, type StatedLabels } from './report.js';
export {
  samplePatient, sampleStudy, sampleStudies, type PhantomPatient, type PhantomStudy, type PhantomFindings,
  type PhantomAcquisition, type DeviceKind, type Side, type Zone,
} from './truth.js';
export { buildGeometry, CM_PER_UNIT, type PhantomGeometry } from './geometry.js';
export { toStoredPixels, phantomDicomSpec } from './dicom.js';
