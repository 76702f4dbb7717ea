/**
 * One training step of the same exported encoder in radlearn and in PyTorch CPU eager, in one run:
 * torchvision ResNet-18 and ViT-S/16 (width 384, 12 layers, head removed), 8x3x128x128, float32,
 * exported by scripts/export-encoder.py (frozen, inference-form BatchNorm). A step is forward,
 * L = sum(embedding * P), backward to every parameter, and one AdamW update:
 *   - PyTorch: eager autograd + torch.optim.AdamW, eval-mode modules, torch.set_num_threads(T), timed
 *     in its own process under OMP_WAIT_POLICY=PASSIVE and =ACTIVE (tests/helpers/torch_reference.py timing);
 *   - radlearn: the training graph (one onnxruntime run: forward + backward, gradients into the flat
 *     buffer) + the fused native AdamW, intra-op threads T, with onnxruntime's thread spinning off
 *     (radlearn's default) and on; and the step as `supervised-finetune` runs it (gradient caching:
 *     a forward-only pass, then the training graph, then AdamW).
 * Ratios are PyTorch's median over radlearn's (above 1: radlearn is faster), against the faster of
 * the two PyTorch policies. Needs /usr/bin/python3 with torch, torchvision and onnx; without them the
 * case prints why and returns no rows.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { differentiate } from '../../src/onnx/autodiff/differentiate.js';
import { TrainingSession } from '../../src/onnx/autodiff/session.js';
import { loadModel } from '../../src/onnx/model-io.js';
import { readParameters } from '../../src/onnx/parameters.js';
import type { TensorLike } from '../../src/onnx/tensor.js';
import { SegmentedAdamW } from '../../src/train/finetune/segmented-adamw.js';
import { TrainableEncoder } from '../../src/train/finetune/trainable-encoder.js';
import { feedOf, referenceDir, runReference, torchMissing, type BinEntry } from '../../tests/helpers/torch.js';
import { time, type BenchCase, type BenchRow } from '../harness.js';

interface TimingSpec {
  output: string;
  inputs: BinEntry[];
  projection: BinEntry;
  torchThreads: number;
  ompWaitPolicy: string;
  samplesMs: number[];
  medianMs: number;
}

const HYPER = { lr: 1e-6, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0 };

async function subjectRows(model: string, label: string, batch: number, size: number, runs: number, threads: number): Promise<BenchRow[]> {
  const { dir, remove } = referenceDir(`step-${model}`);
  try {
    const args = ['--batch', String(batch), '--size', String(size), '--threads', String(threads), '--runs', String(runs)];
    const shape = `${batch}x3x${size}x${size}`;
    const torchRow = (policy: string, spec: TimingSpec): BenchRow => {
      const sorted = [...spec.samplesMs].sort((a, b) => a - b);
      return {
        op: `${label} training step`,
        backend: `pytorch eager, OMP_WAIT_POLICY=${policy}`,
        shape,
        medianMs: spec.medianMs,
        p90Ms: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!,
        itemsPerSec: (batch / spec.medianMs) * 1000,
        itemName: 'images',
        note: `${spec.torchThreads} threads, ${spec.samplesMs.length} runs`,
      };
    };
    const passive = torchRow(
      'PASSIVE',
      runReference<TimingSpec>('timing', model, dir, args, { OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads) }),
    );
    const onnx = loadModel(join(dir, 'model.onnx'));
    const spec = runReference<TimingSpec>('timing', model, dir, [...args, '--skip-export'], {
      OMP_WAIT_POLICY: 'ACTIVE',
      OMP_NUM_THREADS: String(threads),
    });
    const active = torchRow('ACTIVE', spec);
    const inputs: Record<string, TensorLike> = {};
    for (const e of spec.inputs) inputs[e.name] = feedOf(dir, e);
    const projection = feedOf(dir, spec.projection);
    const fastestTorch = Math.min(passive.medianMs, active.medianMs);
    const rows: BenchRow[] = [passive, active];
    const ratioNote = (ms: number) => `${(passive.medianMs / ms).toFixed(2)}x vs PASSIVE, ${(active.medianMs / ms).toFixed(2)}x vs ACTIVE`;

    const training = differentiate(onnx, { outputs: [spec.output], modelPath: label });
    const opts = { warmup: 2, minRuns: runs, maxRuns: runs, minTimeMs: 0 };
    for (const spin of [false, true]) {
      const session = await TrainingSession.create(training, { allowSpinning: spin, intraOpNumThreads: threads, interOpNumThreads: 1 });
      try {
        const params = readParameters(onnx, training.layout);
        const grads = new Float32Array(training.layout.size);
        const optimizer = new SegmentedAdamW(params, new Uint8Array(params.length).fill(1), [{ start: 0, end: params.length, lrScale: 1 }]);
        const t = await time(async () => {
          await session.step({ parameters: params, gradients: grads, inputs, outputGrads: { [spec.output]: projection } });
          optimizer.update(grads, HYPER);
        }, opts);
        rows.push({
          op: `${label} training step`,
          backend: `radlearn (training graph + fused AdamW), spinning ${spin ? 'on' : 'off'}`,
          shape,
          medianMs: t.medianMs,
          p90Ms: t.p90Ms,
          itemsPerSec: (batch / t.medianMs) * 1000,
          itemName: 'images',
          ratio: { vs: 'the faster PyTorch', value: fastestTorch / t.medianMs },
          note: `${threads} threads; ${ratioNote(t.medianMs)}; ${training.model.graph!.node!.length} nodes (${training.forwardNodeCount} forward)`,
        });
      } finally {
        await session.release();
      }
    }

    // The step as supervised-finetune runs it: gradient caching (forward-only pass, then the training graph).
    const encoder = await TrainableEncoder.create(onnx, spec.output, [], label);
    try {
      const params = encoder.initialParametersFlat();
      const grads = new Float32Array(encoder.size);
      const optimizer = new SegmentedAdamW(params, new Uint8Array(params.length).fill(1), [{ start: 0, end: params.length, lrScale: 1 }]);
      const chunk = (s: number, e: number): Record<string, TensorLike> => {
        const x = inputs[spec.inputs[0]!.name]!;
        const per = (x.data.length / batch) | 0;
        return {
          [spec.inputs[0]!.name]: {
            type: 'float32',
            data: (x.data as Float32Array).subarray(s * per, e * per),
            dims: [e - s, ...x.dims.slice(1)],
          },
        };
      };
      const gradOut = projection.data as Float32Array;
      const dim = gradOut.length / batch;
      const t = await time(async () => {
        await encoder.embed(params, batch, batch, chunk);
        await encoder.backward(params, grads, batch, dim, batch, chunk, gradOut, true);
        optimizer.update(grads, HYPER);
      }, opts);
      rows.push({
        op: `${label} training step`,
        backend: 'radlearn supervised-finetune step (forward-only + training graph + AdamW)',
        shape,
        medianMs: t.medianMs,
        p90Ms: t.p90Ms,
        itemsPerSec: (batch / t.medianMs) * 1000,
        itemName: 'images',
        ratio: { vs: 'the faster PyTorch', value: fastestTorch / t.medianMs },
        note: `onnxruntime default threads, spinning off; ${ratioNote(t.medianMs)}`,
      });
    } finally {
      await encoder.release();
    }
    return rows;
  } finally {
    remove();
  }
}

export const cases: BenchCase[] = [
  {
    name: 'torch-step',
    async run({ quick }) {
      const missing = torchMissing();
      if (missing) {
        process.stdout.write(`torch-step: skipped (${missing})\n`);
        return [];
      }
      const threads = availableParallelism();
      const size = quick ? 64 : 128;
      const batch = quick ? 2 : 8;
      const runs = quick ? 3 : 10;
      return [
        ...(await subjectRows('resnet18', 'torchvision ResNet-18', batch, size, runs, threads)),
        ...(await subjectRows('vit_s16', 'torchvision ViT-S/16', batch, size, runs, threads)),
      ];
    },
  },
];
