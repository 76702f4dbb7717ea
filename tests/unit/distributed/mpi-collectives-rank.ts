/**
 * One rank of the collectives test (run by mpi.test.ts under mpirun): each rank fills its
 * buffers from its rank, runs every collective and prints what it got as one JSON line.
 * `abort` as the argument: rank 1 aborts the job after the first barrier.
 */
import { mpiWorld } from '../../../src/distributed/mpi.js';
import { launchEnvironment } from '../../../src/distributed/launch.js';

const world = mpiWorld();
const { rank, size } = world;
// an awkward length, and values whose sum is not exact in float32
const n = 100_003;
const f32 = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + rank) * (rank + 1) + 1 / (i + 3));
const f64 = Float64Array.from({ length: 7 }, (_, i) => rank * 1000 + i + 0.125);
const sum32 = world.allreduce(f32.slice(), 'sum');
const max64 = world.allreduce(f64.slice(), 'max');
const gathered = world.allgather(Float64Array.of(rank, rank + 0.5, -rank - 1));
const bytes = new Uint8Array(5);
if (rank === size - 1) bytes.set([9, 8, 7, 6, 5]);
world.broadcast(bytes, size - 1);
world.barrier();
if (process.argv[2] === 'abort' && rank === 1) world.abort(3);
world.barrier();
process.stdout.write(
  `${JSON.stringify({
    rank,
    size,
    launch: launchEnvironment(),
    sum32: Array.from(sum32.subarray(0, 5)),
    sum32Tail: sum32[n - 1],
    max64: Array.from(max64),
    gathered: Array.from(gathered),
    bytes: Array.from(bytes),
  })}\n`,
);
