/**
 * NCCL between GPUs, on a machine with a GPU and NCCL installed: one rank per GPU (at least one),
 * the collectives on device tensors against what the ranks' values give. Skips (saying why)
 * where NCCL or a GPU is missing.
 */
import { describe, expect, it } from 'vitest';
import { ncclStatus } from '../../src/distributed/nccl.js';
import { mpirun, mpirunMissing } from '../helpers/mpi.js';

const nccl = ncclStatus();
const why = mpirunMissing() ?? (nccl.available ? null : nccl.reason);
console.log(why ? `[nccl tests] skipped: ${why}` : `[nccl tests] NCCL ${nccl.version} (${nccl.library})`);
const withNccl = why ? it.skip : it;

describe('NCCL collectives on device tensors', () => {
  withNccl('sum, max, gather and broadcast over the ranks (one rank per GPU; all on GPU 0 when there is one)', () => {
    const ranks = Number(process.env.RADLEARN_NCCL_RANKS ?? '1');
    const run = mpirun(ranks, 'tests/unit/distributed/nccl-gpu-rank.ts', [], 120_000);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { rank: number; sum: number[]; max: number[]; gathered: number[]; broadcast: number[] });
    expect(lines).toHaveLength(ranks);
    const total = (ranks * (ranks + 1)) / 2;
    for (const r of lines) {
      expect(r.sum).toEqual([0.5, 1.5, 2.5].map((v) => v * total));
      expect(r.max).toEqual([0.5, 1.5, 2.5].map((v) => v * ranks));
      expect(r.gathered).toEqual(Array.from({ length: ranks }, (_, k) => [k, k === 0 ? 0 : -k]).flat());
      expect(r.broadcast).toEqual([7, 8, 9]);
    }
  });
});
