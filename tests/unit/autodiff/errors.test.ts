import { describe, expect, it } from 'vitest';
import { AutodiffError, UnsupportedOperatorError } from '../../../src/onnx/autodiff/errors.js';
import { GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { makeTensorProto } from '../../../src/onnx/tensor.js';
import { attr } from '../../../src/onnx/attributes.js';

function model(build: (g: GraphBuilder) => void) {
  const g = new GraphBuilder('bad_model', { seed: 3 });
  build(g);
  return g.build();
}

describe('differentiate: typed errors', () => {
  it('names the unsupported operator, its node and the model', () => {
    const m = model((g) => {
      const x = g.input('x', 'float32', [2, 3]);
      const w = g.parameter('w', [3, 3], { kind: 'normal', std: 1 });
      g.output(g.node('Cos', [g.matMul(x, w)])[0]!, 'y');
    });
    let caught: unknown;
    try {
      differentiate(m, { modelPath: '/models/bad.onnx' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UnsupportedOperatorError);
    const err = caught as UnsupportedOperatorError;
    expect(err.code).toBe('ERR_AUTODIFF_UNSUPPORTED_OP');
    expect(err.message).toContain('Cos');
    expect(err.message).toMatch(/Cos_\d+/);
    expect(err.message).toContain('/models/bad.onnx');
    expect(err.details).toMatchObject({ opType: 'Cos', model: '/models/bad.onnx' });
  });

  it('leaves unsupported operators alone when no gradient flows through them', () => {
    const m = model((g) => {
      const x = g.input('x', 'float32', [2, 3]);
      const w = g.parameter('w', [3, 3], { kind: 'normal', std: 1 });
      g.output(g.add(g.matMul(x, w), g.node('Cos', [x])[0]!), 'y');
    });
    const t = differentiate(m);
    expect(t.parameterGradOutputs).toEqual(['grad_w']);
  });

  it('refuses training-mode BatchNormalization with a reason', () => {
    const m = model((g) => {
      const x = g.input('x', 'float32', [2, 3, 4, 4]);
      const s = g.parameter('bn.weight', [3], { kind: 'ones' });
      const b = g.parameter('bn.bias', [3], { kind: 'zeros' });
      const mean = g.initializer('bn.running_mean', new Float32Array(3), [3]);
      const v = g.initializer('bn.running_var', new Float32Array(3).fill(1), [3]);
      g.output(g.node('BatchNormalization', [x, s, b, mean, v], { training_mode: attr.int(1) })[0]!, 'y');
    });
    expect(() => differentiate(m)).toThrow(/eval mode/);
  });

  it('refuses training-mode Dropout unless its ratio is 0', () => {
    const build = (ratio: number) =>
      model((g) => {
        const x = g.input('x', 'float32', [2, 3]);
        const w = g.parameter('w', [3, 3], { kind: 'ones' });
        const r = g.constant(new Float32Array([ratio]), [], 'ratio');
        const on = g.node('Constant', [], { value: attr.tensor(makeTensorProto('training', new Uint8Array([1]), [], 'bool')) }, [
          'bool',
        ])[0]!;
        g.output(g.node('Dropout', [g.matMul(x, w), r, on])[0]!, 'y');
      });
    expect(() => differentiate(build(0.1))).toThrow(/training-mode Dropout/);
    expect(differentiate(build(0)).parameterGradOutputs).toEqual(['grad_w']);
  });

  it('rejects graphs whose nodes are not in topological order', () => {
    const m = model((g) => {
      const x = g.input('x', 'float32', [2, 3]);
      const w = g.parameter('w', [3, 3], { kind: 'ones' });
      g.output(g.relu(g.matMul(x, w)), 'y');
    });
    m.graph!.node = [...m.graph!.node!].reverse();
    expect(() => differentiate(m)).toThrow(/not in topological order/);
  });

  it('rejects unknown outputs, non-float inputs and name clashes', () => {
    const m = model((g) => {
      const x = g.input('x', 'float32', [2, 3]);
      const ids = g.input('ids', 'int64', [2]);
      const w = g.parameter('w', [3, 3], { kind: 'ones' });
      g.output(g.add(g.matMul(x, w), g.cast(g.unsqueeze(ids, [1]), 'float32')), 'y');
      g.output(x, 'grad_w');
    });
    expect(() => differentiate(m, { outputs: ['nope'] })).toThrow(AutodiffError);
    expect(() => differentiate(m, { inputsGrad: ['ids'], outputs: ['y'] })).toThrow(/not a float input/);
    expect(() => differentiate(m, { outputs: ['y'] })).toThrow(/already has a value named grad_w/);
  });
});
