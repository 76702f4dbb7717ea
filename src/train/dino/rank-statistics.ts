/**
 * The teacher statistics DINO and iBOT take over the whole batch, reduced over the ranks of a
 * data-parallel job (as DINOv2's distributed training does), so every rank's targets are the
 * ones one process would compute for the global batch.
 *
 * Center: c <- m c + (1 - m) mean of the teacher rows the loss used, the mean over every rank's
 * rows (float64 sums and counts, summed over the ranks).
 *
 * Sinkhorn-Knopp: with x = t / tau, the iterations alternate a prototype scaling
 * log a_k = -logsumexp_n(x_nk + log b_n) over the batch's rows n (every rank's: a max and a sum
 * all-reduce of K values) and a row scaling log b_n = -logsumexp_k(x_nk + log a_k) (each rank
 * its own rows). The last step normalises rows, so the targets are softmax_k(x_nk + log a_k):
 * exactly the centered softmax with center c_k = -tau log a_k, which the loss kernels then
 * apply to this rank's rows. Rows are [rows, K] logits, or those of `rows` picked by `select`.
 */
import type { DataParallel } from '../../distributed/data-parallel.js';

/** The teacher rows a statistic is taken over: every row, or those whose mask byte is non-zero. */
export interface TeacherRows {
  logits: Float32Array;
  prototypes: number;
  /** Non-zero = the row counts (iBOT's masked patches); absent: every row. */
  select?: Uint8Array;
}

function rowIndices(t: TeacherRows): number[] {
  const n = t.logits.length / t.prototypes;
  const out: number[] = [];
  for (let r = 0; r < n; r++) if (!t.select || t.select[r]) out.push(r);
  return out;
}

/** Replaces `center` by m c + (1 - m) mean over every rank's selected rows; no row anywhere: unchanged. */
export function updateCenterOverRanks(parallel: DataParallel, center: Float32Array, teacher: TeacherRows, momentum: number): void {
  const K = teacher.prototypes;
  const sums = new Float64Array(K + 1);
  for (const r of rowIndices(teacher)) {
    const row = teacher.logits.subarray(r * K, (r + 1) * K);
    for (let k = 0; k < K; k++) sums[k]! += row[k]!;
    sums[K]! += 1;
  }
  parallel.sum(sums);
  const count = sums[K]!;
  if (count === 0) return;
  for (let k = 0; k < K; k++) center[k] = momentum * center[k]! + ((1 - momentum) * sums[k]!) / count;
}

/**
 * The center c [K] for which softmax((t - c) / tau) over this rank's rows is Sinkhorn-Knopp
 * (`iterations` rounds) over every rank's selected rows. No row anywhere: zeros.
 */
export function sinkhornCenterOverRanks(
  parallel: DataParallel,
  teacher: TeacherRows,
  temperature: number,
  iterations: number,
): Float32Array {
  const K = teacher.prototypes;
  const rows = rowIndices(teacher);
  const x = new Float64Array(rows.length * K);
  rows.forEach((r, i) => {
    for (let k = 0; k < K; k++) x[i * K + k] = teacher.logits[r * K + k]! / temperature;
  });
  const logB = new Float64Array(rows.length);
  const logA = new Float64Array(K);
  const max = new Float64Array(K);
  const sum = new Float64Array(K);
  for (let it = 0; it < iterations; it++) {
    max.fill(-Infinity);
    for (let i = 0; i < rows.length; i++) for (let k = 0; k < K; k++) max[k] = Math.max(max[k]!, x[i * K + k]! + logB[i]!);
    parallel.max(max);
    if (!Number.isFinite(max[0]!)) return new Float32Array(K);
    sum.fill(0);
    for (let i = 0; i < rows.length; i++) for (let k = 0; k < K; k++) sum[k]! += Math.exp(x[i * K + k]! + logB[i]! - max[k]!);
    parallel.sum(sum);
    for (let k = 0; k < K; k++) logA[k] = -(max[k]! + Math.log(sum[k]!));
    for (let i = 0; i < rows.length; i++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, x[i * K + k]! + logA[k]!);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(x[i * K + k]! + logA[k]! - m);
      logB[i] = -(m + Math.log(s));
    }
  }
  return Float32Array.from(logA, (a) => -temperature * a);
}
