/**
 * Vega-Lite specs for the report's figures, rendered to SVG in Node by vega's
 * headless View (no canvas needed). Each builder returns a spec, or undefined
 * when there is nothing to draw; renderSvg turns a spec into an SVG string.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { MultiLabelEvaluation } from '../evaluate.js';
import type { LabelFractionSweepResult } from '../sweep.js';

export interface LossCurve {
  name: string;
  points: readonly { step: number; loss: number }[];
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const CONFIG = {
  font: 'sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
};

/** Loaded on first use: vega is large and ESM-only, and most imports of radlearn never plot. */
let plotting: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  plotting ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vegaLite] = await plotting;
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** ROC curves, one panel per label, one line per evaluation, chance diagonal dashed. */
export function rocCurvesSpec(evaluations: readonly MultiLabelEvaluation[], options: { columns?: number } = {}): TopLevelSpec | undefined {
  const rows: Record<string, string | number>[] = [];
  const labels: string[] = [];
  for (const evaluation of evaluations) {
    for (const e of evaluation.perLabel) {
      if (!Number.isFinite(e.auroc) || e.roc.fpr.length === 0) continue;
      if (!labels.includes(e.label)) labels.push(e.label);
      const series = `${evaluation.name} (AUROC ${e.auroc.toFixed(3)})`;
      e.roc.fpr.forEach((fpr, i) => rows.push({ label: e.label, arm: evaluation.name, series, i, fpr, tpr: e.roc.tpr[i] }));
    }
  }
  if (rows.length === 0) return undefined;
  for (const label of labels) {
    rows.push(
      { label, arm: 'chance', series: 'chance', i: 0, fpr: 0, tpr: 0 },
      { label, arm: 'chance', series: 'chance', i: 1, fpr: 1, tpr: 1 },
    );
  }
  const arms = [...evaluations.map((e) => e.name), 'chance'];
  const range = arms.map((_, i) => (i === arms.length - 1 ? '#9a9a9a' : PALETTE[i % PALETTE.length]));
  return {
    $schema: SCHEMA,
    title: 'ROC curves per label (test split)',
    data: { values: rows },
    facet: { field: 'label', type: 'nominal', title: null, sort: labels, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: options.columns ?? Math.min(4, labels.length),
    spec: {
      width: 180,
      height: 180,
      mark: { type: 'line', strokeWidth: 1.8, clip: true },
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: '1 − specificity', scale: { domain: [0, 1] } },
        y: { field: 'tpr', type: 'quantitative', title: 'sensitivity', scale: { domain: [0, 1] } },
        color: { field: 'arm', type: 'nominal', title: 'model', scale: { domain: arms, range } },
        strokeDash: { condition: { test: "datum.arm === 'chance'", value: [4, 4] }, value: [1, 0] },
        detail: { field: 'series', type: 'nominal' },
        order: { field: 'i', type: 'quantitative' },
      },
    },
    config: CONFIG,
  } as TopLevelSpec;
}

interface SweepPoint {
  arm: string;
  label: string;
  fraction: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

function sweepPoints(sweeps: readonly LabelFractionSweepResult[], metricKey: (label?: string) => string, perLabel: boolean): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const sweep of sweeps) {
    const labels = perLabel ? sweep.labelNames : [undefined];
    for (const label of labels) {
      for (const row of sweep.summary) {
        const m = row.metrics[metricKey(label)];
        if (!m || !Number.isFinite(m.mean)) continue;
        const sd = Number.isFinite(m.sd) ? m.sd : 0;
        out.push({
          arm: sweep.arm,
          label: label ?? 'macro',
          fraction: row.fraction,
          mean: m.mean,
          lo: m.mean - sd,
          hi: m.mean + sd,
          n: m.n,
        });
      }
    }
  }
  return out;
}

function fractionLayers(arms: string[], yTitle: string): object[] {
  const color = {
    field: 'arm',
    type: 'nominal',
    title: 'arm',
    scale: { domain: arms, range: arms.map((_, i) => PALETTE[i % PALETTE.length]) },
  };
  const x = {
    field: 'fraction',
    type: 'quantitative',
    title: 'label fraction',
    scale: { type: 'log' },
    axis: { format: '%', values: [0.001, 0.01, 0.1, 1] },
  };
  // Every layer uses the same y scale definition, so the merged scale is not forced to include 0.
  const y = (field: string) => ({ field, type: 'quantitative', title: yTitle, scale: { zero: false, nice: true } });
  return [
    { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: y('lo'), y2: { field: 'hi' }, color } },
    { mark: { type: 'tick', orient: 'horizontal', size: 8, thickness: 1.5 }, encoding: { x, y: y('lo'), color } },
    { mark: { type: 'tick', orient: 'horizontal', size: 8, thickness: 1.5 }, encoding: { x, y: y('hi'), color } },
    { mark: { type: 'line', point: { size: 40 }, strokeWidth: 2 }, encoding: { x, y: y('mean'), color } },
  ];
}

/** Macro AUROC against label fraction, one line per arm, error bars ± 1 sd across seeds. */
export function aurocVsFractionSpec(sweeps: readonly LabelFractionSweepResult[]): TopLevelSpec | undefined {
  const points = sweepPoints(sweeps, () => 'macroAuroc', false);
  if (points.length === 0) return undefined;
  const arms = [...new Set(points.map((p) => p.arm))];
  return {
    $schema: SCHEMA,
    title: 'Macro AUROC vs label fraction',
    width: 420,
    height: 280,
    data: { values: points },
    layer: fractionLayers(arms, 'AUROC (mean ± sd over seeds)'),
    config: CONFIG,
  } as TopLevelSpec;
}

/** Per-label AUROC against label fraction, one panel per label. */
export function aurocVsFractionPerLabelSpec(sweeps: readonly LabelFractionSweepResult[]): TopLevelSpec | undefined {
  const points = sweepPoints(sweeps, (label) => `auroc:${label}`, true);
  if (points.length === 0) return undefined;
  const arms = [...new Set(points.map((p) => p.arm))];
  const labels = [...new Set(points.map((p) => p.label))];
  return {
    $schema: SCHEMA,
    title: 'AUROC vs label fraction, per label',
    data: { values: points },
    facet: { field: 'label', type: 'nominal', title: null, sort: labels, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: Math.min(4, labels.length),
    spec: { width: 180, height: 160, layer: fractionLayers(arms, 'AUROC ± sd') },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Training loss against step, one line per run (thinned to at most maxPoints each). */
export function lossCurvesSpec(
  curves: readonly LossCurve[],
  options: { maxPoints?: number; logScale?: boolean } = {},
): TopLevelSpec | undefined {
  const maxPoints = options.maxPoints ?? 2000;
  const rows: { run: string; step: number; loss: number }[] = [];
  for (const curve of curves) {
    const finite = curve.points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss));
    const stride = Math.max(1, Math.ceil(finite.length / maxPoints));
    finite.forEach((p, i) => {
      if (i % stride === 0 || i === finite.length - 1) rows.push({ run: curve.name, step: p.step, loss: p.loss });
    });
  }
  if (rows.length === 0) return undefined;
  const logScale = options.logScale ?? false;
  const runs = [...new Set(rows.map((r) => r.run))];
  return {
    $schema: SCHEMA,
    title: 'Training loss',
    width: 520,
    height: 280,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: logScale ? { type: 'log' } : { zero: false } },
      color: {
        field: 'run',
        type: 'nominal',
        title: 'run',
        scale: { domain: runs, range: runs.map((_, i) => PALETTE[i % PALETTE.length]) },
      },
      order: { field: 'step', type: 'quantitative' },
    },
    config: CONFIG,
  } as TopLevelSpec;
}
