import { describe, expect, it } from 'vitest';
import { Head, headSpecs } from '../../../src/train/heads.js';
import { resolveTrainOps } from '../../../src/train/ops.js';
import { FlatParameters } from '../../../src/train/parameters.js';

const shape = { kind: 'mlp' as const, inDim: 6, outDim: 4, hidden: 10 };
const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

function freshHead(): Head {
  return new Head(new FlatParameters(headSpecs('head', shape), 3), 'head', shape, resolveTrainOps());
}

/** Output, input gradient and parameter gradients of one forward/backward on a new head. */
function reference(x: Float32Array, rows: number, dy: Float32Array): { out: Float32Array; dx: Float32Array; grad: Float32Array } {
  const head = freshHead();
  const out = head.forward(x, rows);
  const dx = head.backward(dy, { inputGrad: true });
  return { out, dx, grad: head.params.grad.slice() };
}

describe('an MLP head reuses its activation and gradient buffers across steps', () => {
  it('gives each step what a new head gives, whatever ran before, including forwards that keep nothing in between', () => {
    const head = freshHead();
    for (const [step, rows] of [
      [1, 5],
      [2, 5],
      [3, 3],
      [4, 5],
    ] as const) {
      const x = values(rows * shape.inDim, step);
      const dy = values(rows * shape.outDim, step + 10);
      const expected = reference(x, rows, dy);
      head.params.zeroGrad();
      const out = head.forward(x, rows);
      // an evaluation between the step's forward and backward must not disturb the kept activations
      head.forward(values(7 * shape.inDim, 99), 7, { keep: false });
      const dx = head.backward(dy, { inputGrad: true });
      expect(out).toEqual(expected.out);
      expect(dx).toEqual(expected.dx);
      expect(head.params.grad).toEqual(expected.grad);
    }
  });
});
