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
import type { StudyConfig } from './config.js';

export interface StudyTableRow {
  pretraining: string;
  downstream: string;
  fraction: number;
  seeds: number;
  mentioned: { mean: number; sd: number };
  unmentioned: Record<string, { mean: number; sd: number; ci: [number, number] }>;
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
        const mentionedMacro = group.map((c) => {
          const v = c.perLabel.filter((l) => !unmentioned.includes(l.label) && Number.isFinite(l.auroc)).map((l) => l.auroc);
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
        });
        const um: StudyTableRow['unmentioned'] = {};
        for (const label of unmentioned) {
          const ls = group.map((c) => c.perLabel.find((l) => l.label === label)).filter((l) => l !== undefined);
          const s = meanSd(ls.map((l) => l.auroc));
          const lo = meanSd(ls.map((l) => l.ci[0])).mean;
          const hi = meanSd(ls.map((l) => l.ci[1])).mean;
          um[label] = { mean: s.mean, sd: s.sd, ci: [lo, hi] };
        }
        rows.push({ pretraining, downstream, fraction, seeds: group.length, mentioned: meanSd(mentionedMacro), unmentioned: um });
      }
    }
  }
  return rows;
}

/** Markdown table: one row per (pre-training, downstream, fraction). */
export function studyTable(rows: readonly StudyTableRow[], unmentioned: readonly string[]): string {
  const header = [
    'pre-training',
    'downstream',
    'labels',
    'seeds',
    'mentioned labels macro AUROC',
    ...unmentioned.flatMap((l) => [`${l} AUROC`, `${l} DeLong 95% CI`]),
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
        const mentioned = c.perLabel.filter((l) => !unmentioned.includes(l.label) && Number.isFinite(l.auroc));
        // the arm's headline curve: macro AUROC over the labels the reports mention
        metrics.macroAuroc = mentioned.length ? mentioned.reduce((a, l) => a + l.auroc, 0) / mentioned.length : NaN;
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
  const section = `\n\n## Study table\n\nAUROC on the test split, mean ± sd over seeds; DeLong 95% CI of the test AUROC (mean of the per-seed bounds). "Mentioned": macro over the labels the reports state; ${unmentioned.join(', ')}: never in the reports.\n\n${table}\n`;
  await writeFileAtomic(files.markdown, at < 0 ? md + section : md.slice(0, at) + section + md.slice(at));
  return { files, table };
}
