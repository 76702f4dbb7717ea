export { loadManifest, buildManifest, type LoadManifestOptions, type ManifestColumnNames } from './load.js';
export { splitByPatient, labelFraction, type SplitOptions, type FractionOptions } from './split.js';
export { parseCsv, formatCsv, CsvError } from './csv.js';
export { ManifestError, type Manifest, type ManifestRow, type LabelColumn, type LabelKind, type Split } from './types.js';
export { writeManifestCsv, readReportText } from './write.js';
