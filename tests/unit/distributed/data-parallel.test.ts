/**
 * The data-parallel helpers without MPI: one process is the identity, and over a simulated
 * second rank (a communicator whose peer contributes fixed values) the slices, the global mean
 * and its gradient shares are what the whole batch gives.
 */
import { describe, expect, it } from 'vitest';
import { batchMean, dataParallel, globalMean, SINGLE_PROCESS } from '../../../src/distributed/data-parallel.js';
import type { Communicator } from '../../../src/distributed/mpi.js';

/** Rank `rank` of 2, whose peer's reduction inputs are `peer` (float64 sums) and gathers `peerRows`. */
function withPeer(rank: number, peer: number[], peerRows: number[] = []): Communicator {
  return {
    rank,
    size: 2,
    allreduce(values, op = 'sum') {
      values.forEach((v, i) => (values[i] = op === 'sum' ? v + peer[i]! : Math.max(v, peer[i]!)));
      return values;
    },
    allgather(values) {
      const out = new (values.constructor as Float64ArrayConstructor)(values.length * 2) as typeof values;
      out.set(rank === 0 ? values : peerRows, 0);
      out.set(rank === 0 ? peerRows : values, values.length);
      return out;
    },
    broadcast: (view) => view,
    barrier: () => undefined,
    abort: () => {
      throw new Error('abort');
    },
  };
}

describe('data parallelism', () => {
  it('in one process the batch is the global batch and every collective returns its input', () => {
    const batch = Int32Array.of(4, 1, 7);
    expect(SINGLE_PROCESS.local(batch)).toBe(batch);
    const grad = Float32Array.of(0.25, -0.5);
    expect(globalMean(SINGLE_PROCESS, 0.7, 3, grad)).toEqual({ mean: 0.7, count: 3 });
    expect(Array.from(grad)).toEqual([0.25, -0.5]);
    expect(batchMean(SINGLE_PROCESS, 9, 4)).toBe(9 / 4);
    expect(SINGLE_PROCESS.any(false)).toBe(false);
    expect(SINGLE_PROCESS.identical(Float32Array.of(1))).toBe(true);
  });

  it('each rank takes its contiguous slice; a batch that does not split evenly is refused', () => {
    const batch = Int32Array.of(10, 11, 12, 13, 14, 15);
    expect(Array.from(dataParallel(withPeer(0, [])).local(batch))).toEqual([10, 11, 12]);
    expect(Array.from(dataParallel(withPeer(1, [])).local(batch))).toEqual([13, 14, 15]);
    expect(() => dataParallel(withPeer(1, [])).local(Int32Array.of(1, 2, 3))).toThrow(
      /a batch of 3 rows cannot be split evenly over 2 ranks/,
    );
  });

  it('the global mean weighs each rank by its count, and the gradient share sums to the whole batch gradient', () => {
    // this rank: 4 entries with mean 0.5; the peer: 2 entries summing to 3 (mean 1.5)
    const grad = Float32Array.of(0.25, -0.125, 0.5, 1);
    const r = globalMean(dataParallel(withPeer(0, [3, 2])), 0.5, 4, grad);
    expect(r.count).toBe(6);
    expect(r.mean).toBeCloseTo(5 / 6, 15);
    // d(sum/6)/dx = (d(mean_local)/dx) * 4 / 6
    expect(Array.from(grad)).toEqual([0.25, -0.125, 0.5, 1].map((g) => Math.fround(g * (4 / 6))));
    // no entry counted anywhere: mean 0, no gradient
    expect(globalMean(dataParallel(withPeer(1, [0, 0])), 0, 0, new Float32Array(2))).toEqual({ mean: 0, count: 0 });
    expect(batchMean(dataParallel(withPeer(1, [5, 4])), 3, 4)).toBe(1);
  });

  it('gathers rows rank by rank, agrees on a flag any rank raises, and compares bits across ranks', () => {
    const rank1 = dataParallel(withPeer(1, [1], [9, 8]));
    expect(Array.from(rank1.gatherRows(Float32Array.of(1, 2)))).toEqual([9, 8, 1, 2]);
    expect(rank1.any(false)).toBe(true);
    expect(dataParallel(withPeer(0, [0])).any(false)).toBe(false);
    expect(rank1.takeCommMs()).toBeGreaterThanOrEqual(0);
    expect(rank1.takeCommMs()).toBe(0);
  });
});
