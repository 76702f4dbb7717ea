/**
 * Contrastive losses (InfoNCE forward + backward, with L2 normalisation inside): radlearn's fused
 * tiled CPU kernel against, in the same process,
 *   (a) the plain TypeScript float64 reference (materialised B x B, small B only), and
 *   (b) onnxruntime-node running the same InfoNCE forward + analytic backward as an ONNX graph
 *       (MatMul, LogSoftmax both axes, softmax - targets, MatMuls, normalisation backward):
 *       what a Node user would do instead.
 * GFLOP/s count 8 B^2 D for forward + backward (the convention). Extra memory: ours is
 * computed from the kernel's buffers (contrastive.cc); onnxruntime's is the process RSS growth over
 * its first run (its arena) minus the outputs, with the B x B floor noted.
 * CUDA (when a device exists): timed with CUDA events inside the addon on device-resident data;
 * B = 262144 only with RADLEARN_BENCH_HUGE=1 (minutes per call).
 */
import * as ort from 'onnxruntime-node';
import { backendInfo, contrastiveLoss } from '../../src/index.js';
import { addon } from '../../src/native/addon.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { serializeModel } from '../../src/onnx/model-io.js';
import { contrastiveRef } from '../../tests/helpers/reference-contrastive.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, type Timing, randomArray } from '../harness.js';

const LOGIT_SCALE = 14.285714;

function row(
  op: string,
  backend: string,
  batch: number,
  dim: number,
  t: { medianMs: number; p90Ms: number },
  extra?: Partial<BenchRow>,
): BenchRow {
  return {
    op,
    backend,
    shape: `B=${batch} D=${dim}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    gflops: (8 * batch * batch * dim) / (t.medianMs * 1e6),
    itemsPerSec: batch / (t.medianMs / 1000),
    itemName: 'pairs',
    ...extra,
  };
}

/**
 * Extra bytes the CPU kernel allocates for one call (mirrors native/src/cpu/contrastive.cc):
 * 6 B floats of statistics and inverse norms, 3 doubles per row block, and per thread the
 * T x T tile, two coefficient tiles, 6 T floats of rows and the two GEMM packing buffers.
 */
export function cpuExtraBytes(batch: number, dim: number, threads: number): number {
  let tile = 256;
  while (tile > 16 && Math.ceil(batch / tile) < 8) tile /= 2;
  const blocks = Math.ceil(batch / tile);
  const round16 = (n: number) => Math.ceil(n / 16) * 16;
  const perThread = 3 * tile * tile + 6 * tile + round16(tile) * Math.min(dim, 256) + round16(dim) * Math.min(tile, 256);
  return 6 * batch * 4 + 3 * blocks * 8 + threads * perThread * 4;
}

/** InfoNCE (identity targets) forward + backward with normalisation, as onnxruntime ops. */
async function onnxInfoNce(batch: number): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('infonce_fwd_bwd_baseline');
  const x = g.input('x', 'float32', ['B', 'D']);
  const t = g.input('t', 'float32', ['B', 'D']);
  const a = g.scalar(LOGIT_SCALE);
  const twoB = g.scalar(2 * batch);
  const normalise = (v: typeof x) => {
    const norm = g.sqrt(g.reduceSum(g.mul(v, v), [1]));
    return { u: g.div(v, norm), norm };
  };
  const X = normalise(x);
  const T = normalise(t);
  const cos = g.matMul(X.u, g.transpose(T.u, [1, 0])); // [B, B]
  const logits = g.mul(cos, a);
  const lsRow = g.logSoftmax(logits, 1);
  const lsCol = g.logSoftmax(logits, 0);
  const eye = g.node('EyeLike', [logits])[0]!;
  const picked = g.add(g.reduceSum(g.mul(lsRow, eye), [0, 1], false), g.reduceSum(g.mul(lsCol, eye), [0, 1], false));
  g.output(g.neg(g.div(picked, twoB)), 'loss');
  // dL/dlogits = (softmax_row + softmax_col - 2 I) / 2B
  const G = g.div(g.sub(g.add(g.exp(lsRow), g.exp(lsCol)), g.add(eye, eye)), twoB);
  g.output(g.reduceSum(g.mul(G, cos), [0, 1], false), 'grad_scale');
  const K = g.mul(G, a);
  const gu = g.matMul(K, T.u);
  const gv = g.matMul(g.transpose(K, [1, 0]), X.u);
  const back = (gradU: typeof x, n: { u: typeof x; norm: typeof x }) =>
    g.div(g.sub(gradU, g.mul(n.u, g.reduceSum(g.mul(n.u, gradU), [1]))), n.norm);
  g.output(back(gu, X), 'grad_x');
  g.output(back(gv, T), 'grad_t');
  return ort.InferenceSession.create(serializeModel(g.build()), { intraOpNumThreads: 0 });
}

/**
 * Times several functions in alternation (a, b, a, b, ...) after one warm-up each, so that load
 * from other processes on a shared machine falls on all of them alike; medians per function.
 */
async function timeInterleaved(fns: Array<() => unknown>, runs: number): Promise<Timing[]> {
  for (const fn of fns) await fn();
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < runs; r++)
    for (let f = 0; f < fns.length; f++) {
      const start = performance.now();
      await fns[f]!();
      samples[f]!.push(performance.now() - start);
    }
  return samples.map((s) => summarize(s));
}

function rssNow(): number {
  return process.memoryUsage().rss;
}

async function cpuRows(batch: number, dim: number, quick: boolean, threads: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const image = randomArray(batch * dim, 1);
  const text = randomArray(batch * dim, 2);
  const runOurs = () => contrastiveLoss(image, text, { batch, dim, logitScale: LOGIT_SCALE, backend: 'cpu', checkFinite: false });
  const extra = { peakMemoryBytes: cpuExtraBytes(batch, dim, threads), note: 'extra memory computed from the kernel buffers' };
  const bbBytes = batch * batch * 4;
  if (batch <= 4096) {
    const session = await onnxInfoNce(batch);
    const feeds = { x: new ort.Tensor('float32', image, [batch, dim]), t: new ort.Tensor('float32', text, [batch, dim]) };
    const before = rssNow();
    await session.run(feeds);
    const grown = Math.max(0, rssNow() - before - 2 * batch * dim * 4);
    const [oursTime, ortTime] = await timeInterleaved([runOurs, () => session.run(feeds)], quick ? 5 : 7);
    await session.release();
    const baseline = row('onnxruntime graph fwd+bwd', 'cpu', batch, dim, ortTime!, {
      peakMemoryBytes: grown,
      note: `RSS growth over the first run minus outputs; one B x B matrix is ${(bbBytes / 2 ** 20).toFixed(0)} MiB`,
    });
    const ours = withRatio(row('infonce fused fwd+bwd', 'cpu', batch, dim, oursTime!, extra), baseline);
    ours.note = `${extra.note}; ${((100 * extra.peakMemoryBytes) / Math.max(grown, bbBytes)).toFixed(2)}% of onnxruntime's; runs interleaved`;
    rows.push(baseline, ours);
  } else {
    const options = { warmup: 0, minRuns: 2, maxRuns: 2, minTimeMs: 0 };
    const ours = row('infonce fused fwd+bwd', 'cpu', batch, dim, await time(runOurs, options), extra);
    ours.note = `${extra.note}; onnxruntime baseline skipped (each B x B matrix is ${(bbBytes / 2 ** 30).toFixed(1)} GiB)`;
    rows.push(ours);
  }
  return rows;
}

export const cases: BenchCase[] = [
  {
    name: 'contrastive',
    async run({ quick, cuda }) {
      const rows: BenchRow[] = [];
      const threads = backendInfo().threads;
      const grid: Array<[number, number]> = quick
        ? [
            [1024, 256],
            [4096, 512],
          ]
        : [
            [1024, 256],
            [1024, 512],
            [1024, 1024],
            [4096, 256],
            [4096, 512],
            [4096, 1024],
            [16384, 256],
            [16384, 512],
            [16384, 1024],
          ];
      for (const [batch, dim] of grid) rows.push(...(await cpuRows(batch, dim, quick, threads)));

      // The plain TypeScript float64 reference is affordable only at small B.
      const [batch, dim] = [256, 128];
      const image = randomArray(batch * dim, 3);
      const text = randomArray(batch * dim, 4);
      const ts = row(
        'typescript reference (float64)',
        'cpu',
        batch,
        dim,
        await time(() => contrastiveRef(image, text, { batch, dim, logitScale: LOGIT_SCALE }), { minRuns: 3 }),
      );
      const ours = row(
        'infonce fused fwd+bwd',
        'cpu',
        batch,
        dim,
        await time(() => contrastiveLoss(image, text, { batch, dim, logitScale: LOGIT_SCALE, backend: 'cpu', checkFinite: false })),
      );
      rows.push(ts, withRatio(ours, ts));

      if (cuda) {
        const sizes = quick ? [4096] : [4096, 32768, ...(process.env.RADLEARN_BENCH_HUGE === '1' ? [262144] : [])];
        for (const b of sizes)
          for (const dtype of ['float32', 'bfloat16'] as const)
            for (const kind of ['infonce', 'siglip'] as const) {
              const iterations = b >= 262144 ? 1 : b >= 32768 ? 3 : 10;
              const samples = Array.from(addon().benchContrastiveCuda({ batch: b, dim: 512, kind, dtype, iterations }));
              rows.push(
                row(`${kind} fused fwd+bwd`, `cuda ${dtype} (events)`, b, 512, summarize(samples), {
                  peakMemoryBytes: 4 * b * 4 + 6 * Math.ceil(b / 64) * 8,
                  note: 'extra device memory computed from the kernel buffers',
                }),
              );
            }
      }
      return rows;
    },
  },
];
