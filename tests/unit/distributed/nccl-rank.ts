/**
 * One rank of the NCCL bootstrap test (run by mpi.test.ts under mpirun): asks for the job's GPU
 * communicator and prints, as one JSON line, what it got (here, without a GPU or NCCL: the error).
 */
import { mpiWorld } from '../../../src/distributed/mpi.js';
import { ncclWorld } from '../../../src/distributed/nccl.js';

const world = mpiWorld();
try {
  const gpus = ncclWorld(world);
  process.stdout.write(`${JSON.stringify({ rank: world.rank, device: gpus.device })}\n`);
  gpus.destroy();
} catch (error) {
  const e = error as { name: string; code: string; message: string };
  process.stdout.write(`${JSON.stringify({ rank: world.rank, error: { name: e.name, code: e.code, message: e.message } })}\n`);
}
world.barrier();
