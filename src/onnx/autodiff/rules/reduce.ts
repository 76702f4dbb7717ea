/** Gradients of ReduceSum and ReduceMean (axes as attribute or as input, keepdims either way). */
import type { Value } from '../../graph-builder.js';
import { intAttr, intsAttr } from '../node-attributes.js';
import { type Vjp, type VjpArgs, dy0, input, output } from './types.js';

function spread(a: VjpArgs): Value {
  const { e } = a;
  const X = input(a, 0);
  let dy = dy0(a);
  const keep = intAttr(a.node, 'keepdims', 1) === 1;
  const axesInput = a.x[1] ?? null;
  const axesAttr = intsAttr(a.node, 'axes');
  const staticAxes = axesAttr ?? (axesInput ? e.facts.integers.get(axesInput.name) : undefined);
  const noop = intAttr(a.node, 'noop_with_empty_axes', 0) === 1;
  if (staticAxes && staticAxes.length === 0 && noop) return dy;
  const reducesAll = (!axesInput && !axesAttr) || (staticAxes !== undefined && staticAxes.length === 0);
  if (!keep && !reducesAll) {
    const axes = axesAttr ? e.ints(axesAttr) : axesInput!;
    dy = e.op('Unsqueeze', [dy, axes]);
  }
  return e.op('Expand', [dy, e.shape(X)]);
}

export const reduceRules: Record<string, Vjp> = {
  ReduceSum: (a) => [spread(a), null],
  ReduceMean: (a) => {
    const { e } = a;
    const X = input(a, 0);
    const factor = e.div(e.cast(e.size(output(a, 0)), X.dtype), e.cast(e.size(X), X.dtype));
    return [e.mul(spread(a), factor), null];
  },
};
