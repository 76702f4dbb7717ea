/**
 * Where one training step of an exported encoder spends its time in onnxruntime: runs the training
 * graph a few times with onnxruntime's profiler on and sums the kernel time by operator type, and
 * by whether the node belongs to the forward or the backward part of the graph.
 *
 *   /usr/bin/python3 tests/helpers/torch_reference.py timing vit_s16 /tmp/vit --batch 8 --size 128 --runs 1
 *   npx tsx bench/torch/profile-step.ts /tmp/vit [--threads 2] [--runs 3]
 *
 * The folder is one written by torch_reference.py (model.onnx, spec.json, the input and projection).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { differentiate } from '../../src/onnx/autodiff/differentiate.js';
import { TrainingSession } from '../../src/onnx/autodiff/session.js';
import { loadModel } from '../../src/onnx/model-io.js';
import { readParameters } from '../../src/onnx/parameters.js';
import type { TensorLike } from '../../src/onnx/tensor.js';
import { feedOf, type BinEntry } from '../../tests/helpers/torch.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: profile-step.ts <folder written by torch_reference.py> [--threads N] [--runs N]');
const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const threads = flag('--threads', 2);
const runs = flag('--runs', 3);
const spec = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as { output: string; inputs: BinEntry[]; projection: BinEntry };
const model = loadModel(join(dir, 'model.onnx'));
const training = differentiate(model, { outputs: [spec.output] });
const forwardNodes = new Set(training.model.graph!.node!.slice(0, training.forwardNodeCount).map((n) => n.name ?? ''));
const opOf = new Map(training.model.graph!.node!.map((n) => [n.name ?? '', n.opType ?? '']));
const prefix = join(dir, 'ort-profile');
const session = await TrainingSession.create(training, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  enableProfiling: true,
  profileFilePrefix: prefix,
});
const inputs: Record<string, TensorLike> = {};
for (const e of spec.inputs) inputs[e.name] = feedOf(dir, e);
const parameters = readParameters(model, training.layout);
const gradients = new Float32Array(training.layout.size);
const wall: number[] = [];
for (let r = 0; r < runs + 1; r++) {
  const t0 = performance.now();
  await session.step({ parameters, gradients, inputs, outputGrads: { [spec.output]: feedOf(dir, spec.projection) } });
  wall.push(performance.now() - t0);
}
// onnxruntime-node writes the profile when the session is released; its file name is not returned
await session.release();
const { readdirSync } = await import('node:fs');
const file = readdirSync(dir).find((f) => f.startsWith('ort-profile') && f.endsWith('.json'));
if (!file) throw new Error(`no onnxruntime profile in ${dir}`);
const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<{
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown };
}>;
rmSync(join(dir, file));

const byOp = new Map<string, { us: number; count: number; forward: number }>();
let kernelUs = 0;
let nodeEvents = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const node = e.name.slice(0, -'_kernel_time'.length);
  const op = e.args?.op_name ?? opOf.get(node) ?? '?';
  const entry = byOp.get(op) ?? { us: 0, count: 0, forward: 0 };
  entry.us += e.dur;
  entry.count += 1;
  if (forwardNodes.has(node)) entry.forward += e.dur;
  byOp.set(op, entry);
  kernelUs += e.dur;
  nodeEvents++;
}
const perRun = (us: number) => us / (runs + 1) / 1000;
const sortedWall = wall.slice(1).sort((a, b) => a - b);
console.log(
  `${training.model.graph!.node!.length} nodes in the training graph (${training.forwardNodeCount} forward); ` +
    `${nodeEvents / (runs + 1)} kernels run per step after onnxruntime's optimisation; median wall ${sortedWall[sortedWall.length >> 1]!.toFixed(1)} ms, ` +
    `kernel time ${perRun(kernelUs).toFixed(1)} ms per step (the rest: scheduling, allocation, feeds)`,
);
console.log('op type                  kernels/step   ms/step   share   of which forward');
for (const [op, e] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 25))
  console.log(
    `${op.padEnd(24)} ${String(e.count / (runs + 1)).padStart(12)} ${perRun(e.us).toFixed(2).padStart(9)} ${((100 * e.us) / kernelUs).toFixed(1).padStart(6)}%   ${perRun(e.forward).toFixed(2)} ms`,
  );

const byNode = new Map<string, { us: number; op: string; shapes: string }>();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const node = e.name.slice(0, -'_kernel_time'.length);
  const entry = byNode.get(node) ?? { us: 0, op: e.args?.op_name ?? '?', shapes: JSON.stringify(e.args?.input_type_shape ?? []) };
  entry.us += e.dur;
  byNode.set(node, entry);
}
console.log('\nslowest nodes (ms/step, forward or backward, input shapes)');
for (const [node, e] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 15))
  console.log(
    `${perRun(e.us).toFixed(2).padStart(8)}  ${e.op.padEnd(14)} ${forwardNodes.has(node) ? 'fwd' : 'bwd'}  ${node.slice(0, 60).padEnd(60)} ${e.shapes.slice(0, 160)}`,
  );
