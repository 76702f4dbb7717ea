/**
 * Turning raw label columns into the cases a binary metric may use. Labels follow
 * the CheXpert convention: 1 positive, 0 negative, -1 uncertain, and null / NaN /
 * undefined for "not labelled". Uncertain labels are dropped, or mapped to 1 or 0,
 * by policy; missing labels are always dropped (per label, not per case).
 *
 * Rule used across eval/: problems in the data (one class only, non-finite scores)
 * give NaN metrics with a reason, so a report is never cut short; problems in the
 * call (shapes that disagree, values that are not labels, bad options) throw.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';

export type UncertainPolicy = 'ignore' | 'ones' | 'zeros';
export type RawLabel = number | null | undefined;

/** Scores and 0/1 labels of the cases that have a usable label. */
export interface LabelledCases {
  scores: Float64Array;
  labels: Uint8Array;
  /** Indices of the kept cases in the input arrays. */
  indices: Int32Array;
  nPositive: number;
  nNegative: number;
  /** Cases dropped because they had no label (null / NaN / undefined, or uncertain under 'ignore'). */
  nMissing: number;
  nUncertain: number;
  /** Labelled cases whose score is NaN or infinite (kept out of `scores`). */
  nNonFiniteScores: number;
  /** Index in the input of the first such case, or -1. */
  firstNonFiniteIndex: number;
}

/** Maps one raw label to 1, 0, or -1 for "drop"; throws on values that are not labels. */
export function binarizeLabel(value: RawLabel, policy: UncertainPolicy, where: string): 1 | 0 | -1 {
  if (value === null || value === undefined || Number.isNaN(value)) return -1;
  if (value === 1) return 1;
  if (value === 0) return 0;
  if (value === -1) return policy === 'ones' ? 1 : policy === 'zeros' ? 0 : -1;
  throw new InvalidArgumentError(
    `${where}: label ${String(value)} is not a binary label (expected 1, 0, -1 for uncertain, or null/NaN for missing)`,
    { value },
  );
}

export function assertUncertainPolicy(policy: string): asserts policy is UncertainPolicy {
  if (policy !== 'ignore' && policy !== 'ones' && policy !== 'zeros') {
    throw new InvalidArgumentError(`uncertain policy '${policy}' is not one of 'ignore', 'ones', 'zeros'`, { policy });
  }
}

/**
 * Keeps the labelled cases of one binary label. Labelled cases with a non-finite
 * score are counted, not kept: metrics refuse to rank them (see nonFiniteReason).
 */
export function selectLabelledCases(
  scores: ArrayLike<number>,
  labels: ArrayLike<RawLabel>,
  options: { uncertain?: UncertainPolicy; name?: string } = {},
): LabelledCases {
  const policy = options.uncertain ?? 'ignore';
  assertUncertainPolicy(policy);
  const name = options.name ?? 'labels';
  if (scores.length !== labels.length) {
    throw new ShapeError(`${name}: ${scores.length} scores but ${labels.length} labels; expected one score per label`, {
      scores: scores.length,
      labels: labels.length,
    });
  }
  const n = scores.length;
  const keptScores = new Float64Array(n);
  const keptLabels = new Uint8Array(n);
  const indices = new Int32Array(n);
  let kept = 0;
  let nPositive = 0;
  let nUncertain = 0;
  let nNonFinite = 0;
  let firstNonFinite = -1;
  for (let i = 0; i < n; i++) {
    const raw = labels[i];
    if (raw === -1) nUncertain++;
    const y = binarizeLabel(raw, policy, `${name}[${i}]`);
    if (y < 0) continue;
    const s = scores[i];
    if (!Number.isFinite(s)) {
      if (nNonFinite === 0) firstNonFinite = i;
      nNonFinite++;
      continue;
    }
    keptScores[kept] = s;
    keptLabels[kept] = y;
    indices[kept] = i;
    nPositive += y;
    kept++;
  }
  return {
    scores: keptScores.slice(0, kept),
    labels: keptLabels.slice(0, kept),
    indices: indices.slice(0, kept),
    nPositive,
    nNegative: kept - nPositive,
    nMissing: n - kept - nNonFinite,
    nUncertain,
    nNonFiniteScores: nNonFinite,
    firstNonFiniteIndex: firstNonFinite,
  };
}

/** Why a metric over these cases must be NaN, or undefined when it can be computed. */
export function degenerateReason(cases: LabelledCases): string | undefined {
  if (cases.nNonFiniteScores > 0) {
    return `${cases.nNonFiniteScores} labelled case(s) have a non-finite score (first at index ${cases.firstNonFiniteIndex})`;
  }
  if (cases.nPositive === 0 && cases.nNegative === 0) return 'no labelled cases';
  if (cases.nPositive === 0) return `only negatives (${cases.nNegative}) among labelled cases`;
  if (cases.nNegative === 0) return `only positives (${cases.nPositive}) among labelled cases`;
  return undefined;
}

/** Column j of a row-major [rows, cols] matrix, as float64. */
export function matrixColumn(matrix: ArrayLike<number>, rows: number, cols: number, j: number, name = 'matrix'): Float64Array {
  assertMatrixShape(matrix, rows, cols, name);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = matrix[i * cols + j];
  return out;
}

/** Column j of a row-major [rows, cols] label matrix; null stays null. */
export function labelColumn(matrix: ArrayLike<RawLabel>, rows: number, cols: number, j: number, name = 'labels'): RawLabel[] {
  assertMatrixShape(matrix, rows, cols, name);
  const out: RawLabel[] = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = matrix[i * cols + j];
  return out;
}

export function assertMatrixShape(matrix: { length: number }, rows: number, cols: number, name: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
    throw new ShapeError(`${name}: shape [${rows}, ${cols}] is not a valid matrix shape`, { rows, cols });
  }
  if (matrix.length !== rows * cols) {
    throw new ShapeError(`${name}: length ${matrix.length} does not match shape [${rows}, ${cols}] (expected ${rows * cols})`, {
      length: matrix.length,
      rows,
      cols,
    });
  }
}
