/**
 * Node-emitting helpers shared by the gradient rules: typed constants, cached Shape/Size of forward
 * values, and the shape-generic building blocks of reverse mode (undo broadcasting, reshape like,
 * scatter-add into a zero tensor). Each helper emits a static form when the analysis knows enough
 * and a Shape-driven run-time subgraph otherwise, so symbolic batch and image sizes stay symbolic.
 */
import { type Attr, attr } from '../attributes.js';
import type { GraphBuilder, Value } from '../graph-builder.js';
import { type DType, dtypeToOnnx } from '../proto.js';
import { makeTensorProto } from '../tensor.js';
import type { GraphFacts, StaticDim, ValueFacts } from './analysis.js';

export type Attrs = Record<string, Attr | undefined>;

export class GradEmitter {
  private readonly shapes = new Map<string, Value>();
  private readonly sizes = new Map<string, Value>();
  private readonly positionTensors = new Map<string, Value>();

  constructor(
    readonly g: GraphBuilder,
    readonly facts: GraphFacts,
  ) {}

  /** A value of the forward graph, typed from the analysis. */
  value(name: string): Value {
    return this.g.value(name, this.facts.values.get(name)?.dtype);
  }

  factsOf(v: Value): ValueFacts {
    return this.facts.values.get(v.name) ?? {};
  }

  staticShape(v: Value): StaticDim[] | undefined {
    return this.factsOf(v).shape;
  }

  rank(v: Value): number | undefined {
    return this.staticShape(v)?.length;
  }

  op(opType: string, inputs: readonly (Value | null)[], attributes: Attrs = {}, dtype?: DType): Value {
    return this.g.node(opType, inputs, attributes, dtype ? [dtype] : undefined)[0]!;
  }

  ops(opType: string, inputs: readonly (Value | null)[], attributes: Attrs, dtypes: readonly DType[]): Value[] {
    return this.g.node(opType, inputs, attributes, dtypes);
  }

  scalar(v: number, dtype: DType): Value {
    const data = dtype === 'float64' ? new Float64Array([v]) : new Float32Array([v]);
    return this.g.constant(data, [], 'scalar');
  }

  ints(values: readonly number[]): Value {
    return this.g.ints(values);
  }

  int(value: number): Value {
    return this.g.constant(new BigInt64Array([BigInt(value)]), [], 'int');
  }

  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b]);
  }
  neg(a: Value): Value {
    return this.op('Neg', [a]);
  }

  scale(a: Value, factor: number): Value {
    return factor === 1 ? a : this.mul(a, this.scalar(factor, a.dtype));
  }

  /** Shape(x), emitted once per forward value. */
  shape(x: Value): Value {
    let s = this.shapes.get(x.name);
    if (!s) {
      s = this.op('Shape', [x], {}, 'int64');
      this.shapes.set(x.name, s);
    }
    return s;
  }

  /** Shape(x)[start:end] (negative positions count from the end). */
  shapeRange(x: Value, start: number, end?: number): Value {
    return this.op('Shape', [x], { start: attr.int(start), end: end === undefined ? undefined : attr.int(end) }, 'int64');
  }

  /** Size(x) as an int64 scalar, emitted once per forward value. */
  size(x: Value): Value {
    let s = this.sizes.get(x.name);
    if (!s) {
      s = this.op('Size', [x], {}, 'int64');
      this.sizes.set(x.name, s);
    }
    return s;
  }

  /** The length of one axis of x as a 1-element int64 vector. */
  axisLength(x: Value, axis: number): Value {
    const dim = this.staticShape(x)?.[axis < 0 ? axis + (this.rank(x) ?? 0) : axis];
    if (typeof dim === 'number' && (axis >= 0 || this.rank(x) !== undefined)) return this.ints([dim]);
    return axis === -1 ? this.shapeRange(x, -1) : this.shapeRange(x, axis, axis + 1);
  }

  /** A float constant of x's dtype filled with `fill`, shaped like x (or like the int64 shape vector given). */
  filled(shape: Value, fill: number, dtype: DType): Value {
    const data = dtype === 'float64' ? new Float64Array([fill]) : new Float32Array([fill]);
    return this.op('ConstantOfShape', [shape], { value: attr.tensor(makeTensorProto('value', data, [1])) }, dtype);
  }

  zerosLike(x: Value): Value {
    return this.filled(this.shape(x), 0, x.dtype);
  }

  /** Reshape(t, Shape(x)): gradients of shape-only ops. */
  reshapeLike(t: Value, x: Value): Value {
    return this.op('Reshape', [t, this.shape(x)]);
  }

  cast(t: Value, to: DType): Value {
    return t.dtype === to ? t : this.op('Cast', [t], { to: attr.int(dtypeToOnnx(to)) }, to);
  }

  reduceSum(t: Value, axes: readonly number[] | Value, keepdims: boolean): Value {
    const axesValue = Array.isArray(axes) ? this.ints(axes as number[]) : (axes as Value);
    return this.op('ReduceSum', [t, axesValue], { keepdims: attr.int(keepdims ? 1 : 0) });
  }

  /** Swaps the last two axes (a Transpose when the rank is known, an Einsum otherwise). */
  swapLast2(t: Value, rank: number | undefined): Value {
    if (rank === undefined) return this.op('Einsum', [t], { equation: attr.string('...ij->...ji') });
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    return this.op('Transpose', [t], { perm: attr.ints(perm) });
  }

  /**
   * Sums `grad` (shaped like the broadcast result, whose static shape is `gradShape` when known)
   * down to the shape of `x`, undoing NumPy broadcasting.
   */
  unbroadcast(grad: Value, gradShape: StaticDim[] | undefined, x: Value): Value {
    const xs = this.staticShape(x);
    if (xs && gradShape && gradShape.length >= xs.length) {
      const lead = gradShape.length - xs.length;
      const axes = Array.from({ length: lead }, (_, i) => i);
      let ok = true;
      xs.forEach((xd, k) => {
        const yd = gradShape[lead + k];
        if (xd === 1) {
          if (yd !== 1) axes.push(lead + k);
        } else if (typeof xd === 'number') {
          // a fixed size other than 1 is never broadcast
        } else if (xd === null || xd !== yd) ok = false;
      });
      if (ok) {
        if (axes.length === 0) return grad;
        if (axes.length === lead) return this.reduceSum(grad, axes, false);
        let r = this.reduceSum(grad, axes, true);
        if (lead > 0) r = this.op('Squeeze', [r, this.ints(axes.slice(0, lead))]);
        return r;
      }
    }
    return this.dynamicUnbroadcast(grad, x);
  }

  private dynamicUnbroadcast(grad: Value, x: Value): Value {
    const gradShape = this.op('Shape', [grad], {}, 'int64');
    const xShape = this.shape(x);
    const extra = this.op('Sub', [this.op('Size', [gradShape], {}, 'int64'), this.op('Size', [xShape], {}, 'int64')]);
    const ones = this.op(
      'ConstantOfShape',
      [this.op('Reshape', [extra, this.ints([1])])],
      { value: attr.tensor(makeTensorProto('value', new BigInt64Array([1n]), [1])) },
      'int64',
    );
    const padded = this.op('Concat', [ones, xShape], { axis: attr.int(0) });
    const differs = this.op('Not', [this.op('Equal', [padded, gradShape], {}, 'bool')], {}, 'bool');
    const axes = this.op('Reshape', [this.op('NonZero', [differs], {}, 'int64'), this.ints([-1])]);
    const summed = this.op('ReduceSum', [grad, axes], { keepdims: attr.int(1), noop_with_empty_axes: attr.int(1) });
    return this.op('Reshape', [summed, xShape]);
  }

  /** int64 tensor shaped like x holding each element's flat (row-major) position. */
  positions(x: Value): Value {
    let p = this.positionTensors.get(x.name);
    if (!p) {
      const flat = this.op('Range', [this.int(0), this.size(x), this.int(1)], {}, 'int64');
      p = this.op('Reshape', [flat, this.shape(x)]);
      this.positionTensors.set(x.name, p);
    }
    return p;
  }

  /**
   * Gradient of an op that picks elements of x: `picked` holds, for each element of `grad`, the
   * flat position in x it came from. Scatter-adds grad into zeros shaped like x (repeats add up).
   */
  scatterAdd(grad: Value, picked: Value, x: Value): Value {
    const zeros = this.filled(this.op('Reshape', [this.size(x), this.ints([1])]), 0, grad.dtype);
    const indices = this.op('Unsqueeze', [this.op('Reshape', [picked, this.ints([-1])]), this.ints([1])]);
    const updates = this.op('Reshape', [grad, this.ints([-1])]);
    const flat = this.op('ScatterND', [zeros, indices, updates], { reduction: attr.string('add') });
    return this.reshapeLike(flat, x);
  }

  /** Sum of gradient contributions of one value (already shaped like it). */
  sum(parts: readonly Value[]): Value {
    if (parts.length === 1) return parts[0]!;
    if (parts.length === 2) return this.add(parts[0]!, parts[1]!);
    return this.op('Sum', parts);
  }
}
