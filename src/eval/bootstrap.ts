/**
 * Seeded percentile bootstrap, the general fallback for metrics without a closed
 * form variance (AUPRC, F1 at a fixed threshold, kappa, macro means). Resampling
 * can be stratified (e.g. by class, so every replicate keeps both classes).
 */
import { InvalidArgumentError } from '../errors.js';
import { checkLevel, mannWhitneyAuroc } from './auroc.js';
import { selectLabelledCases, degenerateReason, type RawLabel, type UncertainPolicy } from './labels.js';
import { createEvalRng } from '../random/index.js';

export interface BootstrapOptions {
  /** Number of replicates, default 1000. */
  reps?: number;
  seed?: number;
  level?: number;
  /** One stratum id per case; cases are resampled within their stratum. */
  strata?: ArrayLike<number>;
}

export interface BootstrapResult {
  /** The statistic on the original sample. */
  estimate: number;
  lower: number;
  upper: number;
  /** Standard deviation of the replicates. */
  standardError: number;
  level: number;
  reps: number;
  /** Replicates whose statistic was finite (the rest are dropped). */
  validReps: number;
  reason?: string;
}

/**
 * `statistic` receives the resampled case indices (0..n-1, with repetition) and
 * returns a number; NaN replicates are dropped and counted.
 */
export function bootstrapCI(n: number, statistic: (indices: Int32Array) => number, options: BootstrapOptions = {}): BootstrapResult {
  const reps = options.reps ?? 1000;
  if (!Number.isInteger(reps) || reps < 2) throw new InvalidArgumentError(`bootstrap reps ${reps} must be an integer >= 2`, { reps });
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`bootstrap sample size ${n} must be a non-negative integer`, { n });
  const level = checkLevel(options.level ?? 0.95);
  const rng = createEvalRng(options.seed ?? 0);
  const groups = strataGroups(n, options.strata);
  const identity = new Int32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const estimate = statistic(identity);

  const values: number[] = [];
  const sample = new Int32Array(n);
  for (let r = 0; r < reps; r++) {
    let w = 0;
    for (const group of groups) {
      for (let i = 0; i < group.length; i++) sample[w++] = group[rng.int(group.length)];
    }
    const v = statistic(sample);
    if (Number.isFinite(v)) values.push(v);
  }
  const base = { estimate, level, reps, validReps: values.length };
  if (values.length < 2) {
    return {
      ...base,
      lower: NaN,
      upper: NaN,
      standardError: NaN,
      reason: `only ${values.length} of ${reps} bootstrap replicates gave a finite statistic`,
    };
  }
  values.sort((a, b) => a - b);
  const alpha = 1 - level;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const out: BootstrapResult = {
    ...base,
    lower: quantileSorted(values, alpha / 2),
    upper: quantileSorted(values, 1 - alpha / 2),
    standardError: Math.sqrt(ss / (values.length - 1)),
  };
  if (values.length < reps * 0.9) out.reason = `${reps - values.length} of ${reps} replicates were degenerate and dropped`;
  return out;
}

/** Linear-interpolation quantile of ascending values (type 7, as R and NumPy default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function strataGroups(n: number, strata: ArrayLike<number> | undefined): Int32Array[] {
  if (strata === undefined) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return [all];
  }
  if (strata.length !== n)
    throw new InvalidArgumentError(`bootstrap strata has ${strata.length} entries for ${n} cases`, { n, strata: strata.length });
  const byId = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const id = strata[i];
    let list = byId.get(id);
    if (list === undefined) byId.set(id, (list = []));
    list.push(i);
  }
  return [...byId.keys()].sort((a, b) => a - b).map((id) => Int32Array.from(byId.get(id)!));
}

/** Class-stratified bootstrap CI of the AUROC (a check on, or alternative to, DeLong). */
export function bootstrapAurocCI(
  scores: ArrayLike<number>,
  labels: ArrayLike<RawLabel>,
  options: Omit<BootstrapOptions, 'strata'> & { uncertain?: UncertainPolicy } = {},
): BootstrapResult {
  const cases = selectLabelledCases(scores, labels, { uncertain: options.uncertain });
  const reason = degenerateReason(cases);
  if (reason !== undefined) {
    return {
      estimate: NaN,
      lower: NaN,
      upper: NaN,
      standardError: NaN,
      level: options.level ?? 0.95,
      reps: options.reps ?? 1000,
      validReps: 0,
      reason,
    };
  }
  const s = new Float64Array(cases.scores.length);
  const y = new Uint8Array(cases.scores.length);
  return bootstrapCI(
    cases.scores.length,
    (idx) => {
      for (let i = 0; i < idx.length; i++) {
        s[i] = cases.scores[idx[i]];
        y[i] = cases.labels[idx[i]];
      }
      return mannWhitneyAuroc(s, y);
    },
    { ...options, strata: cases.labels },
  );
}
