/**
 * Linear layer (Y = X . W^T + b) forward and backward: radlearn's CPU kernels against
 * onnxruntime-node running the same products (Gemm with transB for the forward; for the
 * backward a graph computing dX = dY . W (MatMul) and dW = dY^T . X (Gemm transA) and
 * db = ReduceSum(dY)), in one process; CUDA timed with events on device-resident data.
 * FLOPs: forward 2*rows*in*out, backward 4*rows*in*out.
 */
import * as ort from 'onnxruntime-node';
import { backendInfo, createHead, linearBackward, linearForward } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { serializeModel } from '../../src/onnx/model-io.js';
import { addon } from '../../src/native/addon.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, randomArray } from '../harness.js';

function row(
  op: string,
  backend: string,
  rows: number,
  inF: number,
  outF: number,
  flopsFactor: number,
  t: { medianMs: number; p90Ms: number },
): BenchRow {
  return {
    op,
    backend,
    shape: `${rows}x${inF}->${outF}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    gflops: (flopsFactor * rows * inF * outF) / (t.medianMs * 1e6),
    itemsPerSec: rows / (t.medianMs / 1e3),
    itemName: 'rows',
  };
}

async function ortForward(inF: number, outF: number): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('linear_forward_baseline');
  const x = g.input('x', 'float32', ['n', inF]);
  const w = g.input('w', 'float32', [outF, inF]);
  const b = g.input('b', 'float32', [outF]);
  g.output(g.gemm(x, w, b, { transB: true }), 'y');
  return ort.InferenceSession.create(serializeModel(g.build()), { intraOpNumThreads: 0 });
}

async function ortBackward(inF: number, outF: number): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('linear_backward_baseline');
  const x = g.input('x', 'float32', ['n', inF]);
  const w = g.input('w', 'float32', [outF, inF]);
  const dy = g.input('dy', 'float32', ['n', outF]);
  g.output(g.matMul(dy, w), 'dx');
  g.output(g.gemm(dy, x, null, { transA: true }), 'dw');
  g.output(g.reduceSum(dy, [0], false), 'db');
  return ort.InferenceSession.create(serializeModel(g.build()), { intraOpNumThreads: 0 });
}

export const cases: BenchCase[] = [
  {
    name: 'linear',
    async run({ quick }) {
      const out: BenchRow[] = [];
      const device = backendInfo().device !== undefined;
      // A linear probe (14 findings), an MLP hidden layer, and a square GEMM.
      const shapes: Array<[number, number, number]> = quick
        ? [[1024, 768, 512]]
        : [
            [4096, 768, 14],
            [4096, 768, 512],
            [1024, 1024, 1024],
          ];
      for (const [rows, inF, outF] of shapes) {
        const x = randomArray(rows * inF, 1);
        const w = randomArray(outF * inF, 2);
        const b = randomArray(outF, 3);
        const dy = randomArray(rows * outF, 4);
        const y = new Float32Array(rows * outF);
        const dx = new Float32Array(rows * inF);
        const dw = new Float32Array(outF * inF);
        const db = new Float32Array(outF);
        const shape = { rows, inFeatures: inF, outFeatures: outF, backend: 'cpu' as const, checkFinite: false };
        const fwdSession = await ortForward(inF, outF);
        const fwdFeeds = {
          x: new ort.Tensor('float32', x, [rows, inF]),
          w: new ort.Tensor('float32', w, [outF, inF]),
          b: new ort.Tensor('float32', b, [outF]),
        };
        const ortFwd = row('onnxruntime Gemm (forward)', 'cpu', rows, inF, outF, 2, await time(() => fwdSession.run(fwdFeeds)));
        const oursFwd = row('linearForward', 'cpu', rows, inF, outF, 2, await time(() => linearForward(x, w, b, { ...shape, out: y })));
        await fwdSession.release();
        const bwdSession = await ortBackward(inF, outF);
        const bwdFeeds = { x: fwdFeeds.x, w: fwdFeeds.w, dy: new ort.Tensor('float32', dy, [rows, outF]) };
        const ortBwd = row(
          'onnxruntime MatMul+Gemm+ReduceSum (backward)',
          'cpu',
          rows,
          inF,
          outF,
          4,
          await time(() => bwdSession.run(bwdFeeds)),
        );
        const oursBwd = row(
          'linearBackward (dx, dw, db)',
          'cpu',
          rows,
          inF,
          outF,
          4,
          await time(() => linearBackward(x, w, dy, { ...shape, dx, dw, db })),
        );
        await bwdSession.release();
        out.push(ortFwd, withRatio(oursFwd, ortFwd), ortBwd, withRatio(oursBwd, ortBwd));
        if (device) {
          const t = addon().benchLinearCuda({ rows, inFeatures: inF, outFeatures: outF, iterations: 20 });
          out.push(row('linearForward', 'cuda (events)', rows, inF, outF, 2, summarize(Array.from(t.forward))));
          out.push(row('linearBackward', 'cuda (events)', rows, inF, outF, 4, summarize(Array.from(t.backward))));
        }
      }
      // A whole MLP head step (forward + backward) as the trainer runs it.
      const [n, inF, hidden, outF] = [4096, 768, 512, 14];
      const head = createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: outF, seed: 1 });
      const x = randomArray(n * inF, 5);
      const dy = randomArray(n * outF, 6);
      const t = await time(() => {
        head.forward(x, n);
        head.backward(dy);
      });
      const flops = 6 * n * (inF * hidden + hidden * outF);
      out.push({
        op: 'MLP head forward+backward',
        backend: 'cpu',
        shape: `${n}x${inF}->${hidden}->${outF}`,
        medianMs: t.medianMs,
        p90Ms: t.p90Ms,
        gflops: flops / (t.medianMs * 1e6),
        itemsPerSec: n / (t.medianMs / 1e3),
        itemName: 'rows',
      });
      return out;
    },
  },
];
