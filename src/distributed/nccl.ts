/**
 * NCCL collectives between the GPUs of a job, on DeviceTensors (float32), one GPU per rank:
 * MPI bootstraps the communicator (rank 0's NCCL unique id is broadcast over MPI), then sums,
 * maxima, gathers and broadcasts go GPU to GPU without the host. The addon links no NCCL; it
 * loads libnccl.so.2 (or RADLEARN_NCCL_LIBRARY) when asked. Collectives are blocking: they are
 * issued on the stream radlearn's kernels use and waited for.
 *
 * Not yet used by training: its gradients live in host buffers (onnxruntime-node takes host
 * tensors), so the data-parallel trainer sums them over MPI.
 */
import { addon } from '../native/addon.js';
import type { NativeAddon } from '../native/types.js';
import { DeviceTensor } from '../kernels/tensor.js';
import { launchEnvironment } from './launch.js';
import { DistributedError, type Communicator, type MpiStatus } from './mpi.js';

type NcclAddon = Required<
  Pick<NativeAddon, 'ncclProbe' | 'ncclUniqueId' | 'ncclInit' | 'ncclAllreduce' | 'ncclAllgather' | 'ncclBroadcast' | 'ncclDestroy'>
>;

function ncclAddon(): NcclAddon | undefined {
  const native = addon();
  return typeof native.ncclProbe === 'function' ? (native as NcclAddon) : undefined;
}

/** Whether NCCL can be loaded and a GPU is there to use it, which library, and why not. */
export function ncclStatus(): MpiStatus {
  const native = ncclAddon();
  if (!native) return { available: false, library: '', version: '', reason: 'this build of the addon has no NCCL support; rebuild it' };
  return native.ncclProbe();
}

/** The GPUs of one job: every rank calls each collective, in the same order, with tensors of the same size. */
export interface DeviceCommunicator {
  readonly rank: number;
  readonly size: number;
  /** The CUDA device this rank uses. */
  readonly device: number;
  /** Element-wise sum (or max) over the ranks, in place; returns `tensor`. */
  allreduce(tensor: DeviceTensor, op?: 'sum' | 'max'): DeviceTensor;
  /** Every rank's `tensor`, rank by rank, in a new device tensor [size * elements]. */
  allgather(tensor: DeviceTensor): DeviceTensor;
  /** Root's bytes into every rank's `tensor`, in place. */
  broadcast(tensor: DeviceTensor, root?: number): DeviceTensor;
  /** Frees the NCCL communicator (the process can make no other). */
  destroy(): void;
}

function wrapped<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const e = error as { code?: unknown; message?: string };
    if (e.code === 'ERR_NCCL') throw new DistributedError(e.message ?? String(error), { library: 'nccl' });
    throw error;
  }
}

const elementsOf = (t: DeviceTensor): number => t.dims.reduce((a, b) => a * b, 1);

/**
 * The job's GPU communicator over the ranks of `world` (from mpiWorld()). `device`: the GPU this
 * rank takes, by default its rank on its node (launchEnvironment().localRank). Throws
 * DistributedError when NCCL or a GPU is not available; every rank must call it.
 */
export function ncclWorld(world: Communicator, device = launchEnvironment().localRank): DeviceCommunicator {
  const native = ncclAddon();
  const status = ncclStatus();
  // the ranks agree first: one without NCCL would leave the others waiting in ncclCommInitRank
  const missing = world.allreduce(Float64Array.of(native && status.available ? 0 : 1), 'max')[0]! > 0;
  if (!native || !status.available) throw new DistributedError(`NCCL is not available: ${status.reason}`, { library: status.library });
  if (missing) throw new DistributedError('NCCL is not available on another rank of the job; see its output', { rank: world.rank });
  const id = world.rank === 0 ? wrapped(() => native.ncclUniqueId()) : new Uint8Array(128);
  world.broadcast(id, 0);
  wrapped(() => native.ncclInit(id, world.rank, world.size, device));
  const { rank, size } = world;
  return {
    rank,
    size,
    device,
    allreduce: (tensor, op = 'sum') => wrapped(() => (native.ncclAllreduce(tensor.handle, op), tensor)),
    allgather: (tensor) =>
      wrapped(() => {
        const out = DeviceTensor.empty([size * elementsOf(tensor)]);
        native.ncclAllgather(tensor.handle, out.handle, size);
        return out;
      }),
    broadcast: (tensor, root = 0) => wrapped(() => (native.ncclBroadcast(tensor.handle, root), tensor)),
    destroy: () => wrapped(() => native.ncclDestroy()),
  };
}
