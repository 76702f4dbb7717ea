import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { coresForThisProcess, launchEnvironment } from '../../../src/distributed/launch.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('launchEnvironment', () => {
  it('reads the rank, size and local rank each launcher sets, the most specific first', () => {
    expect(launchEnvironment({})).toEqual({ launcher: 'none', rank: 0, size: 1, localRank: 0, localSize: 1 });
    expect(
      launchEnvironment({
        OMPI_COMM_WORLD_RANK: '3',
        OMPI_COMM_WORLD_SIZE: '4',
        OMPI_COMM_WORLD_LOCAL_RANK: '1',
        OMPI_COMM_WORLD_LOCAL_SIZE: '2',
      }),
    ).toEqual({ launcher: 'openmpi', rank: 3, size: 4, localRank: 1, localSize: 2 });
    // srun of an Open MPI program sets both; Open MPI's own variables win
    expect(
      launchEnvironment({ SLURM_PROCID: '5', SLURM_NTASKS: '8', SLURM_LOCALID: '1', OMPI_COMM_WORLD_RANK: '5', OMPI_COMM_WORLD_SIZE: '8' }),
    ).toMatchObject({ launcher: 'openmpi', rank: 5, size: 8, localRank: 0 });
    expect(launchEnvironment({ SLURM_PROCID: '2', SLURM_NTASKS: '3', SLURM_LOCALID: '0' })).toEqual({
      launcher: 'slurm',
      rank: 2,
      size: 3,
      localRank: 0,
      localSize: 1,
    });
    expect(launchEnvironment({ PMIX_RANK: '1', PMIX_SIZE: '2' })).toMatchObject({ launcher: 'pmix', rank: 1, size: 2 });
    expect(launchEnvironment({ PMI_RANK: '0', PMI_SIZE: '2', MPI_LOCALRANKID: '0' })).toMatchObject({ launcher: 'pmi', size: 2 });
  });

  it("shares the cores of a node between the job's processes on it", () => {
    const all = availableParallelism();
    expect(coresForThisProcess({})).toBe(all);
    expect(coresForThisProcess({ OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '8', OMPI_COMM_WORLD_LOCAL_SIZE: '2' })).toBe(
      Math.max(1, Math.floor(all / 2)),
    );
    // more ranks than cores: one each
    expect(coresForThisProcess({ PMIX_RANK: '0', PMIX_SIZE: '512', PMIX_LOCAL_SIZE: '512' })).toBe(1);
  });

  it('refuses values no launcher writes, naming the variable', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ OMPI_COMM_WORLD_RANK: 'x', OMPI_COMM_WORLD_SIZE: '2' }, /OMPI_COMM_WORLD_RANK is 'x'/],
      [{ SLURM_PROCID: '0', SLURM_NTASKS: '0' }, /SLURM_NTASKS is '0'.*>= 1/],
      [{ PMIX_RANK: '2', PMIX_SIZE: '2' }, /PMIX_RANK=2 is not a rank of PMIX_SIZE=2/],
    ];
    for (const [env, message] of bad) {
      expect(() => launchEnvironment(env)).toThrow(InvalidArgumentError);
      expect(() => launchEnvironment(env)).toThrow(message);
    }
  });
});
