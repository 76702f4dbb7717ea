/**
 * writeEvalReport(dir, results): report.md (tables), report.html (the same, figures embedded,
 * plus the gallery of most confident errors), report.json (everything but the thumbnails' pixels,
 * NaN as null) and SVG figures (ROC curves per label, AUROC vs label fraction, loss curves), each
 * written atomically. Nothing is drawn for sections without data.
 */
import { join } from 'node:path';
import type { ArmComparison, MultiLabelEvaluation } from '../evaluate.js';
import type { KappaResult, MultiClassMetrics } from '../multiclass.js';
import type { LabelFractionSweepResult } from '../sweep.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { armTableSection, comparisonSection, evaluationSection, metaSection, ordinalSection, sweepSection } from './markdown.js';
import { aurocVsFractionPerLabelSpec, aurocVsFractionSpec, lossCurvesSpec, renderSvg, rocCurvesSpec, type LossCurve } from './plots.js';
import { InvalidArgumentError } from '../../errors.js';
import { renderReportHtml, type ErrorCaseGallery, type ReportCase } from './html.js';

export interface EvalReportInput {
  title?: string;
  /** Facts shown at the top (dataset, encoder, commit, date...). */
  meta?: Record<string, string | number | boolean>;
  /** Sections in the caller's own markdown, after the facts (e.g. a training run's data summary). */
  sections?: Array<{ title: string; markdown: string }>;
  /** Multi-label evaluations (e.g. zero-shot, linear probe) on the same test split. */
  evaluations?: MultiLabelEvaluation[];
  /** DeLong comparisons between arms (from compareArms). */
  comparisons?: ArmComparison[];
  sweeps?: LabelFractionSweepResult[];
  /** Loss curves, e.g. the {step, loss} records of metrics.jsonl. */
  lossCurves?: LossCurve[];
  /** Graded labels (e.g. Kellgren–Lawrence): kappa and multi-class metrics. */
  ordinal?: { name: string; kappa: KappaResult; metrics?: MultiClassMetrics }[];
  /** Free text appended at the end. */
  notes?: string[];
  /** Thumbnails of the most confident errors per label, shown in report.html. */
  errorCases?: ErrorCaseGallery;
}

export interface EvalReportFiles {
  markdown: string;
  html: string;
  json: string;
  /** SVG files written, by figure name. */
  plots: Record<string, string>;
}

export async function writeEvalReport(dir: string, results: EvalReportInput, options: { plots?: boolean } = {}): Promise<EvalReportFiles> {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('writeEvalReport: dir must be a non-empty path', { dir });
  const evaluations = results.evaluations ?? [];
  const sweeps = results.sweeps ?? [];
  const plots: Record<string, string> = {};
  const svgs: Record<string, string> = {};
  if (options.plots ?? true) {
    const specs = {
      'roc-curves': rocCurvesSpec(evaluations),
      'auroc-vs-label-fraction': aurocVsFractionSpec(sweeps),
      'auroc-vs-label-fraction-per-label': aurocVsFractionPerLabelSpec(sweeps),
      'loss-curves': lossCurvesSpec(results.lossCurves ?? []),
    };
    for (const [name, spec] of Object.entries(specs)) {
      if (spec === undefined) continue;
      const path = join(dir, `${name}.svg`);
      const svg = await renderSvg(spec);
      await writeFileAtomic(path, svg);
      plots[name] = path;
      svgs[`${name}.svg`] = svg;
    }
  }
  const markdown = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  const text = renderReportMarkdown(results, Object.keys(plots));
  await writeFileAtomic(markdown, text);
  await writeFileAtomic(html, renderReportHtml(results.title ?? 'Evaluation report', text, svgs, results.errorCases));
  await writeFileAtomic(json, reportJson(results));
  return { markdown, html, json, plots };
}

const FIGURE_TITLES: Record<string, string> = {
  'roc-curves': 'ROC curves per label',
  'auroc-vs-label-fraction': 'Macro AUROC vs label fraction',
  'auroc-vs-label-fraction-per-label': 'AUROC vs label fraction, per label',
  'loss-curves': 'Training loss',
};

export function renderReportMarkdown(results: EvalReportInput, figures: readonly string[] = []): string {
  const parts = [`# ${results.title ?? 'Evaluation report'}`];
  if (results.meta && Object.keys(results.meta).length > 0) parts.push(metaSection(results.meta));
  for (const section of results.sections ?? []) parts.push(`## ${section.title}\n\n${section.markdown}`);
  const evaluations = results.evaluations ?? [];
  if (evaluations.length > 1) parts.push(armTableSection(evaluations));
  for (const comparison of results.comparisons ?? []) parts.push(comparisonSection(comparison));
  for (const evaluation of evaluations) parts.push(evaluationSection(evaluation));
  if ((results.sweeps ?? []).length > 0) parts.push(sweepSection(results.sweeps!));
  if ((results.ordinal ?? []).length > 0) parts.push(ordinalSection(results.ordinal!));
  if (figures.length > 0) {
    parts.push(['## Figures', ...figures.map((f) => `![${FIGURE_TITLES[f] ?? f}](${f}.svg)`)].join('\n\n'));
  }
  if ((results.notes ?? []).length > 0) parts.push(['## Notes', '', ...results.notes!.map((n) => `- ${n}`)].join('\n'));
  return parts.join('\n\n') + '\n';
}

/** The gallery without its pixels: which cases, with their captions and probabilities. */
function errorCasesSummary(gallery: ErrorCaseGallery | undefined): unknown {
  if (!gallery) return undefined;
  const strip = (cases: ReportCase[]): Array<Omit<ReportCase, 'png'>> =>
    cases.map(({ caption, probability }) => ({ caption, probability }));
  return {
    arm: gallery.arm,
    labels: gallery.labels.map((l) => ({ ...l, falsePositives: strip(l.falsePositives), falseNegatives: strip(l.falseNegatives) })),
  };
}

/** JSON with typed arrays as arrays and NaN/±Infinity as null (JSON has no NaN). */
export function reportJson(results: EvalReportInput): string {
  return (
    JSON.stringify(
      { format: 'radlearn-eval-report', version: 1, ...results, errorCases: errorCasesSummary(results.errorCases) },
      (_key, value: unknown) => {
        if (typeof value === 'number' && !Number.isFinite(value)) return null;
        if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
        return value;
      },
      2,
    ) + '\n'
  );
}
