import type { Command } from 'commander';
import {
  IMPORT_FORMATS,
  importDataset,
  InvalidArgumentError,
  LABELER_UNCERTAIN_POLICIES,
  NOT_MENTIONED_POLICIES,
  OBSERVATIONS,
  summaryLines,
  writeImportedManifest,
  type CsvImportOptions,
  type ImportFormat,
  type ImportResult,
  type LabelerImportOptions,
  type Observation,
  type PublicDatasetImportOptions,
} from '../../index.js';
import { choiceFlag } from '../flags.js';

interface ManifestFlags {
  from: string;
  out: string;
  views?: string;
  strict?: boolean;
  checkImages: boolean;
  json?: boolean;
  split?: string;
  reports?: string;
  group?: string;
  image?: string;
  imageTemplate?: string;
  imageRoot?: string;
  report?: string[];
  reportPath?: string;
  patient?: string;
  study?: string;
  view?: string;
  splitColumn?: string;
  filter?: string[];
  label?: string[];
  labeler?: boolean | string;
  uncertain?: string;
  notMentioned?: string;
  delimiter?: string;
  format?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Flags that only the csv importer reads, with their option names for messages. */
const CSV_ONLY: Array<[keyof ManifestFlags, string]> = [
  ['report', 'report'],
  ['filter', 'filter'],
  ['label', 'label'],
  ['group', 'group'],
  ['image', 'image'],
  ['imageTemplate', 'image-template'],
  ['imageRoot', 'image-root'],
  ['reportPath', 'report-path'],
  ['patient', 'patient'],
  ['study', 'study'],
  ['view', 'view'],
  ['splitColumn', 'split-column'],
  ['labeler', 'labeler'],
  ['uncertain', 'uncertain'],
  ['notMentioned', 'not-mentioned'],
  ['delimiter', 'delimiter'],
  ['format', 'format'],
];

/** `--views frontal` or a comma list such as `PA,AP` (or `lateral`). */
function viewsFlag(value: string | undefined): 'frontal' | string[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new InvalidArgumentError(`--views must be 'frontal' or a comma-separated list of views such as PA,AP, got '${value}'`);
  return list.length === 1 && list[0]?.toLowerCase() === 'frontal' ? 'frontal' : list;
}

function delimiterFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|' };
  const d = named[value.toLowerCase()] ?? value;
  if (d.length !== 1) throw new InvalidArgumentError(`--delimiter must be one character (or tab, comma, semicolon, pipe), got '${value}'`);
  return d;
}

function labelerFlag(flags: ManifestFlags): LabelerImportOptions | undefined {
  if (flags.labeler === undefined) {
    if (flags.uncertain !== undefined || flags.notMentioned !== undefined) {
      throw new InvalidArgumentError('--uncertain and --not-mentioned set the labeler policies; add --labeler');
    }
    return undefined;
  }
  const options: LabelerImportOptions = {};
  if (typeof flags.labeler === 'string') {
    const wanted = flags.labeler
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    options.observations = wanted.map((w) => {
      const hit = OBSERVATIONS.find((o) => o.toLowerCase() === w.toLowerCase());
      if (!hit) throw new InvalidArgumentError(`--labeler: "${w}" is not an observation; observations are ${OBSERVATIONS.join(', ')}`);
      return hit as Observation;
    });
  }
  if (flags.uncertain !== undefined) options.uncertain = choiceFlag('uncertain', flags.uncertain, LABELER_UNCERTAIN_POLICIES);
  if (flags.notMentioned !== undefined) options.notMentioned = choiceFlag('not-mentioned', flags.notMentioned, NOT_MENTIONED_POLICIES);
  return options;
}

function csvOptions(flags: ManifestFlags): CsvImportOptions {
  if (flags.split !== undefined)
    throw new InvalidArgumentError('--split is for the public formats; for --from csv name the split column with --split-column');
  if (flags.reports !== undefined)
    throw new InvalidArgumentError('--reports is for the public formats; for --from csv use --report <column> or --report-path');
  if ((flags.image === undefined) === (flags.imageTemplate === undefined)) {
    throw new InvalidArgumentError(
      '--from csv needs exactly one of --image <column> or --image-template <template> (e.g. images/{filename})',
    );
  }
  if (flags.imageTemplate !== undefined && !/\{[^{}]+\}/.test(flags.imageTemplate)) {
    throw new InvalidArgumentError(
      `--image-template names columns in braces, e.g. images/{patientid}/{filename}; got '${flags.imageTemplate}'`,
    );
  }
  if (flags.image !== undefined && /[{}]/.test(flags.image)) {
    throw new InvalidArgumentError(`--image names one column; use --image-template for '${flags.image}'`);
  }
  const options: CsvImportOptions = { image: (flags.image ?? flags.imageTemplate) as string, checkImages: flags.checkImages };
  if (flags.strict) options.strict = true;
  const views = viewsFlag(flags.views);
  if (views !== undefined) options.views = views;
  if (flags.imageRoot !== undefined) options.imageRoot = flags.imageRoot;
  if (flags.report) options.report = flags.report;
  if (flags.reportPath !== undefined) options.reportPath = flags.reportPath;
  if (flags.patient !== undefined) options.patient = flags.patient;
  if (flags.study !== undefined) options.study = flags.study;
  if (flags.view !== undefined) options.view = flags.view;
  if (flags.splitColumn !== undefined) options.split = flags.splitColumn;
  if (flags.group !== undefined) options.group = flags.group;
  if (flags.filter) options.filter = flags.filter;
  if (flags.label) options.labels = flags.label;
  const labeler = labelerFlag(flags);
  if (labeler !== undefined) options.labeler = labeler;
  const delimiter = delimiterFlag(flags.delimiter);
  if (delimiter !== undefined) options.delimiter = delimiter;
  if (flags.format !== undefined) options.format = choiceFlag('format', flags.format, ['csv', 'tsv', 'jsonl'] as const);
  return options;
}

function publicOptions(flags: ManifestFlags): PublicDatasetImportOptions {
  for (const [key, name] of CSV_ONLY) {
    if (flags[key] !== undefined)
      throw new InvalidArgumentError(`--${name} is for --from csv; --from ${flags.from} reads the dataset's own layout`);
  }
  const options: PublicDatasetImportOptions = { checkImages: flags.checkImages };
  if (flags.strict) options.strict = true;
  const views = viewsFlag(flags.views);
  if (views !== undefined) options.views = views;
  if (flags.split !== undefined) options.split = choiceFlag('split', flags.split, ['official', 'none'] as const);
  if (flags.reports !== undefined) options.reports = flags.reports;
  return options;
}

export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description('import a dataset (MIMIC-CXR-JPG, CheXpert, IU X-ray, or any CSV / TSV / JSONL table) into a radlearn manifest')
    .argument('<source>', 'the dataset root folder, or for --from csv the table file')
    .requiredOption('--from <format>', `dataset format: ${IMPORT_FORMATS.join(' | ')}`)
    .requiredOption('-o, --out <file>', 'manifest to write (CSV; .jsonl writes JSONL)')
    .option('--views <views>', "keep only these views: 'frontal' (PA/AP and their spellings) or a list such as PA,AP or lateral")
    .option('--strict', 'fail on the first missing image (or report file) instead of dropping the row')
    .option('--no-check-images', 'do not check that image files exist')
    .option('--split <mode>', 'public formats: official (the dataset split) | none')
    .option('--reports <path>', 'public formats: where the report texts are, when apart from the images')
    .option('--image <column>', 'csv: the image path column')
    .option('--image-template <template>', 'csv: image path built from columns, e.g. images/{patientid}/{filename}')
    .option('--image-root <dir>', "csv: folder relative image and report paths start from (default: the table's folder)")
    .option('--report <column>', 'csv: report text column (repeat for several; they are joined as titled sections)', collect)
    .option('--report-path <column-or-template>', 'csv: report file column, or a template over columns')
    .option('--patient <column>', 'csv: patient id column (default: patient_id, patientid, subject_id or patient)')
    .option('--study <column>', 'csv: study id column (default: each row is its own study)')
    .option('--view <column>', 'csv: view column (default: view, view_position, viewposition or projection when present)')
    .option('--split-column <column>', 'csv: split column (train / val / test)')
    .option('--group <column>', 'csv: column grouping rows for splits instead of the patient (source, site)')
    .option(
      '--filter <expr>',
      'csv: keep rows where column=value, column!=value, column~regex or column!~regex (repeat: all must hold)',
      collect,
    )
    .option(
      '--label <spec>',
      'csv: a label as name=column[:mapping], e.g. covid=finding:contains COVID-19 (repeatable; see docs/datasets.md)',
      collect,
    )
    .option('--labeler [observations]', "csv: add the report labeler's observations (all 14, or a comma list) from the report text")
    .option('--uncertain <policy>', `csv labeler: uncertain mentions ${LABELER_UNCERTAIN_POLICIES.join(' | ')} (default keep: -1)`)
    .option('--not-mentioned <policy>', `csv labeler: observations never mentioned ${NOT_MENTIONED_POLICIES.join(' | ')} (default missing)`)
    .option('--delimiter <char>', 'csv: field delimiter (one character, or tab / semicolon / pipe)')
    .option('--format <format>', 'csv: table format csv | tsv | jsonl (default from the extension)')
    .option('--json', 'print the summary as JSON')
    .action(async (source: string, flags: ManifestFlags) => {
      const format = choiceFlag('from', flags.from, IMPORT_FORMATS) as ImportFormat;
      let result: ImportResult;
      if (format === 'csv') result = await importDataset('csv', source, csvOptions(flags));
      else result = await importDataset(format, source, publicOptions(flags));
      const summary = await writeImportedManifest(result, flags.out);
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`${summaryLines(summary).join('\n')}\n`);
    });
}
