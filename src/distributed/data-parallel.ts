/**
 * Data parallelism over the ranks of one job: each rank computes its slice of every global batch,
 * and the few collectives a step needs (gathering embeddings for a loss over the whole batch,
 * summing gradients and loss statistics) go through the job's communicator. One process is the
 * job of size 1, where every collective is the identity, so a run without MPI computes exactly
 * what it did before any of this existed.
 */
import { createHash } from 'node:crypto';
import { DistributedError, type Communicator } from './mpi.js';

export interface DataParallel {
  readonly rank: number;
  readonly size: number;
  /** This rank's rows of a global batch: slice `rank` of `size` equal contiguous slices. */
  local(batch: Int32Array): Int32Array;
  /** Every rank's rows [rows, dim] stacked rank by rank (the global batch's rows, in order). */
  gatherRows(local: Float32Array): Float32Array;
  /** Element-wise sum over the ranks, in place. */
  sum<T extends Float32Array | Float64Array>(values: T): T;
  /** Element-wise maximum over the ranks, in place. */
  max<T extends Float32Array | Float64Array>(values: T): T;
  /** Whether any rank passes true. */
  any(flag: boolean): boolean;
  /** Whether `values` holds the same bits on every rank (compared by a SHA-256 prefix). */
  identical(values: Float32Array): boolean;
  /** Milliseconds spent in collectives since the last call (then restarts from 0). */
  takeCommMs(): number;
}

/** A single process: its batch is the global batch, and every collective returns its input. */
export const SINGLE_PROCESS: DataParallel = {
  rank: 0,
  size: 1,
  local: (batch) => batch,
  gatherRows: (local) => local,
  sum: (values) => values,
  max: (values) => values,
  any: (flag) => flag,
  identical: () => true,
  takeCommMs: () => 0,
};

/** 48 bits of the SHA-256 of `values`' bytes, exact as a float64. */
function fingerprint(values: Float32Array): number {
  const digest = createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest();
  return digest.readUIntBE(0, 6);
}

/** Data parallelism over `world`'s ranks. */
export function dataParallel(world: Communicator): DataParallel {
  const { rank, size } = world;
  let commMs = 0;
  const timed = <T>(call: () => T): T => {
    const t0 = performance.now();
    try {
      return call();
    } finally {
      commMs += performance.now() - t0;
    }
  };
  return {
    rank,
    size,
    local(batch) {
      if (batch.length % size !== 0)
        throw new DistributedError(`a batch of ${batch.length} rows cannot be split evenly over ${size} ranks`, {
          batch: batch.length,
          size,
        });
      const n = batch.length / size;
      return batch.subarray(rank * n, (rank + 1) * n);
    },
    gatherRows: (local) => timed(() => world.allgather(local)),
    sum: (values) => timed(() => world.allreduce(values, 'sum')),
    max: (values) => timed(() => world.allreduce(values, 'max')),
    any: (flag) => timed(() => world.allreduce(Float64Array.of(flag ? 1 : 0), 'max')[0]! > 0),
    identical(values) {
      const mine = fingerprint(values);
      return timed(() => world.allgather(Float64Array.of(mine))).every((v) => v === mine);
    },
    takeCommMs() {
      const ms = commMs;
      commMs = 0;
      return ms;
    },
  };
}

/**
 * A mean over the global batch from each rank's mean of `count` entries: returns the global mean
 * and count, and rescales the rank's gradient of its own mean (in place) into its share of the
 * gradient of the global one, so the sum of the ranks' gradients is the single-process gradient.
 */
export function globalMean(parallel: DataParallel, mean: number, count: number, grad: Float32Array): { mean: number; count: number } {
  if (parallel.size === 1) return { mean, count };
  const [total, all] = parallel.sum(Float64Array.of(mean * count, count));
  if (all! === 0) return { mean: 0, count: 0 };
  const share = count / all!;
  for (let i = 0; i < grad.length; i++) grad[i]! *= share;
  return { mean: total! / all!, count: all! };
}

/** The mean over the global batch of a per-row quantity whose sum over this rank's `rows` rows is `total`. */
export function batchMean(parallel: DataParallel, total: number, rows: number): number {
  if (parallel.size === 1) return total / rows;
  const [all, count] = parallel.sum(Float64Array.of(total, rows));
  return all! / count!;
}
