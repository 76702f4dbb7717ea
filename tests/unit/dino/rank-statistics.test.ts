/**
 * The teacher statistics a data-parallel DINO step reduces over the ranks, checked in one
 * process against the kernels they stand in for: the centered softmax with the Sinkhorn center
 * is the Sinkhorn-Knopp kernel's output, and the center update is the kernel's, over every row
 * or over the masked ones.
 */
import { describe, expect, it } from 'vitest';
import { SINGLE_PROCESS } from '../../../src/distributed/data-parallel.js';
import { sinkhornKnoppSync, updateCenterSync } from '../../../src/kernels/distill.js';
import { sinkhornCenterOverRanks, updateCenterOverRanks } from '../../../src/train/dino/rank-statistics.js';
import { randomFloats } from '../../helpers/random.js';

/** softmax_k((t - c) / tau) row by row, in float64. */
function centeredSoftmax(t: Float32Array, c: Float32Array, tau: number, K: number): Float64Array {
  const out = new Float64Array(t.length);
  for (let r = 0; r < t.length / K; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, (t[r * K + k]! - c[k]!) / tau);
    let s = 0;
    for (let k = 0; k < K; k++) s += out[r * K + k] = Math.exp((t[r * K + k]! - c[k]!) / tau - m);
    for (let k = 0; k < K; k++) out[r * K + k]! /= s;
  }
  return out;
}

describe('DINO teacher statistics over ranks (one process)', () => {
  it('the centered softmax with the Sinkhorn center is the Sinkhorn-Knopp kernel, at awkward sizes and temperatures', () => {
    for (const [rows, K, tau, iterations] of [
      [13, 37, 0.04, 3],
      [5, 64, 0.07, 1],
      [29, 11, 0.1, 5],
    ] as const) {
      const t = randomFloats(rows * K, rows + K).map((v) => 3 * v);
      const kernel = sinkhornKnoppSync(t, { rows, prototypes: K, temperature: tau, iterations });
      const center = sinkhornCenterOverRanks(SINGLE_PROCESS, { logits: t, prototypes: K }, tau, iterations);
      const ours = centeredSoftmax(t, center, tau, K);
      // the kernel works in float32 and the center is rounded to float32 before it is divided by tau
      for (let i = 0; i < t.length; i++) expect(Math.abs(ours[i]! - kernel[i]!)).toBeLessThanOrEqual(1e-5 * kernel[i]! + 1e-8);
    }
  });

  it('only the selected rows count: the Sinkhorn center of the masked rows equals that of those rows alone', () => {
    const K = 19;
    const t = randomFloats(10 * K, 4);
    const select = Uint8Array.from({ length: 10 }, (_, r) => (r % 3 === 0 ? 1 : 0));
    const picked = Float32Array.from({ length: 4 * K }, (_, i) => t[[0, 3, 6, 9][Math.floor(i / K)]! * K + (i % K)]!);
    const a = sinkhornCenterOverRanks(SINGLE_PROCESS, { logits: t, prototypes: K, select }, 0.05, 3);
    const b = sinkhornCenterOverRanks(SINGLE_PROCESS, { logits: picked, prototypes: K }, 0.05, 3);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(sinkhornCenterOverRanks(SINGLE_PROCESS, { logits: t, prototypes: K, select: new Uint8Array(10) }, 0.05, 3))).toEqual(
      new Array(K).fill(0),
    );
  });

  it('the center update over every rank is the kernel update over the rows; with no selected row it stays', () => {
    const rows = 17;
    const K = 23;
    const t = randomFloats(rows * K, 9);
    const start = randomFloats(K, 10);
    const kernel = updateCenterSync(start.slice(), t, { rows, prototypes: K, momentum: 0.9 });
    const ours = start.slice();
    updateCenterOverRanks(SINGLE_PROCESS, ours, { logits: t, prototypes: K }, 0.9);
    for (let k = 0; k < K; k++) expect(Math.abs(ours[k]! - kernel[k]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(kernel[k]!)));
    const kept = start.slice();
    updateCenterOverRanks(SINGLE_PROCESS, kept, { logits: t, prototypes: K, select: new Uint8Array(rows) }, 0.9);
    expect(Array.from(kept)).toEqual(Array.from(start));
  });
});
