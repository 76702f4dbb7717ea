import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { toBatchStatisticsModel, updateRunningStatistics } from '../../../src/onnx/batch-norm-training.js';
import { OnnxModelError } from '../../../src/onnx/errors.js';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { type ModelProto } from '../../../src/onnx/proto.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { Sfc32 } from '../../../src/random/index.js';
import { checkModelGradients, randomArray } from '../autodiff/gradcheck.js';

/** x -> BN(x) with scale/bias as float64 inputs and running statistics as initializers. */
function bnModel(dims: number[], opset = 17, runningDtype: 'float32' | 'float64' = 'float64'): ModelProto {
  const C = dims[1]!;
  const g = new GraphBuilder('bn', { seed: 1 });
  const x = g.input('x', 'float64', dims);
  const s = g.input('scale', 'float64', [C]);
  const b = g.input('bias', 'float64', [C]);
  const data = (v: number) => (runningDtype === 'float64' ? new Float64Array(C).fill(v) : new Float32Array(C).fill(v));
  const mean = g.initializer('bn.running_mean', data(0.3), [C]);
  const variance = g.initializer('bn.running_var', data(2), [C]);
  g.output(g.batchNormalization(x, s, b, mean, variance, { epsilon: 1e-3 }), 'y', dims);
  const model = g.build();
  model.opsetImport.find((o) => !o.domain)!.version = opset;
  return model;
}

/** Float64 reference of training-mode BatchNorm over axes 0, 2, 3 (or 0 for [N, C]). */
function referenceBatchNorm(x: Float64Array, dims: number[], scale: Float64Array, bias: Float64Array, eps: number) {
  const [N, C] = dims as [number, number];
  const inner = dims.length === 4 ? dims[2]! * dims[3]! : 1;
  const count = N * inner;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const at = (n: number, c: number, k: number) => (n * C + c) * inner + k;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < inner; k++) s += x[at(n, c, k)]!;
    mean[c] = s / count;
    let v = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < inner; k++) v += (x[at(n, c, k)]! - mean[c]!) ** 2;
    variance[c] = v / count;
  }
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < inner; k++) {
        y[at(n, c, k)] = ((x[at(n, c, k)]! - mean[c]!) / Math.sqrt(variance[c]! + eps)) * scale[c]! + bias[c]!;
      }
  return { y, mean, variance };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('BatchNormalization batch-statistics rewrite', () => {
  for (const [dims, opset] of [
    [[3, 5, 4, 7], 17],
    [[6, 5], 17],
    [[2, 3, 5, 3], 18],
  ] as const) {
    it(`forward equals a float64 reference of training-mode BN on [${dims.join(', ')}] (opset ${opset}), with the batch statistics as outputs`, async () => {
      const rng = new Sfc32(11);
      const C = dims[1]!;
      const x = randomArray(
        rng,
        dims.reduce((a, b) => a * b, 1),
        'float64',
        (v) => 3 * v + 1.5,
      ) as Float64Array;
      const scale = randomArray(rng, C, 'float64') as Float64Array;
      const bias = randomArray(rng, C, 'float64') as Float64Array;
      const { model, statistics } = toBatchStatisticsModel(bnModel([...dims], opset), { exposeStatistics: true });
      expect(statistics).toEqual([
        expect.objectContaining({
          runningMean: 'bn.running_mean',
          runningVar: 'bn.running_var',
          channels: C,
          meanOutput: 'bn.running_mean__batch_mean',
          varOutput: 'bn.running_var__batch_var',
        }),
      ]);
      expect(model.graph!.node!.map((n) => n.opType)).not.toContain('BatchNormalization');
      expect(model.graph!.initializer!.map((t) => t.name)).not.toContain('bn.running_mean');
      // Opset 18 moved ReduceMean's axes from an attribute to an input.
      for (const n of model.graph!.node!.filter((k) => k.opType === 'ReduceMean')) expect(n.input!.length).toBe(opset >= 18 ? 2 : 1);
      const session = await ort.InferenceSession.create(serializeModel(model));
      const out = await session.run({
        x: new ort.Tensor('float64', x, [...dims]),
        scale: new ort.Tensor('float64', scale, [C]),
        bias: new ort.Tensor('float64', bias, [C]),
      });
      await session.release();
      const ref = referenceBatchNorm(x, [...dims], scale, bias, 1e-3);
      expect(maxAbs(out.y!.data as Float64Array, ref.y)).toBeLessThan(1e-10);
      expect(maxAbs(out[statistics[0]!.meanOutput]!.data as Float64Array, ref.mean)).toBeLessThan(1e-10);
      expect(maxAbs(out[statistics[0]!.varOutput]!.data as Float64Array, ref.variance)).toBeLessThan(1e-10);
      expect(Number((out[statistics[0]!.elementsOutput]!.data as BigInt64Array)[0])).toBe(x.length);
    });

    it(`gradients to x (through the batch statistics), scale and bias match finite differences on [${dims.join(', ')}] (opset ${opset})`, async () => {
      const rng = new Sfc32(5);
      const C = dims[1]!;
      const inputs = {
        x: {
          data: randomArray(
            rng,
            dims.reduce((a, b) => a * b, 1),
            'float64',
          ),
          dims: [...dims],
        },
        scale: { data: randomArray(rng, C, 'float64'), dims: [C] },
        bias: { data: randomArray(rng, C, 'float64'), dims: [C] },
      };
      const { model } = toBatchStatisticsModel(bnModel([...dims], opset));
      const r = await checkModelGradients(model, inputs, { inputsGrad: ['x', 'scale', 'bias'], maxEntries: 40 });
      expect(r.checked).toBeGreaterThanOrEqual(
        Math.min(
          40,
          dims.reduce((a, b) => a * b, 1),
        ) +
          2 * C,
      );
      expect(r.numericNorm).toBeGreaterThan(0);
      expect(r.relativeError).toBeLessThan(1e-6);
    });
  }

  it('refuses inputs that are neither [N, C, H, W] nor [N, C], naming the node', () => {
    const g = new GraphBuilder('bn3', { seed: 1 });
    const x = g.input('x', 'float32', [2, 3, 5]);
    const p = (n: string, v: number) => g.initializer(n, new Float32Array(3).fill(v), [3]);
    g.output(g.batchNormalization(x, p('s', 1), p('b', 0), p('m', 0), p('v', 1)), 'y');
    const model = g.build();
    const name = model.graph!.node![0]!.name!;
    expect(() => toBatchStatisticsModel(model)).toThrow(OnnxModelError);
    expect(() => toBatchStatisticsModel(model)).toThrow(
      new RegExp(`BatchNormalization node ${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*rank 3`),
    );
  });

  it('refuses running statistics that are not initializers or are shared between nodes', () => {
    const g = new GraphBuilder('bn-shared', { seed: 1 });
    const x = g.input('x', 'float32', [2, 3]);
    const p = (n: string, v: number) => g.initializer(n, new Float32Array(3).fill(v), [3]);
    const [s, b, m, v] = [p('s', 1), p('b', 0), p('m', 0), p('v', 1)];
    g.output(g.batchNormalization(g.batchNormalization(x, s, b, m, v), s, b, m, v), 'y');
    expect(() => toBatchStatisticsModel(g.build())).toThrow(/shares its running statistic m/);
    const h = new GraphBuilder('bn-input', { seed: 1 });
    const xi = h.input('x', 'float32', [2, 3]);
    const q = (n: string, val: number) => h.initializer(n, new Float32Array(3).fill(val), [3]);
    h.output(h.batchNormalization(xi, q('s', 1), q('b', 0), h.input('mean', 'float32', [3]), q('v', 1)), 'y');
    expect(() => toBatchStatisticsModel(h.build())).toThrow(/running statistic mean must be an initializer/);
  });

  it('a model without BatchNormalization is unchanged', () => {
    const g = new GraphBuilder('plain', { seed: 1 });
    g.output(g.relu(g.input('x', 'float32', [2, 3])), 'y');
    const model = g.build();
    const { model: rewritten, statistics } = toBatchStatisticsModel(model, { exposeStatistics: true });
    expect(statistics).toEqual([]);
    expect(Buffer.from(serializeModel(rewritten)).equals(Buffer.from(serializeModel(model)))).toBe(true);
  });

  it('running statistics follow PyTorch: (1 - m) running + m batch, variance unbiased', () => {
    const running = { mean: new Float32Array([1, 2]), var: new Float32Array([1, 4]) };
    updateRunningStatistics(running, { mean: [3, -2], var: [0.5, 2] }, 5, 0.1);
    expect(running.mean[0]).toBeCloseTo(0.9 * 1 + 0.1 * 3, 6);
    expect(running.mean[1]).toBeCloseTo(0.9 * 2 - 0.1 * 2, 6);
    expect(running.var[0]).toBeCloseTo(0.9 * 1 + (0.1 * 0.5 * 5) / 4, 6);
    expect(running.var[1]).toBeCloseTo(0.9 * 4 + (0.1 * 2 * 5) / 4, 6);
  });
});
