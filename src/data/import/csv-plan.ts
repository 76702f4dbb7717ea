/**
 * The csv importer's options resolved against a table's columns, before any row is read: which
 * column fills which role, the compiled filters and label mappers, the labeler policy, and the
 * columns kept as meta. Every unknown column or malformed spec fails here, naming the file.
 */
import { isAbsolute, resolve } from 'node:path';
import { OBSERVATIONS, type Observation } from '../labeler/observations.js';
import { checkLabelerPolicy, type LabelerPolicy } from '../labeler/policy.js';
import { ROLE_CANDIDATES } from '../manifest/load.js';
import { compileRowFilters, formatRowFilter, toRowFilter, type RowFilter, type RowFilterInput } from './filter.js';
import { checkLabelNames, compileLabelSpec, toLabelSpec, type LabelMapper, type LabelSpecInput } from './label-spec.js';
import { expandTemplate, isTemplate, parseTemplate, type PathTemplate } from './template.js';
import { ImportError, type CommonImportOptions } from './types.js';
import { checkViews } from './views.js';

/** Labels from the report labeler: which observations, and what uncertain and not-mentioned become. */
export interface LabelerImportOptions extends LabelerPolicy {
  /** Observations to keep as labels (default all 14, in CheXpert's order). */
  observations?: readonly Observation[];
}

export interface CsvImportOptions extends CommonImportOptions {
  /** Table format; default from the extension: .tsv/.tab → tsv, .jsonl/.ndjson → jsonl, else csv. */
  format?: 'csv' | 'tsv' | 'jsonl';
  /** Field delimiter for csv (one character; default ',' and '\t' for tsv). */
  delimiter?: string;
  /** Folder that relative image and report paths resolve against (default: the table's folder). */
  imageRoot?: string;
  /** Image column, or a path template over columns (`images/{patientid}/{filename}`). */
  image: string;
  /** Report text column(s); several are joined as titled sections. */
  report?: string | readonly string[];
  /** Report file column, or a path template over columns. */
  reportPath?: string;
  /** Patient id column (default: the first of patient_id, patientid, subject_id, patient). */
  patient?: string;
  /** Study id column (default: each row is its own study). */
  study?: string;
  /** View column (default: the first of view, view_position, viewposition, projection, if any). */
  view?: string;
  /** Split column (train / val / test and their usual spellings; blank is no split). */
  split?: string;
  /** Column whose value groups rows for splitting instead of the patient (source, site). */
  group?: string;
  /** Keep only rows that pass every filter (`column=value`, `column!=value`, `column~regex`, `column!~regex`). */
  filter?: RowFilterInput | readonly RowFilterInput[];
  /** Labels as `name=column[:mapping]` strings or objects; see parseLabelSpec. */
  labels?: readonly LabelSpecInput[];
  /** Add the labeler's observations over each row's report text. */
  labeler?: boolean | LabelerImportOptions;
}

/** A column or a template: where one row's path comes from. */
export type PathSource = { column: string } | { template: PathTemplate };

export interface CsvPlan {
  image: PathSource;
  reportColumns: string[];
  reportPath?: PathSource;
  patient: string;
  study?: string;
  view?: string;
  split?: string;
  group?: string;
  views?: 'frontal' | string[];
  /** The first filter a row fails, or undefined when it passes them all. */
  failedFilter: (field: (column: string) => string) => RowFilter | undefined;
  mappers: Array<{ name: string; column: string; map: LabelMapper }>;
  labeler?: { observations: Observation[]; policy: Required<LabelerPolicy> };
  labelNames: string[];
  metaColumns: string[];
  notes: string[];
}

/** The column as written in the file: exact, else the one column equal ignoring case. */
export function resolveColumn(name: string, columns: readonly string[], what: string, file: string): string {
  if (columns.includes(name)) return name;
  const folded = columns.filter((c) => c.toLowerCase() === name.toLowerCase());
  if (folded.length === 1) return folded[0] as string;
  throw new ImportError(`${file}: ${what} column "${name}" not found; columns are ${columns.join(', ')}`, { path: file, column: name });
}

function findByName(columns: readonly string[], candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    const hit = columns.find((c) => c.toLowerCase() === candidate);
    if (hit) return hit;
  }
  return undefined;
}

function pathSource(spec: string, columns: readonly string[], what: string, file: string): PathSource {
  return isTemplate(spec) ? { template: parseTemplate(spec, columns, what, file) } : { column: resolveColumn(spec, columns, what, file) };
}

/** The row's path, absolute, or undefined when its cell (or a template column) is blank. */
export function pathOf(source: PathSource, field: (c: string) => string, root: string): string | undefined {
  const raw = 'column' in source ? field(source.column).trim() : expandTemplate(source.template, field);
  if (raw === undefined || raw === '') return undefined;
  return isAbsolute(raw) ? raw : resolve(root, raw);
}

const asList = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...(value as T[])] : [value as T];

export function planCsvImport(file: string, columns: readonly string[], options: CsvImportOptions): CsvPlan {
  const notes: string[] = [];
  const col = (spec: string | undefined, what: string): string | undefined =>
    spec === undefined ? undefined : resolveColumn(spec, columns, what, file);
  const image = pathSource(options.image.trim(), columns, 'image', file);
  const reportColumns = asList(options.report).map((c) => resolveColumn(c, columns, 'report', file));
  const reportPath = options.reportPath === undefined ? undefined : pathSource(options.reportPath.trim(), columns, 'report path', file);

  let patient = col(options.patient, 'patient');
  if (patient === undefined) {
    patient = findByName(columns, ROLE_CANDIDATES.patientId);
    if (patient === undefined) {
      throw new ImportError(
        `${file}: no patient id column (looked for ${ROLE_CANDIDATES.patientId.join(', ')}); name one with the patient option (--patient): patient-level splits need it`,
        { path: file },
      );
    }
    notes.push(`patient id from column ${patient}`);
  }
  const study = col(options.study, 'study');
  if (study === undefined) notes.push('no study column: each row is its own study');
  let view = col(options.view, 'view');
  if (view === undefined) {
    view = findByName(columns, ROLE_CANDIDATES.view);
    if (view !== undefined) notes.push(`view from column ${view}`);
  }
  const views = checkViews(options.views);
  if (views !== undefined && view === undefined) {
    throw new ImportError(
      `${file}: a views filter needs a view column; none of ${ROLE_CANDIDATES.view.join(', ')} exists, name one with the view option (--view)`,
      { path: file },
    );
  }
  const split = col(options.split, 'split');
  const group = col(options.group, 'group');

  const filters = asList<RowFilterInput>(options.filter).map(toRowFilter);
  for (const f of filters) f.column = resolveColumn(f.column, columns, `filter ${formatRowFilter(f)}`, file);

  const specs = (options.labels ?? []).map(toLabelSpec);
  for (const s of specs) s.column = resolveColumn(s.column, columns, `label ${s.name}`, file);
  let labeler: CsvPlan['labeler'];
  if (options.labeler !== undefined && options.labeler !== false) {
    const given = options.labeler === true ? {} : options.labeler;
    const observations = [...(given.observations ?? OBSERVATIONS)];
    for (const o of observations) {
      if (!(OBSERVATIONS as readonly string[]).includes(o)) {
        throw new ImportError(`labeler observation "${o}" is not one of ${OBSERVATIONS.join(', ')}`, { observation: o });
      }
    }
    if (reportColumns.length === 0 && reportPath === undefined) {
      throw new ImportError(
        `${file}: the labeler reads report text; name the report column(s) (--report) or a report path (--report-path)`,
        {
          path: file,
        },
      );
    }
    labeler = { observations, policy: checkLabelerPolicy(given) };
    const from = reportColumns.length > 0 ? `column(s) ${reportColumns.join(', ')}` : 'the report files';
    notes.push(
      `labeler labels (${observations.length} observations) from ${from}; uncertain: ${labeler.policy.uncertain}, not mentioned: ${labeler.policy.notMentioned}`,
    );
  }
  const labelNames = [...specs.map((s) => s.name), ...(labeler?.observations ?? [])];
  checkLabelNames(labelNames, `${file} labels`);

  // Columns that fill a manifest role are not repeated as meta; everything else is, label sources included.
  const roles = new Set<string>([...reportColumns, patient]);
  for (const source of [image, reportPath]) if (source && 'column' in source) roles.add(source.column);
  for (const c of [study, view, split, group]) if (c !== undefined) roles.add(c);

  const plan: CsvPlan = {
    image,
    reportColumns,
    patient,
    failedFilter: compileRowFilters(filters),
    mappers: specs.map((s) => ({ name: s.name, column: s.column, map: compileLabelSpec(s) })),
    labelNames,
    metaColumns: columns.filter((c) => !roles.has(c)),
    notes,
  };
  if (reportPath !== undefined) plan.reportPath = reportPath;
  if (study !== undefined) plan.study = study;
  if (view !== undefined) plan.view = view;
  if (split !== undefined) plan.split = split;
  if (group !== undefined) plan.group = group;
  if (views !== undefined) plan.views = views;
  if (labeler !== undefined) plan.labeler = labeler;
  return plan;
}
