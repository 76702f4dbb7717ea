import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Value } from '../../../src/onnx/graph-builder.js';
import { attr } from '../../../src/onnx/attributes.js';
import * as onnxLayers from '../../../src/onnx/models/layers.js';
import { Sfc32 } from '../../../src/random/index.js';
import { type CheckInput, buildModel, checkModelGradients, randomArray } from './gradcheck.js';

// A float64 attention block written the way torch.onnx.export (TorchScript) emits it: shapes computed
// at run time (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), q/k/v from a Split with a sizes
// input, scaling by Sqrt(Cast(head dim)), a boolean mask through Where, the CLS token by Gather, a
// Gemm classifier with transB. Everything symbolic in batch and sequence length.
const rng = new Sfc32(31);

function dynamicShape(g: GraphBuilder, x: Value, tail: Value[]): Value {
  const shape = g.shape(x);
  const dim = (i: number): Value => g.unsqueeze(g.gather(shape, i, 0), [0]);
  return g.concat([dim(0), dim(1), ...tail], 0);
}

function attentionBlock(g: GraphBuilder, v: Record<string, Value>): Value {
  const heads = 2;
  const x = v.x!;
  const qkv = g.add(g.matMul(x, v.wqkv!), v.bqkv!);
  const [q, k, vv] = g.node('Split', [qkv, g.ints([6, 6, 6])], { axis: attr.int(2) }, ['float64', 'float64', 'float64']);
  const split = (t: Value): Value => g.transpose(g.reshape(t, dynamicShape(g, x, [g.ints([heads]), g.ints([-1])])), [0, 2, 1, 3]);
  const headDim = g.cast(g.gather(g.shape(split(q!)), 3, 0), 'float64');
  const scores = g.div(g.matMul(split(q!), g.transpose(split(k!), [0, 1, 3, 2])), g.sqrt(headDim));
  const keep = g.unsqueeze(g.equal(v.mask!, g.constant(new BigInt64Array([1n]), [], 'one')), [1, 2]);
  const masked = g.where(keep, scores, g.constant(new Float64Array([-1e4]), [], 'neg'));
  const context = g.matMul(g.softmax(masked, -1), split(vv!));
  const merged = g.reshape(g.transpose(context, [0, 2, 1, 3]), dynamicShape(g, x, [g.ints([-1])]));
  const h = g.add(x, merged);
  const cls = g.gather(h, 0, 1);
  const gelu = g.mul(
    g.mul(
      cls,
      g.add(
        g.node('Tanh', [g.mul(cls, g.constant(new Float64Array([0.79788456]), [], 'c'))])[0]!,
        g.constant(new Float64Array([1]), [], 'one_f'),
      ),
    ),
    g.constant(new Float64Array([0.5]), [], 'half'),
  );
  return g.gemm(gelu, v.wout!, v.bout!, { transB: true });
}

describe('exporter-style graphs', () => {
  it('attention block with run-time shapes, Split, Where mask, CLS Gather, Gemm (float64)', async () => {
    const n = 3;
    const t = 5;
    const f = (dims: number[], declared?: (number | string)[]): CheckInput => ({
      data: randomArray(
        rng,
        dims.reduce((a, b) => a * b, 1),
        'float64',
        (z) => 0.5 * z,
      ),
      dims,
      declared,
    });
    const mask = new BigInt64Array(n * t).fill(1n);
    mask[t - 1] = 0n;
    mask[2 * t - 2] = 0n;
    mask[2 * t - 1] = 0n;
    const inputs: Record<string, CheckInput> = {
      x: f([n, t, 6], ['batch', 'sequence', 6]),
      mask: { data: mask, dims: [n, t], declared: ['batch', 'sequence'] },
      wqkv: f([6, 18]),
      bqkv: f([18]),
      wout: f([4, 6]),
      bout: f([4]),
    };
    const model = buildModel(inputs, attentionBlock);
    const r = await checkModelGradients(model, inputs, { inputsGrad: ['x', 'wqkv', 'bqkv', 'wout', 'bout'], maxEntries: 20 });
    expect(r.checked).toBeGreaterThan(60);
    expect(r.relativeError).toBeLessThanOrEqual(1e-6);
  });

  it('DenseNet-style dense block and transition (BN-act-Conv, Concat, AveragePool, GAP, Gemm), float32', async () => {
    const g = new GraphBuilder('dense', { seed: 8 });
    const x = g.input('image', 'float32', ['batch', 3, 'h', 'w']);
    // Tanh stands in for ReLU: this test is about the composition (Concat of feature maps, BN, pooling);
    // ReLU's own gradient is checked on its own and in the ResNet, where its kinks make float32
    // differences much noisier than the smooth parts under test here.
    const bnReluConv = (t: Value, prefix: string, cin: number, cout: number, k: number): Value =>
      onnxLayers.conv2d(g, g.tanh(onnxLayers.batchNorm2d(g, t, `${prefix}.norm`, cin)), `${prefix}.conv`, cin, cout, k, {
        padding: (k - 1) / 2,
      });
    const stem = onnxLayers.conv2d(g, x, 'stem', 3, 4, 3, { padding: 1 });
    const layer1 = bnReluConv(bnReluConv(stem, 'l1a', 4, 8, 1), 'l1b', 8, 4, 3);
    const cat1 = g.concat([stem, layer1], 1);
    const layer2 = bnReluConv(bnReluConv(cat1, 'l2a', 8, 8, 1), 'l2b', 8, 4, 3);
    const cat2 = g.concat([cat1, layer2], 1);
    const transition = g.averagePool(bnReluConv(cat2, 'tr', 12, 6, 1), { kernelShape: [2, 2], strides: [2, 2] });
    const pooled = g.flatten(g.globalAveragePool(g.tanh(transition)), 1);
    const w = g.parameter('classifier.weight', [5, 6], { kind: 'normal', std: 0.5 });
    const b = g.parameter('classifier.bias', [5], { kind: 'normal', std: 0.1 });
    g.output(g.gemm(pooled, w, b, { transB: true }), 'logits', ['batch', 5]);
    const model = g.build();
    const image: CheckInput = { data: randomArray(rng, 2 * 3 * 8 * 10, 'float32'), dims: [2, 3, 8, 10] };
    const r = await checkModelGradients(model, { image }, { parameters: /./, inputsGrad: ['image'], maxEntries: 5, seed: 9 });
    console.info(
      `[autodiff whole-model] DenseNet-style block: relative error ${r.relativeError.toExponential(2)} over ${r.checked} entries`,
    );
    expect(r.checked).toBeGreaterThan(80);
    expect(r.relativeError).toBeLessThanOrEqual(1e-3);
  });
});
