/**
 * One training step of the trainer's contrastive task (both projection heads forward and
 * backward, the loss, AdamW over the flat buffer) on synthetic frozen features, with the
 * operations this build uses (resolveTrainOps) against the pure TypeScript reference.
 */
import { parseTrainConfig } from '../../src/train/config.js';
import type { TrainDataset } from '../../src/train/dataset.js';
import type { FrozenFeatures } from '../../src/train/features.js';
import { resolveTrainOps, type TrainOps } from '../../src/train/ops.js';
import { referenceOps } from '../../tests/helpers/train-reference-ops.js';
import { ContrastiveTask } from '../../src/train/tasks/contrastive.js';
import { SINGLE_PROCESS } from '../../src/distributed/data-parallel.js';
import { time, withRatio, type BenchCase, type BenchRow } from '../harness.js';

function synthetic(
  rows: number,
  sentencesPerRow: number,
  imageDim: number,
  textDim: number,
): { dataset: TrainDataset; features: FrozenFeatures } {
  let s = 12345;
  const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const sentences = rows * sentencesPerRow;
  const rowOffsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * sentencesPerRow);
  const dataset = {
    size: rows,
    reports: [],
    imagePaths: [],
    split: new Array(rows).fill('train'),
    labelNames: [],
    labels: new Float32Array(0),
    labelled: new Uint8Array(rows),
    sentences: new Array(sentences).fill(''),
    rowOffsets,
    rowSentences: Int32Array.from({ length: sentences }, (_, i) => i),
    indices: () => Int32Array.from({ length: rows }, (_, i) => i),
  } as unknown as TrainDataset;
  const features: FrozenFeatures = {
    key: 'bench',
    path: '',
    fromCache: false,
    imageDim,
    textDim,
    image: Float32Array.from({ length: rows * imageDim }, rnd),
    sentences: Float32Array.from({ length: sentences * textDim }, rnd),
  };
  return { dataset, features };
}

async function stepRow(ops: TrainOps, kind: 'linear' | 'mlp', batch: number, quick: boolean): Promise<BenchRow> {
  const dim = 128;
  const config = parseTrainConfig({
    name: 'bench',
    mode: 'contrastive',
    batchSize: batch,
    data: { manifest: 'none', sentences: { max: 2 } },
    head: { kind, hidden: 256, projectionDim: 128 },
  });
  const { dataset, features } = synthetic(batch * 4, 4, dim, dim);
  const task = new ContrastiveTask(config, dataset, features, ops);
  const optimizer = ops.createOptimizer(task.params.data, task.params.decayMask('main'));
  const phase = task.phases[0]!;
  let k = 0;
  const t = await time(
    () => {
      const rows = phase.rows.subarray((k % 4) * batch, ((k % 4) + 1) * batch);
      task.params.zeroGrad();
      task.step(phase, rows, k++, 0, { global: rows, parallel: SINGLE_PROCESS });
      optimizer.update(task.params.grad, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
    },
    { warmup: 2, minRuns: quick ? 3 : 10, minTimeMs: quick ? 100 : 1000, maxRuns: 200 },
  );
  return {
    op: `train step (contrastive, ${kind} heads)`,
    backend: ops.backend,
    shape: `B=${batch} D=${dim} P=128${kind === 'mlp' ? ' H=256' : ''}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    itemsPerSec: (batch / t.medianMs) * 1000,
    itemName: 'samples',
  };
}

export const cases: BenchCase[] = [
  {
    name: 'train-step',
    async run({ quick }) {
      const rows: BenchRow[] = [];
      for (const kind of ['linear', 'mlp'] as const) {
        const baseline = await stepRow(referenceOps, kind, 128, quick);
        rows.push(baseline, withRatio(await stepRow(resolveTrainOps(), kind, 128, quick), baseline));
      }
      return rows;
    },
  },
];
