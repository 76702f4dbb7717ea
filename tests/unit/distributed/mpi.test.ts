import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { distributedLines } from '../../../src/cli/commands/doctor.js';
import { launchEnvironment } from '../../../src/distributed/launch.js';
import { mpiRequired, mpirun, mpirunMissing, repoRoot } from '../../helpers/mpi.js';

const missing = mpirunMissing();
if (missing && mpiRequired()) throw new Error(missing);
const withMpi = missing ? it.skip : it;

/** Each rank's JSON line from the collectives script. */
function rankLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => (a.rank as number) - (b.rank as number));
}

describe('MPI collectives across processes (mpirun, Open MPI loaded at run time)', () => {
  withMpi(
    'sum, max, gather and broadcast over 3 ranks give what a float64 reference gives',
    () => {
      const run = mpirun(3, 'tests/unit/distributed/mpi-collectives-rank.ts');
      expect(run.status, run.stderr).toBe(0);
      const ranks = rankLines(run.stdout);
      expect(ranks.map((r) => r.rank)).toEqual([0, 1, 2]);
      const n = 100_003;
      const value = (rank: number, i: number): number => Math.fround(Math.sin(i * 0.37 + rank) * (rank + 1) + 1 / (i + 3));
      for (const r of ranks) {
        expect(r.size).toBe(3);
        expect(r.launch).toMatchObject({ launcher: 'openmpi', rank: r.rank, size: 3 });
        const sums = r.sum32 as number[];
        for (let i = 0; i < 5; i++) {
          const reference = value(0, i) + value(1, i) + value(2, i);
          expect(Math.abs(sums[i]! - reference)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.max(1, Math.abs(reference)));
        }
        const tail = value(0, n - 1) + value(1, n - 1) + value(2, n - 1);
        expect(Math.abs((r.sum32Tail as number) - tail)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.max(1, Math.abs(tail)));
        expect(r.max64).toEqual(Array.from({ length: 7 }, (_, i) => 2000 + i + 0.125));
        expect(r.gathered).toEqual([0, 0.5, -1, 1, 1.5, -2, 2, 2.5, -3]);
        expect(r.bytes).toEqual([9, 8, 7, 6, 5]);
      }
      // every rank holds the same bits of the sum
      expect(new Set(ranks.map((r) => JSON.stringify([r.sum32, r.sum32Tail]))).size).toBe(1);
    },
    120_000,
  );

  withMpi(
    'a rank that aborts ends the whole job with its code, not a hang',
    () => {
      const run = mpirun(2, 'tests/unit/distributed/mpi-collectives-rank.ts', ['abort']);
      // Open MPI 4.1 prints its MPI_ABORT notice only some of the time (its help-message relay can
      // fail while the job is torn down); the aborting rank's code is what it always passes on
      expect(run.status, run.stderr).toBe(3);
      expect(rankLines(run.stdout)).toEqual([]);
    },
    120_000,
  );
});

describe('without MPI', () => {
  const script = (body: string): string =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
      cwd: repoRoot,
      env: { ...process.env, RADLEARN_MPI_LIBRARY: '/nonexistent/libmpi.so' },
      encoding: 'utf8',
    });

  it('reports why MPI is unavailable, and asking for it is a typed error naming the library', () => {
    const out = JSON.parse(
      script(`
        import { mpiStatus, mpiWorld } from './src/distributed/mpi.ts';
        const status = mpiStatus();
        let error;
        try { mpiWorld(); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
        console.log(JSON.stringify({ status, error }));
      `),
    ) as { status: { available: boolean; reason: string }; error: { name: string; code: string; message: string } };
    expect(out.status.available).toBe(false);
    expect(out.status.reason).toMatch(/\/nonexistent\/libmpi\.so.*apt-get install openmpi-bin/);
    expect(out.error).toMatchObject({ name: 'DistributedError', code: 'ERR_MPI' });
    expect(out.error.message).toMatch(/MPI is not available: .*\/nonexistent\/libmpi\.so/);
  });

  withMpi(
    'NCCL between GPUs: without NCCL or a GPU every rank gets the reason (none waits for the others), and a library that is not NCCL is named',
    () => {
      for (const [env, reason] of [
        [{}, /NCCL is not available: (no NCCL library could be loaded|.*no CUDA device|this addon was built without CUDA)/],
        [
          { RADLEARN_NCCL_LIBRARY: 'libmpi.so.40' },
          /NCCL is not available: (libmpi\.so\.40 lacks NCCL functions: ncclGetVersion|this addon was built without CUDA)/,
        ],
      ] as const) {
        const saved = { ...process.env };
        Object.assign(process.env, env);
        try {
          const run = mpirun(2, 'tests/unit/distributed/nccl-rank.ts');
          expect(run.status, run.stderr).toBe(0);
          const ranks = rankLines(run.stdout);
          expect(ranks.map((r) => r.rank)).toEqual([0, 1]);
          for (const r of ranks) {
            expect(r.error).toMatchObject({ name: 'DistributedError', code: 'ERR_MPI' });
            expect((r.error as { message: string }).message).toMatch(reason);
          }
        } finally {
          process.env = saved;
        }
      }
    },
    60_000,
  );

  it("doctor's lines say which MPI loads and where this process stands", () => {
    const launch = launchEnvironment({});
    expect(
      distributedLines({ available: true, library: 'libmpi.so.40', version: 'Open MPI v4.1.4, package: Debian', reason: '' }, launch),
    ).toEqual(['mpi:            Open MPI v4.1.4 (libmpi.so.40)', 'this process:   rank 0 of 1 (not started by mpirun or srun)']);
    expect(
      distributedLines(
        { available: false, library: '', version: '', reason: 'no MPI library could be loaded' },
        { launcher: 'slurm', rank: 3, size: 8, localRank: 1, localSize: 4 },
      ),
    ).toEqual(['mpi:            not available: no MPI library could be loaded', 'this process:   rank 3 of 8 (slurm)']);
    expect(
      distributedLines({ available: true, library: 'libmpi.so.40', version: 'Open MPI v4.1.4', reason: '' }, launch, {
        available: false,
        library: 'libnccl.so.2',
        version: '',
        reason: 'this addon was built without CUDA',
      })[1],
    ).toBe('nccl:           not available: this addon was built without CUDA');
    expect(
      distributedLines({ available: true, library: 'libmpi.so.40', version: 'Open MPI v4.1.4', reason: '' }, launch, {
        available: true,
        library: 'libnccl.so.2',
        version: '2.21.5',
        reason: '',
      })[1],
    ).toBe('nccl:           2.21.5 (libnccl.so.2), between GPUs');
  });
});

describe('radlearn train under a launcher', () => {
  it('refuses a run that cannot train data-parallel (batch-statistics BatchNorm) as one rank of several, before reading any data or loading MPI', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { train } from './src/index.ts';
        const run = train({ name: 'x', mode: 'clip-finetune', runsDir: '/nonexistent/runs', steps: 1, data: { manifest: '/nonexistent/m.csv' }, finetune: { batchNorm: 'batch' } });
        run.result.then(() => console.log('trained'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })));
      `,
      ],
      { cwd: repoRoot, env: { ...process.env, OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' }, encoding: 'utf8' },
    );
    const error = JSON.parse(out.trim().split('\n').pop()!) as { name: string; code: string; message: string };
    expect(error).toMatchObject({ name: 'DistributedError', code: 'ERR_MPI' });
    expect(error.message).toMatch(/rank 1 of 2 \(openmpi\): finetune.batchNorm 'batch' cannot train across processes yet/);
  });
});
