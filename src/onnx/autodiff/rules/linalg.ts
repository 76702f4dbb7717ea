/** Gradients of MatMul (batched, broadcasting, 1-D operands) and Gemm. */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import type { StaticDim } from '../analysis.js';
import { floatAttr, intAttr } from '../node-attributes.js';
import { type Vjp, type VjpArgs, dy0, input } from './types.js';

function matMul(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  let dy = dy0(a);
  let A = input(a, 0);
  let B = input(a, 1);
  const rankA = e.rank(A);
  const rankB = e.rank(B);
  if (rankA === 1 && rankB === 1) return [a.needs[0] ? e.mul(dy, B) : null, a.needs[1] ? e.mul(dy, A) : null];
  // Promote 1-D operands as MatMul does, differentiate the matrix case, squeeze back.
  const promoted = { a: rankA === 1, b: rankB === 1 };
  if (promoted.a) {
    A = e.op('Unsqueeze', [A, e.ints([0])]);
    dy = e.op('Unsqueeze', [dy, e.ints([-2])]);
  }
  if (promoted.b) {
    B = e.op('Unsqueeze', [B, e.ints([-1])]);
    dy = e.op('Unsqueeze', [dy, e.ints([-1])]);
  }
  const ra = promoted.a ? 2 : rankA;
  const rb = promoted.b ? 2 : rankB;
  const yShape = a.yShape(0);
  const batch: StaticDim[] | undefined = yShape && !promoted.a && !promoted.b ? yShape.slice(0, -2) : undefined;
  const sa = promoted.a ? undefined : e.staticShape(A);
  const sb = promoted.b ? undefined : e.staticShape(B);

  let dA: Value | null = null;
  if (a.needs[0]) {
    dA = e.op('MatMul', [dy, e.swapLast2(B, rb)]);
    const shape = batch && sa ? [...batch, ...sa.slice(-2)] : undefined;
    dA = e.unbroadcast(dA, promoted.a ? undefined : shape, A);
    if (promoted.a) dA = e.op('Squeeze', [dA, e.ints([0])]);
  }
  let dB: Value | null = null;
  if (a.needs[1]) {
    if (rb === 2 && ra !== undefined && ra > 2 && !promoted.b) {
      // A shared weight: one GEMM over all leading rows instead of a batched MatMul and a ReduceSum.
      const flatA = e.op('Flatten', [A], { axis: attr.int(ra - 1) });
      const flatDy = e.op('Flatten', [dy], { axis: attr.int(ra - 1) });
      dB = e.op('Gemm', [flatA, flatDy], { transA: attr.int(1) });
    } else {
      dB = e.op('MatMul', [e.swapLast2(A, ra), dy]);
      const shape = batch && sb ? [...batch, ...sb.slice(-2)] : undefined;
      dB = e.unbroadcast(dB, promoted.b ? undefined : shape, B);
      if (promoted.b) dB = e.op('Squeeze', [dB, e.ints([-1])]);
    }
  }
  return [dA, dB];
}

function gemm(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const dy = dy0(a);
  const A = input(a, 0);
  const B = input(a, 1);
  const alpha = floatAttr(a.node, 'alpha', 1);
  const beta = floatAttr(a.node, 'beta', 1);
  const tA = intAttr(a.node, 'transA', 0) === 1;
  const tB = intAttr(a.node, 'transB', 0) === 1;
  const gemmOp = (p: Value, q: Value, transP: boolean, transQ: boolean): Value =>
    e.op('Gemm', [p, q], {
      alpha: alpha === 1 ? undefined : attr.float(alpha),
      transA: transP ? attr.int(1) : undefined,
      transB: transQ ? attr.int(1) : undefined,
    });
  const dA = a.needs[0] ? (tA ? gemmOp(B, dy, tB, true) : gemmOp(dy, B, false, !tB)) : null;
  const dB = a.needs[1] ? (tB ? gemmOp(dy, A, true, tA) : gemmOp(A, dy, !tA, false)) : null;
  const C = a.x[2];
  const dC = a.needs[2] && C ? e.unbroadcast(e.scale(dy, beta), a.yShape(0), C) : null;
  return [dA, dB, dC];
}

export const linalgRules: Record<string, Vjp> = { MatMul: matMul, Gemm: gemm };
