/** Gradients of data-movement operators: reshapes, transposes, concatenation, slicing, gathering, padding. */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import { sliceWindows } from '../analysis.js';
import { intAttr, intsAttr, stringAttr } from '../node-attributes.js';
import { type Vjp, type VjpArgs, dy0, input } from './types.js';

const reshapeBack: Vjp = (a) => [a.e.reshapeLike(dy0(a), input(a, 0))];

function transpose(a: VjpArgs): (Value | null)[] {
  const perm = intsAttr(a.node, 'perm');
  if (!perm) return [a.e.op('Transpose', [dy0(a)])];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [a.e.op('Transpose', [dy0(a)], { perm: attr.ints(inverse) })];
}

function concat(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const axis = intAttr(a.node, 'axis', 0);
  const parts = a.x.map((v) => v!);
  const lengths = parts.map((p) => {
    const rank = e.rank(p);
    const d = e.staticShape(p)?.[axis < 0 && rank !== undefined ? axis + rank : axis];
    return typeof d === 'number' ? d : null;
  });
  const sizes = lengths.every((d) => d !== null)
    ? e.ints(lengths as number[])
    : e.op(
        'Concat',
        parts.map((p) => e.axisLength(p, axis)),
        { axis: attr.int(0) },
      );
  if (parts.length === 1) return [dy0(a)];
  const pieces = e.ops(
    'Split',
    [dy0(a), sizes],
    { axis: attr.int(axis) },
    parts.map(() => dy0(a).dtype),
  );
  return pieces.map((p, i) => (a.needs[i] ? p : null));
}

function split(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const axis = intAttr(a.node, 'axis', 0);
  const pieces = a.y.map((y, i) => a.dy[i] ?? e.zerosLike(y!));
  return [e.op('Concat', pieces, { axis: attr.int(axis) }), null];
}

/**
 * Slice: with known starts, ends, axes, unit steps and sliced dims of known size (q/k/v splits of
 * a packed projection) the gradient is dy padded back with zeros; otherwise slice the positions of
 * X the same way and scatter the gradient back to them.
 */
function slice(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const X = input(a, 0);
  const known = (i: number): number[] | undefined => (a.x[i] ? e.facts.integers.get(a.x[i]!.name) : undefined);
  const xs = e.staticShape(X);
  if (xs) {
    const axes = a.x[3] ? known(3) : xs.map((_, i) => i);
    const window = sliceWindows(xs, known(1), known(2), axes, a.x[4] ? known(4) : []);
    if (window && window.every((w) => w.step === 1)) {
      const pads = new Array<number>(2 * xs.length).fill(0);
      for (const w of window) {
        pads[w.axis] = w.start;
        pads[w.axis + xs.length] = (xs[w.axis] as number) - w.end;
      }
      return [pads.every((p) => p === 0) ? dy0(a) : e.op('Pad', [dy0(a), e.ints(pads)])];
    }
  }
  const picked = e.op('Slice', [e.positions(X), ...a.x.slice(1)]);
  return [e.scatterAdd(dy0(a), picked, X)];
}

/**
 * Gather: a constant scalar index on a statically known axis (attention's q/k/v split, a CLS token)
 * becomes a Pad; anything else gathers X's positions and scatter-adds (repeated ids accumulate).
 */
function gather(a: VjpArgs): (Value | null)[] {
  const { e } = a;
  const X = input(a, 0);
  const indices = input(a, 1);
  const axis = intAttr(a.node, 'axis', 0);
  const known = e.facts.integers.get(indices.name);
  const rank = e.rank(X);
  const idxShape = e.staticShape(indices);
  if (known && known.length === 1 && idxShape?.length === 0 && rank !== undefined) {
    const ax = axis < 0 ? axis + rank : axis;
    const length = e.staticShape(X)![ax];
    if (typeof length === 'number') {
      const k = known[0]! < 0 ? known[0]! + length : known[0]!;
      const pads = new Array<number>(2 * rank).fill(0);
      pads[ax] = k;
      pads[ax + rank] = length - k - 1;
      const lifted = e.op('Unsqueeze', [dy0(a), e.ints([ax])]);
      return [e.op('Pad', [lifted, e.ints(pads)]), null];
    }
  }
  if (axis === 0 || (rank !== undefined && axis === -rank)) {
    // Rows of a table (embeddings): ScatterND adds each gradient row at its id; repeated ids accumulate.
    let ids = e.cast(indices, 'int64');
    if (!(known && known.every((k) => k >= 0))) {
      const rows = e.op('Gather', [e.shape(X), e.int(0)], { axis: attr.int(0) });
      ids = e.op('Where', [e.op('Less', [ids, e.int(0)], {}, 'bool'), e.add(ids, rows), ids], {}, 'int64');
    }
    const zeros = e.zerosLike(X);
    return [e.op('ScatterND', [zeros, e.op('Unsqueeze', [ids, e.ints([-1])]), dy0(a)], { reduction: attr.string('add') }), null];
  }
  const picked = e.op('Gather', [e.positions(X), indices], { axis: attr.int(axis) });
  return [e.scatterAdd(dy0(a), picked, X), null];
}

/** Constant-mode Pad: the gradient is the dy cropped back, i.e. Pad with negated pads. */
function pad(a: VjpArgs): (Value | null)[] {
  const mode = stringAttr(a.node, 'mode', 'constant');
  if (mode !== 'constant') a.fail(`mode=${mode} is not supported (constant padding only)`);
  if (a.x[3]) a.fail('the axes input (opset 18) is not supported');
  const { e } = a;
  const pads = input(a, 1);
  return [e.op('Pad', [dy0(a), e.op('Neg', [pads])]), null, null];
}

export const shapeRules: Record<string, Vjp> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Pad: pad,
};
