/** The report.md text: one section per kind of result, tables first, figures linked. */
import type { ArmComparison, MultiLabelEvaluation } from '../evaluate.js';
import type { KappaResult, MultiClassMetrics } from '../multiclass.js';
import type { LabelFractionSweepResult } from '../sweep.js';
import { cell, fmt, fmtCI, fmtMeanSd, fmtP, fmtPercent, table } from './format.js';
import type { EvalReportInput } from './writeReport.js';

const pct = (level: number): string => `${Math.round(level * 100)}%`;

export function evaluationSection(evaluation: MultiLabelEvaluation): string {
  const hasThresholds = evaluation.thresholdMetric !== 'none';
  const header = ['Label', 'n (pos/neg)', `AUROC [${pct(evaluation.level)} CI]`, 'AUPRC'];
  if (hasThresholds) header.push('Threshold', 'F1', 'MCC', 'Bal. acc.');
  header.push('Note');
  const notes: string[] = [];
  const rows = evaluation.perLabel.map((e) => {
    const row = [cell(e.label), `${e.nPositive}/${e.nNegative}`, fmtCI(e.auroc, e.aurocCI), fmt(e.auprc)];
    const refs: string[] = [];
    const note = (text: string): void => {
      notes.push(`${e.label}: ${text}`);
      refs.push(`[${notes.length}]`);
    };
    if (e.reason !== undefined) note(e.reason);
    if (hasThresholds) {
      row.push(fmt(e.threshold?.threshold), fmt(e.atThreshold?.f1), fmt(e.atThreshold?.mcc), fmt(e.atThreshold?.balancedAccuracy));
      const thresholdReason = e.threshold && 'reason' in e.threshold ? e.threshold.reason : undefined;
      const reason = thresholdReason ?? e.atThreshold?.reason;
      // Skip a threshold note that only repeats the AUROC reason (same one-class test split).
      if (reason !== undefined && !(e.reason !== undefined && e.reason.includes(reason))) note(reason);
    }
    row.push(refs.join(' '));
    return row;
  });
  const macro = ['**Macro**', `${evaluation.macro.nLabels} labels`, `**${fmt(evaluation.macro.auroc)}**`, fmt(evaluation.macro.auprc)];
  if (hasThresholds) macro.push('', fmt(evaluation.macro.f1), fmt(evaluation.macro.mcc), fmt(evaluation.macro.balancedAccuracy));
  macro.push('');
  rows.push(macro);
  const how =
    evaluation.thresholdMetric === 'none'
      ? 'No validation split was given, so no threshold metrics are reported (choosing a threshold on the test split would bias them).'
      : evaluation.thresholdMetric === 'given'
        ? 'F1, MCC and balanced accuracy at thresholds given by the caller.'
        : `F1, MCC and balanced accuracy at per-label thresholds chosen on validation to maximise ${evaluation.thresholdMetric === 'youden' ? "Youden's J" : evaluation.thresholdMetric.toUpperCase()}.`;
  const parts = [
    `## ${cell(evaluation.name)}`,
    '',
    `${evaluation.nCases} test cases. AUROC CIs by DeLong's method; macro means over labels with a defined value. ${how}`,
    '',
    table(header, rows),
  ];
  if (notes.length > 0) parts.push('', ...notes.map((n, i) => `${i + 1}. ${cell(n)}`));
  return parts.join('\n');
}

/** AUROC of every evaluation side by side, one row per label. */
export function armTableSection(evaluations: readonly MultiLabelEvaluation[]): string {
  const labels = [...new Set(evaluations.flatMap((e) => e.labelNames))];
  const level = evaluations[0].level;
  const rows = labels.map((label) => [
    cell(label),
    ...evaluations.map((ev) => {
      const e = ev.perLabel.find((p) => p.label === label);
      return e ? fmtCI(e.auroc, e.aurocCI) : '—';
    }),
  ]);
  rows.push(['**Macro AUROC**', ...evaluations.map((ev) => `**${fmt(ev.macro.auroc)}**`)]);
  return [
    `## ${evaluations.map((e) => cell(e.name)).join(' vs ')}: AUROC [${pct(level)} CI]`,
    '',
    table(['Label', ...evaluations.map((e) => cell(e.name))], rows),
  ].join('\n');
}

export function comparisonSection(comparison: ArmComparison): string {
  const level = comparison.perLabel[0]?.level ?? 0.95;
  const rows = comparison.perLabel.map((c) => [
    cell(c.label),
    fmt(c.aurocA),
    fmt(c.aurocB),
    fmtCI(c.difference, c.ci),
    fmtP(c.pValue),
    c.reason !== undefined && !Number.isFinite(c.pValue) ? cell(c.reason) : '',
  ]);
  return [
    `### ${cell(comparison.nameA)} vs ${cell(comparison.nameB)}: DeLong test on the same test cases`,
    '',
    table(['Label', cell(comparison.nameA), cell(comparison.nameB), `Δ AUROC [${pct(level)} CI]`, 'p (two-sided)', 'Note'], rows),
  ].join('\n');
}

export function sweepSection(sweeps: readonly LabelFractionSweepResult[]): string {
  const fractions = [...new Set(sweeps.flatMap((s) => s.fractions))].sort((a, b) => a - b);
  const cellFor = (sweep: LabelFractionSweepResult, fraction: number, key: string): string => {
    const row = sweep.summary.find((r) => r.fraction === fraction);
    const m = row?.metrics[key];
    return m ? fmtMeanSd(m.mean, m.sd) : '—';
  };
  const parts = [
    '## Label-fraction sweep',
    '',
    `Mean ± sd over seeds (${[...new Set(sweeps.map((s) => s.seeds.length))].join('/')} seeds per cell); AUROC on the test split.`,
    '',
    '### Macro AUROC',
    '',
    table(
      ['Arm', ...fractions.map(fmtPercent)],
      sweeps.map((s) => [cell(s.arm), ...fractions.map((f) => cellFor(s, f, 'macroAuroc'))]),
    ),
  ];
  for (const sweep of sweeps) {
    const sizes = fractions.map((f) => {
      const row = sweep.summary.find((r) => r.fraction === f);
      return row ? `${fmtPercent(f)} (n≈${Math.round(row.meanTrainSize)})` : fmtPercent(f);
    });
    const rows = sweep.labelNames.map((label) => [cell(label), ...fractions.map((f) => cellFor(sweep, f, `auroc:${label}`))]);
    rows.push(['**Macro AUPRC**', ...fractions.map((f) => cellFor(sweep, f, 'macroAuprc'))]);
    if (sweep.summary.some((r) => r.metrics.macroF1 !== undefined)) {
      rows.push(['**Macro F1**', ...fractions.map((f) => cellFor(sweep, f, 'macroF1'))]);
      rows.push(['**Macro MCC**', ...fractions.map((f) => cellFor(sweep, f, 'macroMcc'))]);
    }
    parts.push('', `### ${cell(sweep.arm)}: AUROC per label`, '', table(['Label', ...sizes], rows));
  }
  return parts.join('\n');
}

export function ordinalSection(items: NonNullable<EvalReportInput['ordinal']>): string {
  const rows = items.map((o) => [
    cell(o.name),
    String(o.kappa.n),
    fmt(o.kappa.kappa),
    o.kappa.weights,
    fmt(o.metrics?.accuracy),
    fmt(o.metrics?.balancedAccuracy),
    fmt(o.metrics?.macroF1),
    o.kappa.reason !== undefined ? cell(o.kappa.reason) : '',
  ]);
  return [
    '## Graded / multi-class labels',
    '',
    table(['Task', 'n', 'Kappa', 'Weights', 'Accuracy', 'Bal. acc.', 'Macro F1', 'Note'], rows),
  ].join('\n');
}

export function metaSection(meta: Record<string, string | number | boolean>): string {
  return Object.entries(meta)
    .map(([k, v]) => `- **${cell(k)}**: ${cell(String(v))}`)
    .join('\n');
}

export type { KappaResult, MultiClassMetrics };
