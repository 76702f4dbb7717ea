/** Seeded fixtures for the eval tests (never zeros or constants). */
import { createEvalRng, type EvalRng } from '../../../src/random/index.js';

export { createEvalRng };

/** Standard normal by Box–Muller. */
export function gaussian(rng: EvalRng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A binary problem with signal: labels ~ Bernoulli(prevalence), scores = shift·y
 * + noise, rounded to `decimals` so that ties are common.
 */
export function scoredSample(
  n: number,
  seed: number,
  options: { prevalence?: number; shift?: number; decimals?: number } = {},
): { scores: Float64Array; labels: number[] } {
  const rng = createEvalRng(seed);
  const prevalence = options.prevalence ?? 0.35;
  const shift = options.shift ?? 1;
  const scale = 10 ** (options.decimals ?? 1);
  const scores = new Float64Array(n);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.next() < prevalence ? 1 : 0;
    labels.push(y);
    scores[i] = Math.round((shift * y + gaussian(rng)) * scale) / scale;
  }
  // Guarantee both classes for small n.
  if (n >= 2 && !labels.includes(1)) labels[0] = 1;
  if (n >= 2 && !labels.includes(0)) labels[n - 1] = 0;
  return { scores, labels };
}

/** psi(x, y) matrix reference: AUROC and structural components in O(m·n), float64. */
export function bruteForceDelong(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): { auroc: number; v10: number[]; v01: number[]; variance: number } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]);
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = pos.map((x) => neg.reduce((s, y) => s + psi(x, y), 0) / neg.length);
  const v01 = neg.map((y) => pos.reduce((s, x) => s + psi(x, y), 0) / pos.length);
  const auroc = v10.reduce((s, v) => s + v, 0) / pos.length;
  const sv = (v: number[]): number => v.reduce((s, x) => s + (x - auroc) ** 2, 0) / (v.length - 1);
  return { auroc, v10, v01, variance: sv(v10) / pos.length + sv(v01) / neg.length };
}
