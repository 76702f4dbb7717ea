/**
 * similarity (S = A . B^T): radlearn's CPU kernel against a plain TypeScript loop and
 * onnxruntime-node running the same MatMul, in one process; CUDA timed with events.
 */
import * as ort from 'onnxruntime-node';
import { similarity } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { serializeModel } from '../../src/onnx/model-io.js';
import { addon } from '../../src/native/addon.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, randomArray } from '../harness.js';

function row(op: string, backend: string, n: number, m: number, d: number, t: { medianMs: number; p90Ms: number }): BenchRow {
  const flops = 2 * n * m * d;
  return {
    op,
    backend,
    shape: `${n}x${m}x${d}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    gflops: flops / (t.medianMs * 1e6),
    gbPerSec: ((n * d + m * d + n * m) * 4) / (t.medianMs * 1e6),
  };
}

function tsLoop(a: Float32Array, b: Float32Array, n: number, m: number, d: number): Float32Array {
  const s = new Float32Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += a[i * d + k]! * b[j * d + k]!;
      s[i * m + j] = sum;
    }
  return s;
}

async function onnxMatMul(d: number): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('similarity_baseline');
  const a = g.input('a', 'float32', ['n', d]);
  const bt = g.input('bt', 'float32', [d, 'm']);
  g.output(g.matMul(a, bt), 's');
  return ort.InferenceSession.create(serializeModel(g.build()), { intraOpNumThreads: 0 });
}

function transpose(b: Float32Array, m: number, d: number): Float32Array {
  const out = new Float32Array(m * d);
  for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) out[k * m + j] = b[j * d + k]!;
  return out;
}

export const cases: BenchCase[] = [
  {
    name: 'similarity',
    async run({ quick, cuda }) {
      const rows: BenchRow[] = [];
      const shapes: Array<[number, number, number]> = quick
        ? [[512, 512, 256]]
        : [
            [1024, 1024, 512],
            [4096, 4096, 256],
            [2048, 2048, 1024],
          ];
      for (const [n, m, d] of shapes) {
        const a = randomArray(n * d, 1);
        const b = randomArray(m * d, 2);
        const out = new Float32Array(n * m);
        const ours = row(
          'similarity',
          'cpu',
          n,
          m,
          d,
          await time(() => similarity(a, b, { n, m, d, out, backend: 'cpu', checkFinite: false })),
        );
        const session = await onnxMatMul(d);
        const feeds = { a: new ort.Tensor('float32', a, [n, d]), bt: new ort.Tensor('float32', transpose(b, m, d), [d, m]) };
        const baseline = row('onnxruntime MatMul', 'cpu', n, m, d, await time(() => session.run(feeds)));
        await session.release();
        rows.push(baseline, withRatio(ours, baseline));
        if (cuda) {
          const samples = Array.from(addon().benchSimilarityCuda({ n, m, d, iterations: 20 }));
          rows.push(row('similarity', 'cuda (events)', n, m, d, summarize(samples)));
        }
      }
      // The plain TypeScript loop is only affordable at small sizes.
      const [n, m, d] = [256, 256, 256];
      const a = randomArray(n * d, 3);
      const b = randomArray(m * d, 4);
      const ts = row('typescript loop', 'cpu', n, m, d, await time(() => tsLoop(a, b, n, m, d), { minRuns: 3 }));
      const ours = row('similarity', 'cpu', n, m, d, await time(() => similarity(a, b, { n, m, d, backend: 'cpu', checkFinite: false })));
      rows.push(ts, withRatio(ours, ts));
      return rows;
    },
  },
];
