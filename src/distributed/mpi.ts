/**
 * MPI for training across processes (one process per rank, started by mpirun or srun): the rank,
 * the number of ranks and the collectives a data-parallel step needs, blocking on this thread.
 * The addon links no MPI library; it loads Open MPI's when a process first asks for it, so a
 * machine without MPI builds, loads and trains exactly as before.
 */
import { RadlearnError } from '../errors.js';
import { addon } from '../native/addon.js';
import type { NativeAddon, NativeMpiProbe } from '../native/types.js';
import { launchEnvironment } from './launch.js';

/** MPI is unavailable, or an MPI call failed; the message carries MPI's own error text. */
export class DistributedError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_MPI', message, details);
  }
}

export type MpiStatus = NativeMpiProbe;

/**
 * Refuses to run `what` as one rank of several: work that is not split over the ranks would be
 * done by every one of them, into the same files.
 */
export function singleProcessOnly(what: string): void {
  const launch = launchEnvironment();
  if (launch.size === 1) return;
  throw new DistributedError(
    `${what} runs as one process, but this is rank ${launch.rank} of ${launch.size} (${launch.launcher}): every rank would do ` +
      'the same work into the same folder; start it without mpirun or srun -n > 1 (radlearn train is what runs across processes)',
    { rank: launch.rank, size: launch.size, launcher: launch.launcher },
  );
}

type MpiAddon = Required<
  Pick<NativeAddon, 'mpiProbe' | 'mpiInit' | 'mpiAllreduce' | 'mpiAllgather' | 'mpiBroadcast' | 'mpiBarrier' | 'mpiAbort' | 'mpiFinalize'>
>;

function mpiAddon(): MpiAddon | undefined {
  const native = addon();
  return typeof native.mpiProbe === 'function' ? (native as MpiAddon) : undefined;
}

/** Whether an MPI library can be loaded here (none is initialised), which one, and why not. */
export function mpiStatus(): MpiStatus {
  const native = mpiAddon();
  if (!native) return { available: false, library: '', version: '', reason: 'this build of the addon has no MPI support; rebuild it' };
  return native.mpiProbe();
}

/** The processes of one job: every rank calls each collective, in the same order. */
export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /** Element-wise sum (or max) over the ranks, in place; returns `values`. */
  allreduce<T extends Float32Array | Float64Array>(values: T, op?: 'sum' | 'max'): T;
  /** Every rank's `values`, rank by rank: [size * values.length]. */
  allgather<T extends Float32Array | Float64Array>(values: T): T;
  /** Root's bytes into every rank's `view`, in place. */
  broadcast<T extends ArrayBufferView>(view: T, root?: number): T;
  barrier(): void;
  /** Ends every rank of the job with `code` (what a rank does when it cannot go on). */
  abort(code: number): never;
}

function wrapped<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const e = error as { code?: unknown; message?: string };
    if (e.code === 'ERR_MPI') throw new DistributedError(e.message ?? String(error));
    throw error;
  }
}

let world: Communicator | undefined;

/**
 * The job's world communicator: MPI initialised on first use (and finalised when the process
 * exits). Throws DistributedError when MPI cannot be loaded.
 */
export function mpiWorld(): Communicator {
  if (world) return world;
  const native = mpiAddon();
  if (!native) throw new DistributedError(mpiStatus().reason);
  const status = native.mpiProbe();
  if (!status.available) throw new DistributedError(`MPI is not available: ${status.reason}`, { library: status.library });
  const { rank, size } = wrapped(() => native.mpiInit());
  process.once('exit', () => {
    try {
      native.mpiFinalize();
    } catch {
      // the process is ending either way; MPI has printed its own complaint
    }
  });
  world = {
    rank,
    size,
    allreduce: (values, op = 'sum') => wrapped(() => (native.mpiAllreduce(values, op), values)),
    allgather: (values) =>
      wrapped(() => {
        const out = new (values.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(values.length * size) as typeof values;
        native.mpiAllgather(values, out);
        return out;
      }),
    broadcast: (view, root = 0) => wrapped(() => (native.mpiBroadcast(view, root), view)),
    barrier: () => wrapped(() => native.mpiBarrier()),
    abort: (code) => native.mpiAbort(code),
  };
  return world;
}
