/**
 * writeEvalReport(dir, results): report.md (tables), report.json (everything, NaN
 * as null) and SVG figures (ROC curves per label, AUROC vs label fraction, loss
 * curves), each written atomically. Nothing is drawn for sections without data.
 */
import { join } from 'node:path';
import type { ArmComparison, MultiLabelEvaluation } from '../evaluate.js';
import type { KappaResult, MultiClassMetrics } from '../multiclass.js';
import type { LabelFractionSweepResult } from '../sweep.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { armTableSection, comparisonSection, evaluationSection, metaSection, ordinalSection, sweepSection } from './markdown.js';
import { aurocVsFractionPerLabelSpec, aurocVsFractionSpec, lossCurvesSpec, renderSvg, rocCurvesSpec, type LossCurve } from './plots.js';
import { InvalidArgumentError } from '../../errors.js';

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
}

export interface EvalReportFiles {
  markdown: string;
  json: string;
  /** SVG files written, by figure name. */
  plots: Record<string, string>;
}

export async function writeEvalReport(dir: string, results: EvalReportInput, options: { plots?: boolean } = {}): Promise<EvalReportFiles> {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('writeEvalReport: dir must be a non-empty path', { dir });
  const evaluations = results.evaluations ?? [];
  const sweeps = results.sweeps ?? [];
  const plots: Record<string, string> = {};
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
      await writeFileAtomic(path, await renderSvg(spec));
      plots[name] = path;
    }
  }
  const markdown = join(dir, 'report.md');
  const json = join(dir, 'report.json');
  await writeFileAtomic(markdown, renderReportMarkdown(results, Object.keys(plots)));
  await writeFileAtomic(json, reportJson(results));
  return { markdown, json, plots };
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

/** JSON with typed arrays as arrays and NaN/±Infinity as null (JSON has no NaN). */
export function reportJson(results: EvalReportInput): string {
  return (
    JSON.stringify(
      { format: 'radlearn-eval-report', version: 1, ...results },
      (_key, value: unknown) => {
        if (typeof value === 'number' && !Number.isFinite(value)) return null;
        if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
        return value;
      },
      2,
    ) + '\n'
  );
}
