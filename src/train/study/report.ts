/**
 * The study's table (AUROC mean ± sd over seeds, DeLong CI) and report.md with the
 * AUROC-vs-label-fraction plots (src/eval writeEvalReport; one sweep per arm).
 */
import { readFile } from 'node:fs/promises';
import { meanSd, summarizeRuns, type LabelFractionSweepResult, type SweepRun } from '../../eval/sweep.js';
import { writeEvalReport, type EvalReportFiles } from '../../eval/report/writeReport.js';
import type { LossCurve } from '../../eval/report/plots.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { CellResult } from './cells.js';
import type { EncoderCheck, Interval } from './encoder-checks.js';
import type { StudyConfig } from './config.js';

export interface StudyTableRow {
  pretraining: string;
  downstream: string;
  fraction: number;
  seeds: number;
  mentioned: { mean: number; sd: number };
  unmentioned: Record<string, { mean: number; sd: number; ci: [number, number] }>;
  /** Per external site: the same figures on that site's cases (models trained in-site only). */
  external: Record<string, { mentioned: { mean: number; sd: number }; unmentioned: StudyTableRow['unmentioned'] }>;
}

type PerLabel = CellResult['perLabel'];

function mentionedMacro(perLabel: PerLabel, unmentioned: readonly string[]): number {
  const v = perLabel.filter((l) => !unmentioned.includes(l.label) && Number.isFinite(l.auroc)).map((l) => l.auroc);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

function unmentionedSummary(perLabels: readonly PerLabel[], unmentioned: readonly string[]): StudyTableRow['unmentioned'] {
  const um: StudyTableRow['unmentioned'] = {};
  for (const label of unmentioned) {
    const ls = perLabels.map((p) => p.find((l) => l.label === label)).filter((l) => l !== undefined);
    const s = meanSd(ls.map((l) => l.auroc));
    um[label] = { mean: s.mean, sd: s.sd, ci: [meanSd(ls.map((l) => l.ci[0])).mean, meanSd(ls.map((l) => l.ci[1])).mean] };
  }
  return um;
}

/** External sites named by any cell, in order. */
export function externalSites(cells: readonly CellResult[]): string[] {
  return [...new Set(cells.flatMap((c) => (c.external ?? []).map((e) => e.site)))].sort();
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const pm = (m: { mean: number; sd: number }): string => `${f3(m.mean)} ± ${Number.isFinite(m.sd) ? m.sd.toFixed(3) : '–'}`;

export function studyRows(config: StudyConfig, cells: readonly CellResult[], unmentioned: readonly string[]): StudyTableRow[] {
  const rows: StudyTableRow[] = [];
  for (const pretraining of config.pretraining) {
    for (const downstream of config.downstream) {
      for (const fraction of config.fractions) {
        const group = cells.filter((c) => c.pretraining === pretraining && c.downstream === downstream && c.fraction === fraction);
        if (group.length === 0) continue;
        const external: StudyTableRow['external'] = {};
        for (const site of externalSites(group)) {
          const perLabels = group.map((c) => c.external?.find((e) => e.site === site)?.perLabel).filter((p) => p !== undefined);
          external[site] = {
            mentioned: meanSd(perLabels.map((p) => mentionedMacro(p, unmentioned))),
            unmentioned: unmentionedSummary(perLabels, unmentioned),
          };
        }
        rows.push({
          pretraining,
          downstream,
          fraction,
          seeds: group.length,
          mentioned: meanSd(group.map((c) => mentionedMacro(c.perLabel, unmentioned))),
          unmentioned: unmentionedSummary(
            group.map((c) => c.perLabel),
            unmentioned,
          ),
          external,
        });
      }
    }
  }
  return rows;
}

/** Markdown table: one row per (pre-training, downstream, fraction). */
export function studyTable(rows: readonly StudyTableRow[], unmentioned: readonly string[]): string {
  const sites = [...new Set(rows.flatMap((r) => Object.keys(r.external)))].sort();
  const header = [
    'pre-training',
    'downstream',
    'labels',
    'seeds',
    'mentioned labels macro AUROC',
    ...unmentioned.flatMap((l) => [`${l} AUROC`, `${l} DeLong 95% CI`]),
    ...sites.flatMap((site) => [`external ${site}: mentioned macro AUROC`, ...unmentioned.map((l) => `external ${site}: ${l} AUROC [CI]`)]),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [
      r.pretraining,
      r.downstream,
      `${+(r.fraction * 100).toFixed(2)}%`,
      String(r.seeds),
      pm(r.mentioned),
      ...unmentioned.flatMap((l) => {
        const u = r.unmentioned[l]!;
        return [pm(u), `[${f3(u.ci[0])}, ${f3(u.ci[1])}]`];
      }),
      ...sites.flatMap((site) => {
        const e = r.external[site];
        if (!e) return ['–', ...unmentioned.map(() => '–')];
        return [
          pm(e.mentioned),
          ...unmentioned.map((l) => `${f3(e.unmentioned[l]!.mean)} [${f3(e.unmentioned[l]!.ci[0])}, ${f3(e.unmentioned[l]!.ci[1])}]`),
        ];
      }),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One label-fraction sweep per (pre-training, downstream) arm, for the report's plots. */
export function studySweeps(
  config: StudyConfig,
  cells: readonly CellResult[],
  labelNames: readonly string[],
  unmentioned: readonly string[],
): LabelFractionSweepResult[] {
  const sweeps: LabelFractionSweepResult[] = [];
  for (const pretraining of config.pretraining) {
    for (const downstream of config.downstream) {
      const group = cells.filter((c) => c.pretraining === pretraining && c.downstream === downstream);
      if (group.length === 0) continue;
      const runs: SweepRun[] = group.map((c) => {
        const metrics: Record<string, number> = {};
        const aurocCI: Record<string, [number, number]> = {};
        // the arm's headline curve: macro AUROC over the labels the reports mention
        metrics.macroAuroc = mentionedMacro(c.perLabel, unmentioned);
        for (const l of c.perLabel) {
          metrics[`auroc:${l.label}`] = l.auroc;
          aurocCI[l.label] = l.ci;
        }
        return { fraction: c.fraction, seed: c.seed, trainSize: 0, seconds: c.seconds, metrics, reasons: {}, aurocCI };
      });
      const fractions = config.fractions.filter((f) => group.some((c) => c.fraction === f));
      sweeps.push({
        arm: `${pretraining} / ${downstream}`,
        labelNames: [...labelNames],
        fractions,
        seeds: [...new Set(group.map((c) => c.seed))],
        runs,
        summary: summarizeRuns(runs, fractions),
      });
    }
  }
  return sweeps;
}

export async function writeStudyReport(
  dir: string,
  config: StudyConfig,
  cells: readonly CellResult[],
  labelNames: readonly string[],
  unmentioned: readonly string[],
  meta: Record<string, string | number | boolean>,
  notes: string[],
  lossCurves: LossCurve[] = [],
  encoderChecks: readonly EncoderCheck[] = [],
): Promise<{ files: EvalReportFiles; table: string }> {
  const table = studyTable(studyRows(config, cells, unmentioned), unmentioned);
  const files = await writeEvalReport(dir, {
    title: `radlearn study (${config.name}): when do reports help?`,
    meta,
    sweeps: studySweeps(config, cells, labelNames, unmentioned),
    notes,
    lossCurves,
  });
  // the study table goes first, under the title
  const md = await readFile(files.markdown, 'utf8');
  const at = md.indexOf('\n\n');
  const sites = externalSites(cells);
  const externalNote =
    sites.length > 0 && config.data.external
      ? ` External validation by ${config.data.external.column}: every model is pre-trained, trained and thresholded on ${config.data.external.train.join(', ')} only; "external ${sites.join('/')}" columns are its AUROCs on that site's cases, the other columns on the in-site test split.`
      : '';
  const checks =
    encoderChecks.length > 0
      ? `\n\n## Frozen encoders: kNN and grade probe\n\n${encoderChecksSection(encoderChecks, config.data.grade ?? undefined)}\n`
      : '';
  const section = `\n\n## Study table\n\nAUROC on the test split, mean ± sd over seeds; DeLong 95% CI of the test AUROC (mean of the per-seed bounds). "Mentioned": macro over the labels the reports state; ${unmentioned.join(', ')}: never in the reports.${externalNote}\n\n${table}\n${checks}`;
  await writeFileAtomic(files.markdown, at < 0 ? md + section : md.slice(0, at) + section + md.slice(at));
  return { files, table };
}

const ci = (v: Interval | undefined): string => (v ? `${f3(v.estimate)} [${f3(v.ci[0])}, ${f3(v.ci[1])}]` : '–');

/** The frozen encoders' table: kNN macro AUROC (and its difference from random init) and the grade probe, per test group. */
export function encoderChecksSection(checks: readonly EncoderCheck[], gradeColumn: string | undefined): string {
  const header = ['pre-training', 'seed', 'test cases', 'kNN macro AUROC [95% CI]', 'kNN vs random init [95% CI]'];
  if (gradeColumn) header.push(`${gradeColumn} accuracy [95% CI]`, `${gradeColumn} quadratic-weighted kappa [95% CI]`);
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const c of checks)
    for (const g of c.groups) {
      const cells = [c.pretraining, String(c.seed), `${g.group} (${g.cases})`, ci(g.knnMacroAuroc), ci(g.knnVsNone)];
      if (gradeColumn) cells.push(ci(g.grade?.accuracy), ci(g.grade?.kappa));
      lines.push(`| ${cells.join(' | ')} |`);
    }
  const intro = `Each encoder frozen, no downstream run: a kNN vote (k = 20, exponential weights, T = 0.07) from the training split's features on the labels the reports mention${
    gradeColumn ? `, and an ordinal linear probe (cumulative logits, 500 full-batch AdamW steps) on ${gradeColumn}` : ''
  }, scored on each test group. 95% CIs: percentile bootstrap over test cases (1000 resamples); "vs random init" is the paired difference on the same resamples, so a CI above 0 means the pre-training put label information into the features that a random ViT lacks.`;
  return `${intro}\n\n${lines.join('\n')}`;
}
