/** Normalisation and softmax gradients. */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import { makeTensorProto } from '../../tensor.js';
import { floatAttr, intAttr } from '../node-attributes.js';
import { type Vjp, type VjpArgs, dy0, input, output } from './types.js';

/** Inference-form BatchNormalization: running statistics are constants of the forward pass. */
function batchNormalization(a: VjpArgs): (Value | null)[] {
  if (intAttr(a.node, 'training_mode', 0) === 1 || (a.node.output ?? []).filter((o) => o).length > 1) {
    a.fail('training-mode BatchNormalization (batch statistics) is not supported; export the model in eval mode');
  }
  const { e } = a;
  const dy = dy0(a);
  const X = input(a, 0);
  const scale = input(a, 1);
  const mean = input(a, 3);
  const variance = input(a, 4);
  const rank = e.rank(X);
  // [C] -> [1, C, 1, ...] to broadcast against X.
  const viewShape =
    rank !== undefined
      ? e.ints([1, -1, ...new Array<number>(rank - 2).fill(1)])
      : e.op(
          'Concat',
          [
            e.ints([1, -1]),
            e.op(
              'ConstantOfShape',
              [e.op('Reshape', [e.op('Sub', [e.size(e.shape(X)), e.int(2)]), e.ints([1])])],
              { value: attr.tensor(oneInt()) },
              'int64',
            ),
          ],
          { axis: attr.int(0) },
        );
  const view = (v: Value): Value => e.op('Reshape', [v, viewShape]);
  const axes =
    rank !== undefined
      ? e.ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)])
      : e.op('Concat', [e.ints([0]), e.op('Range', [e.int(2), e.size(e.shape(X)), e.int(1)], {}, 'int64')], { axis: attr.int(0) });
  const channelSum = (t: Value): Value => e.reduceSum(t, axes, false);

  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.add(variance, e.scalar(floatAttr(a.node, 'epsilon', 1e-5), variance.dtype))])]);
  const needsCentered = a.needs[1] || a.needs[4];
  const centeredSum = needsCentered ? channelSum(e.mul(dy, e.sub(X, view(mean)))) : null;
  const dX = a.needs[0] ? e.mul(dy, view(e.mul(scale, invStd))) : null;
  const dScale = a.needs[1] ? e.mul(centeredSum!, invStd) : null;
  const dyTotal = a.needs[2] || a.needs[3] ? channelSum(dy) : null;
  const dMean = a.needs[3] ? e.neg(e.mul(dyTotal!, e.mul(scale, invStd))) : null;
  const dVar = a.needs[4] ? e.mul(centeredSum!, e.scale(e.mul(scale, e.mul(invStd, e.mul(invStd, invStd))), -0.5)) : null;
  return [dX, dScale, a.needs[2] ? dyTotal : null, dMean, dVar];
}

function oneInt() {
  return makeTensorProto('value', new BigInt64Array([1n]), [1]);
}

/**
 * LayerNormalization: the forward node was given its Mean and InvStdDev outputs, so the backward
 * pass reuses them instead of recomputing the statistics.
 */
function layerNormalization(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const dy = dy0(a);
  const X = input(a, 0);
  const scale = input(a, 1);
  const axis = intAttr(a.node, 'axis', -1);
  const rank = e.rank(X);
  let axes: number[];
  if (axis < 0) axes = Array.from({ length: -axis }, (_, i) => axis + i);
  else if (rank !== undefined) axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  else return a.fail(`axis=${axis} needs the input rank, which is not known statically`);
  // ReduceMean takes its axes as an attribute up to opset 17 and as an input from opset 18.
  const mean2 = (t: Value): Value =>
    a.opset >= 18
      ? e.op('ReduceMean', [t, e.ints(axes)], { keepdims: attr.int(1) })
      : e.op('ReduceMean', [t], { axes: attr.ints(axes), keepdims: attr.int(1) });
  let mean: Value;
  let invStd: Value;
  if (X.dtype === 'float32') {
    mean = output(a, 1);
    invStd = output(a, 2);
  } else {
    // The saved statistics are float32 (stash_type); recompute them in the input's precision.
    mean = mean2(X);
    const centered = e.sub(X, mean);
    const variance = mean2(e.mul(centered, centered));
    invStd = e.op('Reciprocal', [e.op('Sqrt', [e.add(variance, e.scalar(floatAttr(a.node, 'epsilon', 1e-5), X.dtype))])]);
  }
  const normalized = e.mul(e.sub(X, mean), invStd);
  let dX: Value | null = null;
  if (a.needs[0]) {
    const g = e.mul(dy, scale);
    dX = e.mul(invStd, e.sub(e.sub(g, mean2(g)), e.mul(normalized, mean2(e.mul(g, normalized)))));
  }
  const dScale = a.needs[1] ? e.unbroadcast(e.mul(dy, normalized), a.yShape(0), scale) : null;
  const B = a.x[2];
  const dB = a.needs[2] && B ? e.unbroadcast(dy, a.yShape(0), B) : null;
  return [dX, dScale, dB];
}

function softmaxAxis(a: VjpArgs): number {
  if (a.opset < 13) a.fail(`opset ${a.opset} ${a.node.opType} flattens at axis; re-export with opset >= 13`);
  return intAttr(a.node, 'axis', -1);
}

function softmax(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const y = output(a, 0);
  const dy = dy0(a);
  const inner = e.reduceSum(e.mul(dy, y), [softmaxAxis(a)], true);
  return [e.mul(y, e.sub(dy, inner))];
}

function logSoftmax(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const dy = dy0(a);
  const total = e.reduceSum(dy, [softmaxAxis(a)], true);
  return [e.sub(dy, e.mul(e.op('Exp', [output(a, 0)]), total))];
}

export const normRules: Record<string, Vjp> = {
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};
