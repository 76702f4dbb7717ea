/** Gradients of elementwise operators (broadcasting undone with unbroadcast). */
import { floatAttr, stringAttr } from '../node-attributes.js';
import type { Value } from '../../graph-builder.js';
import { type Vjp, type VjpArgs, dy0, input, output } from './types.js';

const unb = (a: VjpArgs, grad: ReturnType<typeof dy0>, i: number) => (a.needs[i] ? a.e.unbroadcast(grad, a.yShape(0), input(a, i)) : null);

function greaterThanZero(a: VjpArgs) {
  const x = input(a, 0);
  return a.e.op('Greater', [x, a.e.scalar(0, x.dtype)], {}, 'bool');
}

function pick(a: VjpArgs, compare: string): (Value | null)[] {
  if (a.x.length !== 2) a.fail(`${a.node.opType} with ${a.x.length} inputs is not supported (two inputs only)`);
  const { e } = a;
  const dy = dy0(a);
  const chooseA = e.op(compare, [input(a, 0), input(a, 1)], {}, 'bool');
  const zero = e.scalar(0, dy.dtype);
  return [
    a.needs[0] ? unb(a, e.op('Where', [chooseA, dy, zero], {}, dy.dtype), 0) : null,
    a.needs[1] ? unb(a, e.op('Where', [chooseA, zero, dy], {}, dy.dtype), 1) : null,
  ];
}

export const elementwiseRules: Record<string, Vjp> = {
  Add: (a) => [unb(a, dy0(a), 0), unb(a, dy0(a), 1)],
  Sub: (a) => [unb(a, dy0(a), 0), a.needs[1] ? unb(a, a.e.neg(dy0(a)), 1) : null],
  Mul: (a) => [a.needs[0] ? unb(a, a.e.mul(dy0(a), input(a, 1)), 0) : null, a.needs[1] ? unb(a, a.e.mul(dy0(a), input(a, 0)), 1) : null],
  Div: (a) => {
    const { e } = a;
    const dy = dy0(a);
    return [
      a.needs[0] ? unb(a, e.div(dy, input(a, 1)), 0) : null,
      a.needs[1] ? unb(a, e.neg(e.mul(dy, e.div(output(a, 0), input(a, 1)))), 1) : null,
    ];
  },
  Pow: (a) => {
    const { e } = a;
    const dy = dy0(a);
    const base = input(a, 0);
    const exponent = e.cast(input(a, 1), base.dtype);
    const one = e.scalar(1, base.dtype);
    const dBase = a.needs[0] ? unb(a, e.mul(dy, e.mul(exponent, e.op('Pow', [base, e.sub(exponent, one)]))), 0) : null;
    const dExp = a.needs[1] ? unb(a, e.mul(dy, e.mul(output(a, 0), e.op('Log', [base]))), 1) : null;
    return [dBase, dExp];
  },
  Sum: (a) => a.x.map((_, i) => unb(a, dy0(a), i)),
  Neg: (a) => [a.e.neg(dy0(a))],
  Identity: (a) => [dy0(a)],
  // Inference-form Dropout is the identity (training_mode must be false, as in eval-mode exports).
  Dropout: (a) => {
    const training = a.x[2] ? a.e.facts.smallConstants.get(a.x[2].name) : [0];
    const ratio = a.x[1] ? a.e.facts.smallConstants.get(a.x[1].name) : [0.5];
    // Training-mode Dropout is the identity only with ratio 0 (what a train-mode export of p=0 gives).
    if (!(training && training[0] === 0) && !(ratio && ratio[0] === 0))
      a.fail('training-mode Dropout is not supported; export the model in eval mode');
    return [dy0(a)];
  },
  Cast: (a) => [a.e.cast(dy0(a), input(a, 0).dtype)],
  Sqrt: (a) => [a.e.div(a.e.scale(dy0(a), 0.5), output(a, 0))],
  Exp: (a) => [a.e.mul(dy0(a), output(a, 0))],
  Log: (a) => [a.e.div(dy0(a), input(a, 0))],
  Reciprocal: (a) => {
    const y = output(a, 0);
    return [a.e.neg(a.e.mul(dy0(a), a.e.mul(y, y)))];
  },
  Abs: (a) => [a.e.mul(dy0(a), a.e.op('Sign', [input(a, 0)]))],
  Relu: (a) => {
    const dy = dy0(a);
    return [a.e.op('Where', [greaterThanZero(a), dy, a.e.scalar(0, dy.dtype)], {}, dy.dtype)];
  },
  LeakyRelu: (a) => {
    const dy = dy0(a);
    return [a.e.op('Where', [greaterThanZero(a), dy, a.e.scale(dy, floatAttr(a.node, 'alpha', 0.01))], {}, dy.dtype)];
  },
  Sigmoid: (a) => {
    const { e } = a;
    const y = output(a, 0);
    return [e.mul(dy0(a), e.mul(y, e.sub(e.scalar(1, y.dtype), y)))];
  },
  Tanh: (a) => {
    const { e } = a;
    const y = output(a, 0);
    return [e.mul(dy0(a), e.sub(e.scalar(1, y.dtype), e.mul(y, y)))];
  },
  Erf: (a) => {
    const { e } = a;
    const x = input(a, 0);
    const bell = e.op('Exp', [e.neg(e.mul(x, x))]);
    return [e.mul(dy0(a), e.scale(bell, 2 / Math.sqrt(Math.PI)))];
  },
  // Gelu exists only from opset 20; PyTorch's opset-17 export is the Erf decomposition, handled op by op.
  Gelu: (a) => {
    if (stringAttr(a.node, 'approximate', 'none') !== 'none') a.fail('only approximate="none" (erf) Gelu is supported');
    const { e } = a;
    const x = input(a, 0);
    const cdf = e.scale(e.add(e.op('Erf', [e.scale(x, Math.SQRT1_2)]), e.scalar(1, x.dtype)), 0.5);
    const pdf = e.scale(e.op('Exp', [e.scale(e.mul(x, x), -0.5)]), 1 / Math.sqrt(2 * Math.PI));
    return [e.mul(dy0(a), e.add(cdf, e.mul(x, pdf)))];
  },
  Where: (a) => {
    const { e } = a;
    const dy = dy0(a);
    const cond = input(a, 0);
    const zero = e.scalar(0, dy.dtype);
    return [
      null,
      a.needs[1] ? unb(a, e.op('Where', [cond, dy, zero], {}, dy.dtype), 1) : null,
      a.needs[2] ? unb(a, e.op('Where', [cond, zero, dy], {}, dy.dtype), 2) : null,
    ];
  },
  Expand: (a) => [unb(a, dy0(a), 0), null],
  // Two-input Max/Min (clamp exports): the gradient goes to the selected operand, to A on ties.
  Max: (a) => pick(a, 'GreaterOrEqual'),
  Min: (a) => pick(a, 'LessOrEqual'),
  Clip: (a) => {
    // ReLU6-style clipping: gradient passes where min < x < max (bounds are constants in exports).
    const { e } = a;
    const dy = dy0(a);
    const x = input(a, 0);
    let keep = null;
    const lo = a.x[1];
    const hi = a.x[2];
    if (lo) keep = e.op('Greater', [x, lo], {}, 'bool');
    if (hi) {
      const below = e.op('Less', [x, hi], {}, 'bool');
      keep = keep ? e.op('And', [keep, below], {}, 'bool') : below;
    }
    return [keep ? e.op('Where', [keep, dy, e.scalar(0, dy.dtype)], {}, dy.dtype) : dy, null, null];
  },
};
