/**
 * One rank of the NCCL check on GPUs (tests/gpu/nccl.test.ts, under mpirun): each rank fills a
 * device tensor from its rank, sums, takes the maximum, gathers and broadcasts over NCCL, and
 * prints what came back to the host as one JSON line.
 */
import { DeviceTensor } from '../../../src/kernels/tensor.js';
import { mpiWorld } from '../../../src/distributed/mpi.js';
import { ncclWorld } from '../../../src/distributed/nccl.js';

const world = mpiWorld();
const gpus = ncclWorld(world, Number(process.env.RADLEARN_TEST_GPU ?? '0'));
const n = 1001;
const values = Float32Array.from({ length: n }, (_, i) => (world.rank + 1) * (i + 0.5));
const sum = gpus.allreduce(DeviceTensor.upload(values, [n]), 'sum');
const max = gpus.allreduce(DeviceTensor.upload(values, [n]), 'max');
const gathered = gpus.allgather(DeviceTensor.upload(Float32Array.of(world.rank, -world.rank), [2]));
const root = DeviceTensor.upload(world.rank === 0 ? Float32Array.of(7, 8, 9) : new Float32Array(3), [3]);
gpus.broadcast(root, 0);
const host = (t: DeviceTensor): number[] => Array.from(t.download() as Float32Array);
process.stdout.write(
  `${JSON.stringify({ rank: world.rank, sum: host(sum).slice(0, 3), max: host(max).slice(0, 3), gathered: host(gathered), broadcast: host(root) })}\n`,
);
gpus.destroy();
world.barrier();
