import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { type ModelProto } from '../../../src/onnx/proto.js';
import { readFloat32 } from '../../../src/onnx/tensor.js';
import { TrainDataError } from '../../../src/train/dataset.js';
import { SegmentedAdamW } from '../../../src/train/finetune/segmented-adamw.js';
import { TrainableEncoder } from '../../../src/train/finetune/trainable-encoder.js';
import { FlatParameters } from '../../../src/train/parameters.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const C = 3;
const HW = 5 * 6;
const RUNNING = { mean: 0.2, var: 1.5 };

/** image [N, 3, 5, 6] -> BatchNorm -> global average pool -> embedding [N, 3]. */
function bnEncoder(): ModelProto {
  const g = new GraphBuilder('bn_encoder', { seed: 3 });
  const x = g.input('image', 'float32', ['batch', C, 5, 6]);
  const scale = g.parameter('bn.weight', [C], { kind: 'normal', std: 1 });
  const shift = g.parameter('bn.bias', [C], { kind: 'normal', std: 1 });
  const mean = g.initializer('bn.running_mean', new Float32Array(C).fill(RUNNING.mean), [C]);
  const variance = g.initializer('bn.running_var', new Float32Array(C).fill(RUNNING.var), [C]);
  const y = g.batchNormalization(x, scale, shift, mean, variance, { epsilon: 1e-5 });
  g.output(g.flatten(g.globalAveragePool(y), 1), 'embedding', ['batch', C]);
  return g.build();
}

/** Per-channel mean and biased variance of rows [s, e) of an [N, C, H, W] buffer, in float64. */
function chunkStatistics(images: Float32Array, s: number, e: number): { mean: number[]; variance: number[]; rowMeans: number[][] } {
  const mean: number[] = [];
  const variance: number[] = [];
  const rowMeans: number[][] = [];
  for (let c = 0; c < C; c++) {
    let sum = 0;
    const perRow: number[] = [];
    for (let n = s; n < e; n++) {
      let r = 0;
      for (let k = 0; k < HW; k++) r += images[(n * C + c) * HW + k]!;
      perRow.push(r / HW);
      sum += r;
    }
    const m = sum / ((e - s) * HW);
    let v = 0;
    for (let n = s; n < e; n++) for (let k = 0; k < HW; k++) v += (images[(n * C + c) * HW + k]! - m) ** 2;
    mean.push(m);
    variance.push(v / ((e - s) * HW));
    rowMeans.push(perRow);
  }
  return { mean, variance, rowMeans };
}

describe('TrainableEncoder with batch-statistics BatchNorm', () => {
  const B = 7;
  const chunk = 3;
  const r = rng(12);
  const images = Float32Array.from({ length: B * C * HW }, () => 2 * r() + 0.7);
  const inputs = (s: number, e: number) => ({
    image: { type: 'float32' as const, data: images.subarray(s * C * HW, e * C * HW), dims: [e - s, C, 5, 6] },
  });

  it('normalises each chunk with its batch statistics and updates the running statistics once per chunk, PyTorch style', async () => {
    const momentum = 0.25;
    const encoder = await TrainableEncoder.create(bnEncoder(), 'embedding', [], 'bn encoder', { momentum });
    try {
      const running = encoder.runningStatistics!;
      expect(running.layout.parameters.map((p) => p.name)).toEqual(['bn.running_mean', 'bn.running_var']);
      const params = encoder.initialParametersFlat();
      const [scale, shift] = [params.subarray(0, C), params.subarray(C, 2 * C)];
      const state = Float32Array.from(running.initialEntries().flatMap((e) => [...e.values]));
      const { data, dim } = await encoder.embed(params, B, chunk, inputs, state);
      expect(dim).toBe(C);
      const expected = { mean: new Array<number>(C).fill(RUNNING.mean), var: new Array<number>(C).fill(RUNNING.var) };
      for (let s = 0; s < B; s += chunk) {
        const e = Math.min(B, s + chunk);
        const st = chunkStatistics(images, s, e);
        const count = (e - s) * HW;
        for (let c = 0; c < C; c++) {
          for (let n = s; n < e; n++) {
            const want = ((st.rowMeans[c]![n - s]! - st.mean[c]!) / Math.sqrt(st.variance[c]! + 1e-5)) * scale[c]! + shift[c]!;
            expect(data[n * C + c]).toBeCloseTo(want, 4);
          }
          expected.mean[c] = (1 - momentum) * expected.mean[c]! + momentum * st.mean[c]!;
          expected.var[c] = (1 - momentum) * expected.var[c]! + momentum * st.variance[c]! * (count / (count - 1));
        }
      }
      for (let c = 0; c < C; c++) {
        expect(state[c]).toBeCloseTo(expected.mean[c]!, 5);
        expect(state[C + c]).toBeCloseTo(expected.var[c]!, 5);
      }
      // backward() recomputes the chunks but never touches the running statistics.
      const before = state.slice();
      const grads = new Float32Array(encoder.size);
      await encoder.backward(params, grads, B, dim, chunk, inputs, Float32Array.from({ length: B * C }, r), true);
      expect(grads.some((g) => g !== 0)).toBe(true);
      expect(state).toEqual(before);
      // Without a state buffer (e.g. a probe) nothing is updated.
      await encoder.embed(params, B, chunk, inputs);
      expect(state).toEqual(before);
      // The trained model is the inference form with the running statistics written in.
      const trained = encoder.trainedModel(params, state);
      expect(trained.graph!.node!.map((n) => n.opType)).toContain('BatchNormalization');
      const inits = new Map(trained.graph!.initializer!.map((t) => [t.name!, t]));
      expect(readFloat32(inits.get('bn.running_mean')!)).toEqual(state.subarray(0, C));
      expect(readFloat32(inits.get('bn.running_var')!)).toEqual(state.subarray(C));
    } finally {
      await encoder.release();
    }
  });

  it('frozen mode (no options) keeps inference-form BatchNorm with the running statistics', async () => {
    const encoder = await TrainableEncoder.create(bnEncoder(), 'embedding', [], 'bn encoder');
    try {
      expect(encoder.runningStatistics).toBeUndefined();
      const params = encoder.initialParametersFlat();
      const { data } = await encoder.embed(params, B, chunk, inputs);
      const st = chunkStatistics(images, 0, B);
      for (let n = 0; n < B; n++)
        for (let c = 0; c < C; c++) {
          expect(data[n * C + c]).toBeCloseTo(
            ((st.rowMeans[c]![n]! - RUNNING.mean) / Math.sqrt(RUNNING.var + 1e-5)) * params[c]! + params[C + c]!,
            4,
          );
        }
    } finally {
      await encoder.release();
    }
  });

  it('a chunk with one value per channel is a typed error naming the node', async () => {
    const g = new GraphBuilder('bn2d', { seed: 1 });
    const x = g.input('x', 'float32', ['batch', 4]);
    const y = g.batchNormalization(
      x,
      g.parameter('fc_bn.weight', [4], { kind: 'ones' }),
      g.parameter('fc_bn.bias', [4], { kind: 'zeros' }),
      g.initializer('fc_bn.running_mean', new Float32Array(4), [4]),
      g.initializer('fc_bn.running_var', new Float32Array(4).fill(1), [4]),
    );
    g.output(y, 'embedding', ['batch', 4]);
    const model = g.build();
    const encoder = await TrainableEncoder.create(model, 'embedding', [], 'bn2d', { momentum: 0.1 });
    try {
      const rows = Float32Array.from({ length: 12 }, r);
      const feeds = (s: number, e: number) => ({ x: { type: 'float32' as const, data: rows.subarray(s * 4, e * 4), dims: [e - s, 4] } });
      const state = new Float32Array(encoder.runningStatistics!.size);
      await encoder.embed(encoder.initialParametersFlat(), 3, 2, feeds, state).then(
        () => expect.unreachable('a chunk of one row must be refused'),
        (error: unknown) => {
          expect(error).toBeInstanceOf(TrainDataError);
          expect((error as Error).message).toMatch(
            new RegExp(`BatchNormalization node ${model.graph!.node![0]!.name}.*finetune\\.chunkSize`),
          );
        },
      );
    } finally {
      await encoder.release();
    }
  });
});

describe('running statistics in the flat parameter buffer', () => {
  it('AdamW never moves them (zero gradient, no decay) and gradient clipping norms are unchanged', () => {
    const r = rng(4);
    const weights = Float32Array.from({ length: 12 }, r);
    const running = Float32Array.from({ length: 6 }, () => 1 + r());
    const withStats = new FlatParameters(
      [
        { name: 'enc.w', shape: [4, 3], init: { kind: 'values', values: weights } },
        { name: 'enc.bn.running_mean', shape: [3], init: { kind: 'values', values: running.subarray(0, 3) }, decay: false },
        { name: 'enc.bn.running_var', shape: [3], init: { kind: 'values', values: running.subarray(3) }, decay: false },
      ],
      1,
    );
    const alone = new FlatParameters([{ name: 'enc.w', shape: [4, 3], init: { kind: 'values', values: weights } }], 1);
    expect([...withStats.decayMask('main').subarray(12)]).toEqual([0, 0, 0, 0, 0, 0]);
    // A group override of weight decay covering the statistics does not decay them either.
    const a = new SegmentedAdamW(withStats.data, withStats.decayMask('main'), [{ start: 0, end: 18, lrScale: 1, weightDecay: 0.5 }]);
    const b = new SegmentedAdamW(alone.data, alone.decayMask('main'), [{ start: 0, end: 12, lrScale: 1, weightDecay: 0.5 }]);
    const h = { lr: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
    for (let step = 0; step < 3; step++) {
      const g = Float32Array.from({ length: 12 }, () => 3 * r());
      withStats.grad.fill(0);
      withStats.grad.set(g);
      expect(a.update(withStats.grad, h)).toBe(b.update(g.slice(), h));
    }
    // The native kernel's vector lanes split 18 and 12 elements differently: last-bit differences only.
    withStats.data.subarray(0, 12).forEach((v, i) => expect(v).toBeCloseTo(alone.data[i]!, 6));
    expect(withStats.data.subarray(12)).toEqual(running);
  });
});
