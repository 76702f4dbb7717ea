/**
 * Which launcher started this process, and its rank among how many: read from the variables
 * Open MPI's mpirun, PMIx/PMI launchers and Slurm's srun set. A process nobody launched as part of
 * a job is rank 0 of 1, exactly as a run without any of this.
 */
import { InvalidArgumentError } from '../errors.js';

export type Launcher = 'openmpi' | 'pmix' | 'pmi' | 'slurm' | 'none';

export interface LaunchEnvironment {
  launcher: Launcher;
  rank: number;
  size: number;
  /** Rank among the processes on this node (which GPU to take). */
  localRank: number;
}

/** [rank, size, local rank] variables of each launcher, the most specific first. */
const LAUNCHERS: Array<[Exclude<Launcher, 'none'>, string, string, string | undefined]> = [
  ['openmpi', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK'],
  ['pmix', 'PMIX_RANK', 'PMIX_SIZE', 'PMIX_LOCAL_RANK'],
  ['pmi', 'PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID'],
  ['slurm', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID'],
];

function whole(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const text = env[name]!;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min)
    throw new InvalidArgumentError(`${name} is '${text}'; a launcher sets it to a whole number >= ${min}`, { name, value: text });
  return value;
}

export function launchEnvironment(env: NodeJS.ProcessEnv = process.env): LaunchEnvironment {
  for (const [launcher, rankName, sizeName, localName] of LAUNCHERS) {
    if (env[rankName] === undefined || env[sizeName] === undefined) continue;
    const rank = whole(env, rankName, 0);
    const size = whole(env, sizeName, 1);
    if (rank >= size) throw new InvalidArgumentError(`${rankName}=${rank} is not a rank of ${sizeName}=${size}`, { rank, size });
    const localRank = localName && env[localName] !== undefined ? whole(env, localName, 0) : 0;
    return { launcher, rank, size, localRank };
  }
  return { launcher: 'none', rank: 0, size: 1, localRank: 0 };
}
