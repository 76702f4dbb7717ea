/**
 * MaxPool's gradient without onnxruntime's Indices output and without ScatterND, for 2-D pools whose
 * stride s is the same on both axes and no larger than the kernel (ResNet's 3x3/2 stem pool, 2x2/2).
 * On onnxruntime's CPU kernels the Indices form of MaxPool costs ~10x the plain one and the
 * scatter-add of the gradient about as much again; this form costs ~60% of the two together
 * (32 x 16 x 64 x 64 on one thread: ~12 ms against ~19).
 *
 * Selection: the forward input X is padded with NaN (never equal to anything) up to s·(O + J - 1)
 * per axis, J = ceil(k / s), and cut into its s x s phases (phases.ts). Tap (kh, kw) of every
 * window is then a plain slice of one phase; a window's gradient goes to its first tap, in raster
 * order, equal to the window's max Y: onnxruntime's own choice (a strict > scan), ties included.
 *
 * Placement: tap (kh, kw) lands in phase (kh % s, kw % s) shifted by (kh / s, kw / s) blocks. Each
 * phase sums its taps in the order the output positions come in, so every input element adds its
 * contributions in the same order as the scatter-add did, starting from +0: the same bits. The
 * phases are interleaved back (Concat on unit axes, then Reshape) and the padding cut off.
 * Shapes stay symbolic: every size is read from Shape() at run time.
 */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import type { DType, NodeProto } from '../../proto.js';
import { intAttr, intsAttr, stringAttr } from '../node-attributes.js';
import { type PhaseGeometry, phasesOf } from './phases.js';
import { type VjpArgs, dy0, input, output } from './types.js';

/**
 * The pool's geometry when its gradient can be computed by phases (`dtype`: its input's); null: use
 * the Indices output and a scatter-add (also when the model already asks for Indices).
 */
export function phasePool(node: NodeProto, dtype: DType | undefined): PhaseGeometry | null {
  const kernel = intsAttr(node, 'kernel_shape');
  if (!kernel || kernel.length !== 2 || (dtype !== 'float32' && dtype !== 'float64')) return null;
  const strides = intsAttr(node, 'strides') ?? [1, 1];
  const dilations = intsAttr(node, 'dilations') ?? [1, 1];
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (intsAttr(node, 'pads') ?? [0, 0, 0, 0]);
  const s = strides[0]!;
  const usable =
    (autoPad === 'NOTSET' || autoPad === 'VALID') &&
    strides[1] === s &&
    s <= Math.min(kernel[0]!, kernel[1]!) &&
    dilations.every((d) => d === 1) &&
    intAttr(node, 'storage_order', 0) === 0 &&
    (node.output ?? []).filter((o) => o).length === 1;
  return usable ? { kernel: [kernel[0]!, kernel[1]!], stride: s, before: [pads[0]!, pads[1]!] } : null;
}

export function maxPoolGradByPhases(a: VjpArgs, pool: PhaseGeometry): Value {
  const { e } = a;
  const X = input(a, 0);
  const Y = output(a, 0);
  const dy = dy0(a);
  const s = pool.stride;
  const [kh, kw] = pool.kernel;
  const blocks = [Math.ceil(kh / s), Math.ceil(kw / s)] as const;
  // NaN padding is never equal to a window's max, so no window picks it
  const phases = phasesOf(e, X, pool, e.shapeRange(dy, 2), NaN);

  // The first tap equal to the max takes the window's gradient.
  const zero = e.scalar(0, dy.dtype);
  const placed: Value[] = [];
  let seen: Value | undefined;
  for (let th = 0; th < kh; th++)
    for (let tw = 0; tw < kw; tw++) {
      const equal = e.op('Equal', [phases.tap(th, tw), Y], {}, 'bool');
      const last = th === kh - 1 && tw === kw - 1;
      const first = seen ? e.op('And', [equal, e.op('Not', [seen], {}, 'bool')], {}, 'bool') : equal;
      if (!last) seen = seen ? e.op('Or', [seen, equal], {}, 'bool') : equal;
      const picked = e.op('Where', [first, dy, zero], {}, dy.dtype);
      const [bh, bw] = [Math.floor(th / s), Math.floor(tw / s)];
      const shift = e.ints([0, 0, bh, bw, 0, 0, blocks[0] - 1 - bh, blocks[1] - 1 - bw]);
      placed[th * kw + tw] = e.op('Pad', [picked, shift]);
    }

  // Each phase adds its taps in output order: later block offsets first (they come from earlier windows).
  const phasePlane = (rh: number, rw: number): Value => {
    let sum: Value | undefined;
    for (let th = rh + (blocks[0] - 1) * s; th >= 0; th -= s) {
      if (th >= kh) continue;
      for (let tw = rw + (blocks[1] - 1) * s; tw >= 0; tw -= s) {
        if (tw >= kw) continue;
        const part = placed[th * kw + tw]!;
        sum = sum ? e.add(sum, part) : part;
      }
    }
    return sum!;
  };
  let grid: Value;
  if (s === 1) grid = phasePlane(0, 0);
  else {
    const rows: Value[] = [];
    for (let rh = 0; rh < s; rh++) {
      const cols: Value[] = [];
      for (let rw = 0; rw < s; rw++) cols.push(e.op('Unsqueeze', [phasePlane(rh, rw), e.ints([3, 5])]));
      rows.push(e.op('Concat', cols, { axis: attr.int(5) }));
    }
    const interleaved = e.op('Concat', rows, { axis: attr.int(3) });
    grid = e.op('Reshape', [interleaved, e.op('Concat', [e.ints([0, 0]), phases.extent], { axis: attr.int(0) })]);
  }
  // Negative pads cut the padding off again (and add zero rows an uncovered input edge had).
  return e.op('Pad', [grid, e.neg(phases.pads)]);
}
