/**
 * Faster convolution gradients for the common cases, measured on onnxruntime's CPU kernels
 * (bench/cases/autodiff.ts): dW as one MatMul per kernel tap over strided slices of the padded
 * input in channels-last layout (close to the forward Conv's cost, where a Conv over the transposed
 * input costs 3-8x), and, for stride 1, dX as a Conv with the flipped, transposed kernel (faster than
 * ConvTranspose on large maps).
 */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import { phasesOf } from './phases.js';
import type { VjpArgs } from './types.js';

export interface ConvWindow {
  spatial: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
}

/** dX of a stride-1 convolution: Conv(dy, flip(W) with in/out channels swapped per group), or null when pads exceed the kernel span. */
export function inputGradStride1(a: VjpArgs, dy: Value, W: Value, w: ConvWindow, group: number, wShape: number[]): Value | null {
  const { e } = a;
  const pads = [...w.pads];
  for (let i = 0; i < w.spatial; i++) {
    const span = (w.kernel[i]! - 1) * w.dilations[i]!;
    pads[i] = span - w.pads[i]!;
    pads[i + w.spatial] = span - w.pads[i + w.spatial]!;
  }
  if (pads.some((p) => p < 0)) return null;
  const spatialAxes = Array.from({ length: w.spatial }, (_, i) => i + 2);
  const [m, cg] = [wShape[0]!, wShape[1]!];
  let swapped: Value;
  if (group === 1) swapped = e.op('Transpose', [W], { perm: attr.ints([1, 0, ...spatialAxes]) });
  else {
    const split = e.op('Reshape', [W, e.ints([group, m / group, cg, ...w.kernel])]);
    const moved = e.op('Transpose', [split], { perm: attr.ints([0, 2, 1, ...spatialAxes.map((s) => s + 1)]) });
    swapped = e.op('Reshape', [moved, e.ints([group * cg, m / group, ...w.kernel])]);
  }
  const big = -(2 ** 31);
  const flipped = e.op('Slice', [
    swapped,
    e.ints(spatialAxes.map(() => -1)),
    e.ints(spatialAxes.map(() => big)),
    e.ints(spatialAxes),
    e.ints(spatialAxes.map(() => -1)),
  ]);
  return e.op('Conv', [dy, flipped], {
    pads: attr.ints(pads),
    dilations: attr.ints(w.dilations),
    group: group === 1 ? undefined : attr.int(group),
    kernel_shape: attr.ints(w.kernel),
  });
}

/** dW as sum over kernel taps of dy^T @ slice(X): one (batched over groups) MatMul per tap. */
export function weightGradByTaps(a: VjpArgs, dy: Value, X: Value, w: ConvWindow, group: number, wShape: number[]): Value {
  const { e } = a;
  const n = w.spatial;
  const [m, cg] = [wShape[0]!, wShape[1]!];
  const mg = m / group;
  // dy [N, M, o...] -> [g, Mg, N*prod(o)]
  const dyGroups = e.op('Reshape', [dy, e.ints([0, group, mg, -1])]);
  const dyMat = e.op('Reshape', [e.op('Transpose', [dyGroups], { perm: attr.ints([1, 2, 0, 3]) }), e.ints([group, mg, -1])]);
  const outSizes = e.op('Shape', [dy], { start: attr.int(2) }, 'int64');
  const windowAt = (group === 1 && cg === 1 ? phaseWindows(a, X, w, outSizes) : null) ?? stridedWindows(a, X, w, outSizes);
  const taps: Value[] = [];
  const total = w.kernel.reduce((p, k) => p * k, 1);
  for (let t = 0; t < total; t++) {
    const offsets: number[] = [];
    let rest = t;
    for (let i = n - 1; i >= 0; i--) {
      offsets[i] = (rest % w.kernel[i]!) * w.dilations[i]!;
      rest = Math.floor(rest / w.kernel[i]!);
    }
    const window = windowAt(offsets);
    let rows: Value;
    if (group === 1) rows = e.op('Reshape', [window, e.ints([1, -1, cg])]);
    else rows = e.op('Transpose', [e.op('Reshape', [window, e.ints([-1, group, cg])])], { perm: attr.ints([1, 0, 2]) });
    taps.push(e.op('Unsqueeze', [e.op('MatMul', [dyMat, rows]), e.ints([-1])]));
  }
  const stacked = taps.length === 1 ? taps[0]! : e.op('Concat', taps, { axis: attr.int(-1) });
  return e.op('Reshape', [stacked, e.ints([m, cg, ...w.kernel])]);
}

/** The windows of tap `offsets` as strided slices of X padded, channels last: [N, o..., C]. */
function stridedWindows(a: VjpArgs, X: Value, w: ConvWindow, outSizes: Value): (offsets: number[]) => Value {
  const { e } = a;
  const n = w.spatial;
  const spatialAxes = Array.from({ length: n }, (_, i) => i + 2);
  const padded = w.pads.some((p) => p !== 0) ? e.op('Pad', [X, e.ints([0, 0, ...w.pads.slice(0, n), 0, 0, ...w.pads.slice(n)])]) : X;
  const nhwc = e.op('Transpose', [padded], { perm: attr.ints([0, ...spatialAxes, 1]) });
  // Slice ends: start + stride * (o - 1) + 1 along each spatial axis, o from dy's shape.
  const reach = e.op('Add', [
    e.op('Mul', [e.op('Sub', [outSizes, e.ints(new Array<number>(n).fill(1))]), e.ints(w.strides)]),
    e.ints(new Array<number>(n).fill(1)),
  ]);
  const sliceAxes = e.ints(Array.from({ length: n }, (_, i) => i + 1));
  const steps = e.ints(w.strides);
  return (offsets) => {
    const starts = e.ints(offsets);
    return e.op('Slice', [nhwc, starts, e.op('Add', [reach, starts]), sliceAxes, steps]);
  };
}

/**
 * The windows of tap `offsets` for a one-channel input (a radiograph's stem convolution) strided
 * by the same s > 1 on both axes, as contiguous slices of X's phases (phases.ts) rather than slices
 * with steps (~5x slower for 25 taps of [32, 1, 128, 128]). Same values, same MatMuls. Null when
 * not applicable.
 */
function phaseWindows(a: VjpArgs, X: Value, w: ConvWindow, outSizes: Value): ((offsets: number[]) => Value) | null {
  const s = w.strides[0]!;
  if (w.spatial !== 2 || s < 2 || w.strides[1] !== s || w.dilations.some((d) => d !== 1)) return null;
  const phases = phasesOf(a.e, X, { stride: s, kernel: [w.kernel[0]!, w.kernel[1]!], before: [w.pads[0]!, w.pads[1]!] }, outSizes);
  return ([th, tw]) => a.e.op('Reshape', [phases.tap(th!, tw!), a.e.ints([1, -1, 1])]);
}

/**
 * dW of a patch embedding (2-D, stride = kernel, no padding or dilation, one group): a single MatMul
 * of dy with the input cut into patches.
 */
export function weightGradPatches(a: VjpArgs, dy: Value, X: Value, w: ConvWindow, wShape: number[]): Value | null {
  const { e } = a;
  const [kh, kw] = w.kernel as [number, number];
  if (w.spatial !== 2 || w.strides[0] !== kh || w.strides[1] !== kw || w.pads.some((p) => p !== 0) || w.dilations.some((d) => d !== 1))
    return null;
  const [m, c] = [wShape[0]!, wShape[1]!];
  // Keep whole patches only (Conv ignores a remainder), then [N, C, oh, kh, ow, kw] -> [N*oh*ow, C*kh*kw].
  const outSizes = e.op('Shape', [dy], { start: attr.int(2) }, 'int64');
  const covered = e.op('Slice', [X, e.ints([0, 0]), e.op('Mul', [outSizes, e.ints([kh, kw])]), e.ints([2, 3])]);
  const split = e.op('Reshape', [
    covered,
    e.op(
      'Concat',
      [
        e.ints([-1, c]),
        e.op('Slice', [outSizes, e.ints([0]), e.ints([1])]),
        e.ints([kh]),
        e.op('Slice', [outSizes, e.ints([1]), e.ints([2])]),
        e.ints([kw]),
      ],
      { axis: attr.int(0) },
    ),
  ]);
  const patches = e.op('Reshape', [e.op('Transpose', [split], { perm: attr.ints([0, 2, 4, 1, 3, 5]) }), e.ints([-1, c * kh * kw])]);
  const dyMat = e.op('Reshape', [e.op('Transpose', [dy], { perm: attr.ints([1, 0, 2, 3]) }), e.ints([m, -1])]);
  return e.op('Reshape', [e.op('MatMul', [dyMat, patches]), e.ints([m, c, kh, kw])]);
}
