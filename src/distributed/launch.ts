/**
 * Which launcher started this process, and its rank among how many: read from the variables
 * Open MPI's mpirun, PMIx/PMI launchers and Slurm's srun set. A process nobody launched as part of
 * a job is rank 0 of 1, exactly as a run without any of this.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';

export type Launcher = 'openmpi' | 'pmix' | 'pmi' | 'slurm' | 'none';

export interface LaunchEnvironment {
  launcher: Launcher;
  rank: number;
  size: number;
  /** Rank among the processes on this node (which GPU to take). */
  localRank: number;
  /** Processes of the job on this node (1 when the launcher does not say). */
  localSize: number;
}

/** [rank, size, local rank, local size] variables of each launcher, the most specific first. */
const LAUNCHERS: Array<[Exclude<Launcher, 'none'>, string, string, string, string]> = [
  ['openmpi', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_LOCAL_SIZE'],
  ['pmix', 'PMIX_RANK', 'PMIX_SIZE', 'PMIX_LOCAL_RANK', 'PMIX_LOCAL_SIZE'],
  ['pmi', 'PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID', 'MPI_LOCALNRANKS'],
  ['slurm', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID', 'SLURM_NTASKS_PER_NODE'],
];

function whole(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const text = env[name]!;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min)
    throw new InvalidArgumentError(`${name} is '${text}'; a launcher sets it to a whole number >= ${min}`, { name, value: text });
  return value;
}

export function launchEnvironment(env: NodeJS.ProcessEnv = process.env): LaunchEnvironment {
  for (const [launcher, rankName, sizeName, localName, localSizeName] of LAUNCHERS) {
    if (env[rankName] === undefined || env[sizeName] === undefined) continue;
    const rank = whole(env, rankName, 0);
    const size = whole(env, sizeName, 1);
    if (rank >= size) throw new InvalidArgumentError(`${rankName}=${rank} is not a rank of ${sizeName}=${size}`, { rank, size });
    const localRank = env[localName] !== undefined ? whole(env, localName, 0) : 0;
    const localSize = env[localSizeName] !== undefined ? whole(env, localSizeName, 1) : 1;
    return { launcher, rank, size, localRank, localSize };
  }
  return { launcher: 'none', rank: 0, size: 1, localRank: 0, localSize: 1 };
}

/**
 * The cores this process should keep busy: the machine's, shared equally by the job's processes
 * on this node, so ranks that each size their threads by the core count do not oversubscribe it.
 */
export function coresForThisProcess(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Math.floor(availableParallelism() / launchEnvironment(env).localSize));
}
