/**
 * Label-fraction sweeps: for each fraction of the training pool (e.g. 1%, 10%,
 * 100%) and each seed, draw a subset, let the caller fit a predictor on it (a
 * linear probe, an MLP head, kNN...), evaluate on the fixed test split, and
 * summarise every metric as mean ± sd across seeds. Training is injected, so the
 * same runner serves every arm of a study.
 */
import { InvalidArgumentError } from '../errors.js';
import { evaluateMultiLabel, type MultiLabelEvaluation } from './evaluate.js';
import { assertMatrixShape, binarizeLabel, type RawLabel, type UncertainPolicy } from './labels.js';
import { createEvalRng, seededPermutation } from '../random/index.js';
import type { ThresholdMetric } from './threshold.js';

export interface SweepPredictor<TInput> {
  /** Scores for the given inputs, row-major [N, L]. */
  predict(inputs: TInput): ArrayLike<number> | Promise<ArrayLike<number>>;
}

export interface SweepRunInfo {
  arm: string;
  fraction: number;
  seed: number;
  /** Position of this run in the sweep and the total, for progress display. */
  runIndex: number;
  runCount: number;
}

export interface LabelFractionSweepOptions<TInput> {
  /** Name of the arm (e.g. 'clip-finetune / linear probe'), shown in tables and plots. */
  arm?: string;
  fractions: readonly number[];
  seeds: readonly number[];
  /** Size of the training pool; subsets are indices 0..poolSize-1 into it. */
  poolSize: number;
  /**
   * Row-major [poolSize, L] labels of the pool. When given, each subset is topped
   * up so that every label has at least one positive and one negative (when the
   * pool has them): at 1% a rare finding could otherwise be absent entirely.
   */
  poolLabels?: ArrayLike<RawLabel>;
  labelNames: string[];
  fit: (trainIndices: Int32Array, seed: number, info: SweepRunInfo) => Promise<SweepPredictor<TInput>>;
  test: { inputs: TInput; labels: ArrayLike<RawLabel> };
  /** Validation split to choose F1/MCC thresholds on; without it F1/MCC are not reported. */
  validation?: { inputs: TInput; labels: ArrayLike<RawLabel> };
  thresholdMetric?: ThresholdMetric;
  uncertain?: UncertainPolicy;
  level?: number;
  /** Called after each run (progress bars, logging, checkpointing results). */
  onRun?: (run: SweepRun, info: SweepRunInfo) => void;
}

export interface SweepRun {
  fraction: number;
  seed: number;
  trainSize: number;
  seconds: number;
  /** Flat metrics: macroAuroc, macroAuprc, macroF1, macroMcc, auroc:<label>, auprc:<label>, f1:<label>, mcc:<label>. */
  metrics: Record<string, number>;
  /** Per-label reasons for NaN metrics, if any. */
  reasons: Record<string, string>;
  /** Per-label DeLong interval of this run's test AUROC. */
  aurocCI: Record<string, [number, number]>;
}

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n - 1); NaN with fewer than 2 finite values. */
  sd: number;
  /** Seeds with a finite value. */
  n: number;
}

export interface SweepSummaryRow {
  fraction: number;
  meanTrainSize: number;
  metrics: Record<string, MeanSd>;
}

export interface LabelFractionSweepResult {
  arm: string;
  labelNames: string[];
  fractions: number[];
  seeds: number[];
  runs: SweepRun[];
  summary: SweepSummaryRow[];
}

export async function sweepLabelFractions<TInput>(options: LabelFractionSweepOptions<TInput>): Promise<LabelFractionSweepResult> {
  const arm = options.arm ?? 'probe';
  const { fractions, seeds, poolSize, labelNames } = options;
  if (fractions.length === 0 || seeds.length === 0)
    throw new InvalidArgumentError('label-fraction sweep: fractions and seeds must be non-empty', {});
  for (const f of fractions) {
    if (!(f > 0 && f <= 1)) throw new InvalidArgumentError(`label-fraction sweep: fraction ${f} must lie in (0, 1]`, { fraction: f });
  }
  for (const s of seeds)
    if (!Number.isInteger(s)) throw new InvalidArgumentError(`label-fraction sweep: seed ${s} must be an integer`, { seed: s });
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new InvalidArgumentError(`label-fraction sweep: poolSize ${poolSize} must be a positive integer`, { poolSize });
  if (options.poolLabels) assertMatrixShape(options.poolLabels, poolSize, labelNames.length, 'poolLabels');

  const runs: SweepRun[] = [];
  const runCount = fractions.length * seeds.length;
  let runIndex = 0;
  for (const fraction of fractions) {
    for (const seed of seeds) {
      const info: SweepRunInfo = { arm, fraction, seed, runIndex, runCount };
      const start = performance.now();
      const trainIndices = labelFractionSubset(poolSize, fraction, seed, {
        labels: options.poolLabels,
        numLabels: labelNames.length,
        uncertain: options.uncertain,
      });
      const predictor = await options.fit(trainIndices, seed, info);
      const testScores = await predictor.predict(options.test.inputs);
      const validation = options.validation
        ? { scores: await predictor.predict(options.validation.inputs), labels: options.validation.labels }
        : undefined;
      const evaluation = evaluateMultiLabel({
        name: `${arm} @ ${fraction}`,
        labelNames,
        scores: testScores,
        labels: options.test.labels,
        validation,
        thresholdMetric: options.thresholdMetric,
        uncertain: options.uncertain,
        level: options.level,
        rocPoints: 2,
      });
      const run: SweepRun = {
        fraction,
        seed,
        trainSize: trainIndices.length,
        seconds: (performance.now() - start) / 1000,
        ...flattenEvaluation(evaluation),
      };
      runs.push(run);
      options.onRun?.(run, info);
      runIndex++;
    }
  }
  return { arm, labelNames: [...labelNames], fractions: [...fractions], seeds: [...seeds], runs, summary: summarizeRuns(runs, fractions) };
}

/** The flat metric record a sweep aggregates. */
export function flattenEvaluation(evaluation: MultiLabelEvaluation): Pick<SweepRun, 'metrics' | 'reasons' | 'aurocCI'> {
  const metrics: Record<string, number> = {
    macroAuroc: evaluation.macro.auroc,
    macroAuprc: evaluation.macro.auprc,
  };
  const reasons: Record<string, string> = {};
  const aurocCI: Record<string, [number, number]> = {};
  const hasThresholds = evaluation.thresholdMetric !== 'none';
  if (hasThresholds) {
    metrics.macroF1 = evaluation.macro.f1;
    metrics.macroMcc = evaluation.macro.mcc;
  }
  for (const e of evaluation.perLabel) {
    metrics[`auroc:${e.label}`] = e.auroc;
    metrics[`auprc:${e.label}`] = e.auprc;
    if (hasThresholds) {
      metrics[`f1:${e.label}`] = e.atThreshold?.f1 ?? NaN;
      metrics[`mcc:${e.label}`] = e.atThreshold?.mcc ?? NaN;
    }
    aurocCI[e.label] = e.aurocCI;
    if (e.reason !== undefined) reasons[e.label] = e.reason;
  }
  return { metrics, reasons, aurocCI };
}

export function summarizeRuns(runs: readonly SweepRun[], fractions: readonly number[]): SweepSummaryRow[] {
  return fractions.map((fraction) => {
    const group = runs.filter((r) => r.fraction === fraction);
    const keys = [...new Set(group.flatMap((r) => Object.keys(r.metrics)))];
    const metrics: Record<string, MeanSd> = {};
    for (const key of keys) metrics[key] = meanSd(group.map((r) => r.metrics[key] ?? NaN));
    const meanTrainSize = group.reduce((s, r) => s + r.trainSize, 0) / Math.max(1, group.length);
    return { fraction, meanTrainSize, metrics };
  });
}

/** Mean and sample sd of the finite values. */
export function meanSd(values: readonly number[]): MeanSd {
  const finite = values.filter((v) => Number.isFinite(v));
  const n = finite.length;
  if (n === 0) return { mean: NaN, sd: NaN, n };
  const mean = finite.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, sd: NaN, n };
  const ss = finite.reduce((s, v) => s + (v - mean) * (v - mean), 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)), n };
}

/**
 * The training subset for one (fraction, seed): the first round(fraction·N)
 * entries (at least 1) of a seeded permutation, so for a given seed smaller
 * fractions are subsets of larger ones. With labels, topped up to one positive
 * and one negative per label where the pool has them. Sorted ascending.
 */
export function labelFractionSubset(
  poolSize: number,
  fraction: number,
  seed: number,
  options: { labels?: ArrayLike<RawLabel>; numLabels?: number; uncertain?: UncertainPolicy } = {},
): Int32Array {
  const perm = seededPermutation(poolSize, createEvalRng(seed));
  const size = Math.min(poolSize, Math.max(1, Math.round(fraction * poolSize)));
  const chosen = Array.from(perm.subarray(0, size));
  if (options.labels && options.numLabels) {
    const numLabels = options.numLabels;
    const policy = options.uncertain ?? 'ignore';
    const label = (i: number, l: number): number => binarizeLabel(options.labels![i * numLabels + l], policy, `poolLabels[${i}, ${l}]`);
    for (let l = 0; l < numLabels; l++) {
      for (const want of [1, 0]) {
        if (chosen.some((i) => label(i, l) === want)) continue;
        for (let p = size; p < poolSize; p++) {
          const i = perm[p];
          if (label(i, l) === want && !chosen.includes(i)) {
            chosen.push(i);
            break;
          }
        }
      }
    }
  }
  return Int32Array.from(chosen).sort();
}
