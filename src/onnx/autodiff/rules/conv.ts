/**
 * Convolution and pooling gradients. dX of a convolution is a ConvTranspose with the same strides,
 * dilations and groups; its output size is fixed to the input's with output_padding (static sizes)
 * or by over-producing and slicing (symbolic sizes). dW is a Conv of the input over the output
 * gradient with the roles of strides and dilations swapped, batch acting as the contracted channel.
 */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import { intAttr, intsAttr, stringAttr } from '../node-attributes.js';
import { inputGradStride1, weightGradByTaps, weightGradPatches } from './conv-fast.js';
import { maxPoolGradByPhases, phasePool } from './max-pool.js';
import { type Vjp, type VjpArgs, dy0, input, output } from './types.js';

interface Window {
  spatial: number;
  kernel: number[] | undefined;
  strides: number[];
  dilations: number[];
  pads: number[];
}

function windowOf(a: VjpArgs, kernelFrom: Value | null): Window {
  const node = a.node;
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') a.fail(`auto_pad=${autoPad} is not supported (export with explicit pads)`);
  const wShape = kernelFrom ? a.e.staticShape(kernelFrom) : undefined;
  const kernelAttr = intsAttr(node, 'kernel_shape');
  const kernelStatic = wShape && wShape.slice(2).every((d) => typeof d === 'number') ? (wShape.slice(2) as number[]) : undefined;
  const kernel = kernelAttr ?? kernelStatic;
  const xRank = a.e.rank(input(a, 0));
  const spatial =
    kernel?.length ??
    intsAttr(node, 'strides')?.length ??
    (wShape ? wShape.length - 2 : undefined) ??
    (xRank === undefined ? undefined : xRank - 2);
  if (spatial === undefined) return a.fail('cannot tell the number of spatial axes (give kernel_shape or strides)');
  const ones = new Array<number>(spatial).fill(1);
  return {
    spatial,
    kernel,
    strides: intsAttr(node, 'strides') ?? ones,
    dilations: intsAttr(node, 'dilations') ?? ones,
    pads: autoPad === 'VALID' ? new Array<number>(2 * spatial).fill(0) : (intsAttr(node, 'pads') ?? new Array<number>(2 * spatial).fill(0)),
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * ConvTranspose of `grad` with `weight` that yields exactly the spatial size of `like`
 * (`likeSpatial`: its static spatial dims when known).
 */
function transposeTo(
  a: VjpArgs,
  grad: Value,
  weight: Value,
  w: Window,
  group: number,
  like: Value,
  gradSpatial: (number | null)[] | undefined,
): Value {
  const { e } = a;
  const likeShape = e.staticShape(like);
  const xs = likeShape?.slice(2);
  const common = {
    strides: attr.ints(w.strides),
    dilations: attr.ints(w.dilations),
    group: group === 1 ? undefined : attr.int(group),
    kernel_shape: w.kernel ? attr.ints(w.kernel) : undefined,
  };
  if (w.strides.every((st) => st === 1)) {
    // Stride 1: the transposed convolution with the same pads gives back exactly the input size.
    return e.op('ConvTranspose', [grad, weight], { ...common, pads: attr.ints(w.pads) });
  }
  const known = xs && gradSpatial && w.kernel && xs.every((d) => typeof d === 'number') && gradSpatial.every((d) => typeof d === 'number');
  if (known) {
    const outputPadding = (xs as number[]).map((h, i) => {
      const natural =
        w.strides[i]! * ((gradSpatial![i] as number) - 1) + (w.kernel![i]! - 1) * w.dilations[i]! + 1 - w.pads[i]! - w.pads[i + w.spatial]!;
      return h - natural;
    });
    if (outputPadding.every((p, i) => p >= 0 && p < Math.max(w.strides[i]!, w.dilations[i]!))) {
      return e.op('ConvTranspose', [grad, weight], {
        ...common,
        pads: attr.ints(w.pads),
        output_padding: outputPadding.some((p) => p > 0) ? attr.ints(outputPadding) : undefined,
      });
    }
  }
  // Symbolic sizes: keep the leading pads, drop the trailing ones, pad by stride-1 (the result
  // then covers the input) and cut back to the input's size.
  const pads = [...w.pads.slice(0, w.spatial), ...new Array<number>(w.spatial).fill(0)];
  const outputPadding = w.strides.map((s) => s - 1);
  const wide = e.op('ConvTranspose', [grad, weight], {
    ...common,
    pads: attr.ints(pads),
    output_padding: outputPadding.some((p) => p > 0) ? attr.ints(outputPadding) : undefined,
  });
  const axes = range(2, 2 + w.spatial);
  return e.op('Slice', [wide, e.ints(axes.map(() => 0)), e.shapeRange(like, 2), e.ints(axes)]);
}

function conv(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const dy = dy0(a);
  const X = input(a, 0);
  const W = input(a, 1);
  const group = intAttr(a.node, 'group', 1);
  const w = windowOf(a, W);
  const spatialAxes = range(2, 2 + w.spatial);
  const ySpatial = a.yShape(0)?.slice(2);
  const gradSpatial = ySpatial?.map((d) => (typeof d === 'number' ? d : null));

  const wStatic = e.staticShape(W);
  const wShape = wStatic && wStatic.every((d) => typeof d === 'number') ? (wStatic as number[]) : undefined;
  const fast = wShape && w.kernel ? { ...w, kernel: w.kernel } : undefined;

  let dX: Value | null = null;
  if (a.needs[0]) {
    if (fast && w.strides.every((st) => st === 1)) dX = inputGradStride1(a, dy, W, fast, group, wShape!);
    dX ??= transposeTo(a, dy, W, w, group, X, gradSpatial);
  }

  let dW: Value | null = null;
  if (a.needs[1] && fast && group === 1) dW = weightGradPatches(a, dy, X, fast, wShape!);
  // One MatMul per tap pays off for small kernels; larger ones use the general form.
  if (a.needs[1] && !dW && fast && fast.kernel.reduce((p, k) => p * k, 1) <= 49) dW = weightGradByTaps(a, dy, X, fast, group, wShape!);
  if (a.needs[1] && !dW) {
    const swap = [1, 0, ...spatialAxes];
    let xt: Value;
    if (group === 1) xt = e.op('Transpose', [X], { perm: attr.ints(swap) });
    else {
      // [N, g*Cg, ...] -> [Cg, g*N, ...] so a grouped Conv pairs each group's inputs with its outputs.
      const split = e.op('Reshape', [
        X,
        e.op('Concat', [e.shapeRange(X, 0, 1), e.ints([group, -1]), e.shapeRange(X, 2)], { axis: attr.int(0) }),
      ]);
      const moved = e.op('Transpose', [split], { perm: attr.ints([2, 1, 0, ...spatialAxes.map((s) => s + 1)]) });
      xt = e.op('Reshape', [moved, e.op('Concat', [e.shapeRange(moved, 0, 1), e.ints([-1]), e.shapeRange(X, 2)], { axis: attr.int(0) })]);
    }
    const dyt = e.op('Transpose', [dy], { perm: attr.ints(swap) });
    const full = e.op('Conv', [xt, dyt], {
      strides: attr.ints(w.dilations),
      dilations: attr.ints(w.strides),
      pads: attr.ints(w.pads),
      group: group === 1 ? undefined : attr.int(group),
    });
    // With stride 1 the result has exactly the kernel's size; otherwise the trailing rows that only
    // padding produced are cut off.
    const exact = w.strides.every((st) => st === 1);
    const cut = exact
      ? full
      : e.op('Slice', [full, e.ints(spatialAxes.map(() => 0)), w.kernel ? e.ints(w.kernel) : e.shapeRange(W, 2), e.ints(spatialAxes)]);
    dW = e.op('Transpose', [cut], { perm: attr.ints(swap) });
  }
  const B = a.x[2];
  const dB = a.needs[2] && B ? e.reduceSum(dy, [0, ...spatialAxes], false) : null;
  return [dX, dW, dB];
}

function checkPool(a: VjpArgs): void {
  if (intAttr(a.node, 'ceil_mode', 0) === 1 && a.node.opType === 'AveragePool') a.fail('ceil_mode=1 is not supported for AveragePool');
  if (intAttr(a.node, 'storage_order', 0) === 1) a.fail('storage_order=1 is not supported');
}

/** MaxPool: by phases where that form applies; otherwise the forward node was given its Indices output to scatter through. */
function maxPool(a: VjpArgs): (Value | null)[] {
  checkPool(a);
  const pool = phasePool(a.node, input(a, 0).dtype);
  if (pool) return [maxPoolGradByPhases(a, pool)];
  const indices = output(a, 1);
  return [a.e.scatterAdd(dy0(a), indices, input(a, 0))];
}

/** AveragePool: spread each output gradient evenly over its window (a ConvTranspose with a box kernel per plane). */
function averagePool(a: VjpArgs): (Value | null)[] {
  checkPool(a);
  const { e } = a;
  const dy = dy0(a);
  const X = input(a, 0);
  const w = windowOf(a, null);
  if (!w.kernel) return a.fail('kernel_shape is required');
  const area = w.kernel.reduce((p, k) => p * k, 1);
  const padded = w.pads.some((p) => p !== 0);
  let scaled: Value;
  if (intAttr(a.node, 'count_include_pad', 0) === 1 || !padded) scaled = e.scale(dy, 1 / area);
  else {
    // Windows overlapping the padding divide by the number of real elements they cover.
    const ones = e.filled(e.shape(X), 1, X.dtype);
    const attrs = {
      kernel_shape: attr.ints(w.kernel),
      strides: attr.ints(w.strides),
      pads: attr.ints(w.pads),
      count_include_pad: attr.int(1),
    };
    const covered = e.scale(e.op('AveragePool', [ones], attrs), area);
    scaled = e.div(dy, covered);
  }
  const planes = e.op('Reshape', [scaled, e.op('Concat', [e.ints([-1, 1]), e.shapeRange(dy, 2)], { axis: attr.int(0) })]);
  const box = e.filled(e.ints([1, 1, ...w.kernel]), 1, dy.dtype);
  const ySpatial = a
    .yShape(0)
    ?.slice(2)
    .map((d) => (typeof d === 'number' ? d : null));
  // The per-plane view [N*C, 1, ...] shares X's spatial dims, so X serves as the size reference.
  const grad = transposeTo(a, planes, box, { ...w, dilations: w.kernel.map(() => 1) }, 1, X, ySpatial);
  return [e.reshapeLike(grad, X)];
}

function globalAveragePool(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const X = input(a, 0);
  const dy = dy0(a);
  const factor = e.div(e.cast(e.size(output(a, 0)), X.dtype), e.cast(e.size(X), X.dtype));
  return [e.mul(e.op('Expand', [dy, e.shape(X)]), factor)];
}

export const convRules: Record<string, Vjp> = {
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
