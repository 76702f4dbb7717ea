/**
 * Static facts about every value of a graph: element type and, where it can be derived without
 * running the model, the shape (dims are numbers, symbolic names, or null when unknown). The
 * gradient rules use them to pick static forms (Transpose with a known rank, ReduceSum over known
 * broadcast axes) and fall back to Shape-based run-time subgraphs when a fact is missing.
 */
import { type DType, type GraphProto, type NodeProto, type TensorProto, onnxToDtype } from '../proto.js';
import { readFloat32, readIntegers, tensorDims } from '../tensor.js';
import { hasAttr, intAttr, intsAttr, tensorAttr } from './node-attributes.js';

export type StaticDim = number | string | null;

export interface ValueFacts {
  dtype?: DType;
  /** undefined: rank unknown. */
  shape?: StaticDim[];
}

export interface GraphFacts {
  values: Map<string, ValueFacts>;
  /** Integer tensors whose values are known statically (int initializers, Constant nodes, Shape of static shapes). */
  integers: Map<string, number[]>;
  /** 1-D shape vectors known symbolically (Shape of a symbolic value, concatenations of such). */
  shapeValues: Map<string, StaticDim[]>;
  /** Values of small float and bool constants (initializers and Constant nodes, up to 16 elements). */
  smallConstants: Map<string, number[]>;
}

const BOOL_OPS = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const SAME_SHAPE = new Set([
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Erf',
  'Exp',
  'Log',
  'Sqrt',
  'Neg',
  'Abs',
  'Identity',
  'Dropout',
  'Cast',
  'Softmax',
  'LogSoftmax',
  'BatchNormalization',
  'Not',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Reciprocal',
  'Clip',
  'Gelu',
  'HardSigmoid',
  'Softplus',
  'Elu',
  'Selu',
  'IsNaN',
  'IsInf',
  'CumSum',
]);
const BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Max',
  'Min',
  'Sum',
  'Mod',
  'Where',
  'PRelu',
  'Mean',
]);

export function isFloat(dtype: DType | undefined): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

function dimsOf(t: { dims?: unknown[] | null }): number[] {
  return tensorDims(t as TensorProto);
}

export function analyzeGraph(graph: GraphProto): GraphFacts {
  const values = new Map<string, ValueFacts>();
  const integers = new Map<string, number[]>();
  const declared = (v: {
    name?: string | null;
    type?: {
      tensorType?: { elemType?: number | null; shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null;
    } | null;
  }): void => {
    const tt = v.type?.tensorType;
    const shape = tt?.shape
      ? (tt.shape.dim ?? []).map((d): StaticDim =>
          d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : null,
        )
      : undefined;
    values.set(v.name ?? '', { dtype: tt?.elemType ? onnxToDtype(tt.elemType) : undefined, shape });
  };
  for (const i of graph.input ?? []) declared(i);
  for (const t of graph.initializer ?? []) {
    const dtype = onnxToDtype(t.dataType ?? 0);
    values.set(t.name ?? '', { dtype, shape: dimsOf(t) });
    if (dtype === 'int64' || dtype === 'int32') integers.set(t.name ?? '', readIntegers(t));
  }
  const shapeValues = new Map<string, StaticDim[]>();
  const smallConstants = new Map<string, number[]>();
  const remember = (name: string, t: TensorProto): void => {
    const small = readSmall(t);
    if (small) smallConstants.set(name, small);
  };
  for (const t of graph.initializer ?? []) remember(t.name ?? '', t);
  for (const node of graph.node ?? []) {
    inferNode(node, values, integers, shapeValues);
    const t = node.opType === 'Constant' ? tensorAttr(node, 'value') : undefined;
    if (t && node.output?.[0]) remember(node.output[0], t);
  }
  return { values, integers, shapeValues, smallConstants };
}

function floatsLength(node: NodeProto): number {
  return (node.attribute ?? []).find((a) => a.name === 'value_floats')?.floats?.length ?? 0;
}

function readSmall(t: TensorProto): number[] | undefined {
  const dtype = onnxToDtype(t.dataType ?? 0);
  const n = dimsOf(t).reduce((a, b) => a * b, 1);
  if (n > 16) return undefined;
  if (dtype === 'float32' || dtype === 'float64') return Array.from(readFloat32(t));
  if (dtype === 'bool') return t.rawData && t.rawData.length === n ? Array.from(t.rawData) : (t.int32Data ?? []).map(Number);
  return undefined;
}

function broadcastShapes(shapes: (StaticDim[] | undefined)[]): StaticDim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: StaticDim[] = [];
  for (let k = 0; k < rank; k++) {
    const dims = shapes
      .map((s) => {
        const i = s!.length - rank + k;
        return i < 0 ? 1 : s![i]!;
      })
      .filter((d) => d !== 1);
    // Valid broadcasting makes every non-1 dim equal, so any known one names them all.
    if (dims.length === 0) out.push(1);
    else if (dims.some((d) => typeof d === 'number')) out.push(dims.find((d) => typeof d === 'number')!);
    else if (dims.some((d) => typeof d === 'string')) out.push(dims.find((d) => typeof d === 'string')!);
    else out.push(null);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A symbolic dim as a product: named factors and a number ('batch*6' -> { k: 6, names: ['batch'] }). */
function factors(d: string): { k: number; names: string[] } {
  let k = 1;
  const names: string[] = [];
  for (const part of d.split('*')) {
    if (/^\d+$/.test(part)) k *= Number(part);
    else names.push(part);
  }
  return { k, names: names.sort() };
}

/** The canonical dim for k * names (a number when there are no names). */
function fromFactors(k: number, names: string[]): StaticDim {
  if (names.length === 0) return k;
  if (k === 0) return 0;
  return k === 1 ? names.join('*') : `${names.join('*')}*${k}`;
}

/** Products and quotients of known or symbolic sizes (shape arithmetic of exported graphs). */
function dimArithmetic(op: string, a: StaticDim, b: StaticDim): StaticDim {
  if (a === null || b === null) return null;
  if (typeof a === 'number' && typeof b === 'number') {
    if (op === 'Add') return a + b;
    if (op === 'Sub') return a - b;
    if (op === 'Mul') return a * b;
    return b === 0 ? null : Math.trunc(a / b);
  }
  const fa = typeof a === 'number' ? { k: a, names: [] } : factors(a);
  const fb = typeof b === 'number' ? { k: b, names: [] } : factors(b);
  if (op === 'Mul') return fromFactors(fa.k * fb.k, [...fa.names, ...fb.names].sort());
  if (op === 'Div' && fb.names.length === 0 && fb.k !== 0 && fa.k % fb.k === 0) return fromFactors(fa.k / fb.k, fa.names);
  if ((op === 'Add' || op === 'Sub') && b === 0) return a;
  if (op === 'Add' && a === 0) return b;
  return null;
}

/**
 * The windows of a Slice whose starts, ends, axes and steps are known and whose sliced dims are
 * numbers: per axis the clamped start and end (ONNX semantics; positive steps only), else null.
 */
export function sliceWindows(
  x: StaticDim[],
  starts: number[] | undefined,
  ends: number[] | undefined,
  axes: number[] | undefined,
  steps: number[] | undefined,
): { axis: number; start: number; end: number; step: number }[] | null {
  if (!starts || !ends || !axes || !steps || starts.length !== ends.length || axes.length < starts.length) return null;
  const out: { axis: number; start: number; end: number; step: number }[] = [];
  for (let k = 0; k < starts.length; k++) {
    const axis = normAxis(axes[k]!, x.length);
    const dim = x[axis];
    const step = steps[k] ?? 1;
    if (typeof dim !== 'number' || step < 1) return null;
    const clamp = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    out.push({ axis, start: clamp(starts[k]!), end: Math.max(clamp(starts[k]!), clamp(ends[k]!)), step });
  }
  return out;
}

function product(dims: StaticDim[]): StaticDim {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

/** The size a Reshape's -1 stands for, when the symbolic dims on both sides cancel out. */
function inferMinusOne(from: StaticDim[], kept: StaticDim[]): number | null {
  const split = (dims: StaticDim[]): { n: number; symbols: string[] } | null => {
    let n = 1;
    const symbols: string[] = [];
    for (const d of dims) {
      if (d === null) return null;
      const f = typeof d === 'number' ? { k: d, names: [] } : factors(d);
      n *= f.k;
      symbols.push(...f.names);
    }
    return { n, symbols: symbols.sort() };
  };
  const a = split(from);
  const b = split(kept);
  if (!a || !b || b.n === 0 || a.symbols.join('\u0000') !== b.symbols.join('\u0000') || a.n % b.n !== 0) return null;
  return a.n / b.n;
}

function total(dims: StaticDim[]): StaticDim {
  let t = 0;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    t += d;
  }
  return t;
}

function windowed(node: NodeProto, x: StaticDim[] | undefined, channels: StaticDim, kernel: number[] | undefined): StaticDim[] | undefined {
  if (!x) return undefined;
  const spatial = x.length - 2;
  const strides = intsAttr(node, 'strides') ?? new Array<number>(spatial).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array<number>(spatial).fill(1);
  const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const ceil = intAttr(node, 'ceil_mode', 0) === 1;
  const autoPad = intsAttr(node, 'auto_pad');
  const out: StaticDim[] = [x[0] ?? null, channels];
  for (let i = 0; i < spatial; i++) {
    const d = x[2 + i];
    const k = kernel?.[i];
    if (typeof d !== 'number' || k === undefined || autoPad) {
      if (typeof d === 'string' && k !== undefined && !autoPad) {
        // A symbolic size maps to a symbolic size: equal windows over equal inputs give equal names.
        const offset = pads[i]! + pads[i + spatial]! - ((k - 1) * dilations[i]! + 1);
        out.push(
          strides[i] === 1 && offset === -1 ? d : `floor((${d}${offset >= 0 ? '+' : ''}${offset})/${strides[i]}${ceil ? ',ceil' : ''})+1`,
        );
      } else out.push(null);
    } else {
      const span = (k - 1) * dilations[i]! + 1;
      const v = (d + pads[i]! + pads[i + spatial]! - span) / strides[i]!;
      out.push((ceil ? Math.ceil(v) : Math.floor(v)) + 1);
    }
  }
  return out;
}

function inferNode(
  node: NodeProto,
  values: Map<string, ValueFacts>,
  integers: Map<string, number[]>,
  shapeValues: Map<string, StaticDim[]>,
): void {
  const op = node.opType ?? '';
  const ins = (node.input ?? []).map((n) => (n ? values.get(n) : undefined));
  const shapeIn = (i: number): StaticDim[] | undefined => ins[i]?.shape;
  const intsIn = (i: number): number[] | undefined => (node.input?.[i] ? integers.get(node.input[i]!) : undefined);
  const shapeValueIn = (i: number): StaticDim[] | undefined =>
    node.input?.[i] ? (shapeValues.get(node.input[i]!) ?? integers.get(node.input[i]!)) : undefined;
  const firstDtype = ins.find((v) => v?.dtype)?.dtype;
  const outs = node.output ?? [];
  const set = (i: number, facts: ValueFacts): void => {
    if (outs[i]) values.set(outs[i]!, facts);
  };

  let dtype: DType | undefined = firstDtype;
  if (BOOL_OPS.has(op)) dtype = 'bool';
  else if (INT_OPS.has(op)) dtype = 'int64';
  else if (op === 'Cast') dtype = onnxToDtype(intAttr(node, 'to', 0));
  else if (op === 'Where') dtype = ins[1]?.dtype;
  else if (op === 'ConstantOfShape') {
    const t = tensorAttr(node, 'value');
    dtype = t ? onnxToDtype(t.dataType ?? 1) : 'float32';
  } else if (op === 'Constant') {
    const t = tensorAttr(node, 'value');
    dtype = t ? onnxToDtype(t.dataType ?? 1) : undefined;
    if (t) {
      set(0, { dtype, shape: dimsOf(t) });
      if (dtype === 'int64' || dtype === 'int32') integers.set(outs[0]!, readIntegers(t));
      return;
    }
    // The scalar/list forms of Constant (opset 12+).
    const ints = intsAttr(node, 'value_ints');
    if (ints) {
      set(0, { dtype: 'int64', shape: [ints.length] });
      integers.set(outs[0]!, ints);
    } else if (hasAttr(node, 'value_int')) {
      set(0, { dtype: 'int64', shape: [] });
      integers.set(outs[0]!, [intAttr(node, 'value_int', 0)]);
    } else if (hasAttr(node, 'value_floats')) set(0, { dtype: 'float32', shape: [floatsLength(node)] });
    else if (hasAttr(node, 'value_float')) set(0, { dtype: 'float32', shape: [] });
    return;
  }

  let shape: StaticDim[] | undefined;
  const x = shapeIn(0);
  const rank = x?.length;
  switch (op) {
    case 'MatMul': {
      const a = shapeIn(0);
      const b = shapeIn(1);
      if (a && b && a.length >= 2 && b.length >= 2)
        shape = [...(broadcastShapes([a.slice(0, -2), b.slice(0, -2)]) ?? []), a[a.length - 2]!, b[b.length - 1]!];
      else if (a && b && a.length >= 2 && b.length === 1) shape = a.slice(0, -1);
      else if (a && b && a.length === 1 && b.length >= 2) shape = [...b.slice(0, -2), b[b.length - 1]!];
      break;
    }
    case 'Gemm': {
      const a = shapeIn(0);
      const b = shapeIn(1);
      shape = [a ? a[intAttr(node, 'transA', 0) ? 1 : 0]! : null, b ? b[intAttr(node, 'transB', 0) ? 0 : 1]! : null];
      break;
    }
    case 'Conv': {
      const w = shapeIn(1);
      shape = windowed(
        node,
        x,
        w?.[0] ?? null,
        intsAttr(node, 'kernel_shape') ?? (w?.slice(2).every((d) => typeof d === 'number') ? (w.slice(2) as number[]) : undefined),
      );
      break;
    }
    case 'ConvTranspose':
      shape = x ? x.map(() => null) : undefined;
      break;
    case 'MaxPool':
    case 'AveragePool':
      shape = windowed(node, x, x?.[1] ?? null, intsAttr(node, 'kernel_shape'));
      if (op === 'MaxPool') set(1, { dtype: 'int64', shape });
      break;
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      shape = x ? [x[0]!, x[1]!, ...x.slice(2).map(() => 1)] : undefined;
      break;
    case 'Flatten': {
      if (x) {
        const axis = normAxis(intAttr(node, 'axis', 1), x.length);
        shape = [product(x.slice(0, axis)), product(x.slice(axis))];
      }
      break;
    }
    case 'Reshape': {
      const target = shapeValueIn(1);
      if (target) {
        shape = target.map((d, i) => (d === 0 ? (x?.[i] ?? null) : d === -1 ? null : d));
        const inferred =
          x && target.filter((d) => d === -1).length === 1
            ? inferMinusOne(
                x,
                shape.filter((_, i) => target[i] !== -1),
              )
            : null;
        if (inferred !== null) shape = shape.map((d, i) => (target[i] === -1 ? inferred : d));
      } else {
        const len = shapeIn(1)?.[0];
        if (typeof len === 'number') shape = new Array<StaticDim>(len).fill(null);
      }
      break;
    }
    case 'Transpose':
      if (x) {
        const perm = intsAttr(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
        shape = perm.map((p) => x[p]!);
      }
      break;
    case 'Squeeze': {
      const axes = intsIn(1) ?? intsAttr(node, 'axes');
      if (x && axes) {
        const drop = new Set(axes.map((a) => normAxis(a, x.length)));
        shape = x.filter((_, i) => !drop.has(i));
      } else if (x && !node.input?.[1]) shape = x.filter((d) => d !== 1);
      break;
    }
    case 'Unsqueeze': {
      const axes = intsIn(1) ?? intsAttr(node, 'axes');
      if (x && axes) {
        const r = x.length + axes.length;
        const add = new Set(axes.map((a) => normAxis(a, r)));
        const out: StaticDim[] = [];
        let j = 0;
        for (let i = 0; i < r; i++) out.push(add.has(i) ? 1 : x[j++]!);
        shape = out;
      }
      break;
    }
    case 'Concat': {
      const all = ins.map((v) => v?.shape);
      if (all.every((s) => s !== undefined) && all.length > 0) {
        const r = all[0]!.length;
        const axis = normAxis(intAttr(node, 'axis', 0), r);
        shape = all[0]!.map((_, i) =>
          i === axis ? total(all.map((s) => s![axis]!)) : (all.map((s) => s![i]!).find((d) => d !== null) ?? null),
        );
      } else if (all.some((s) => s)) shape = all.find((s) => s)!.map(() => null);
      // Concatenated shape vectors (Shape -> Concat -> Reshape) keep their values when all parts are known.
      const parts = (node.input ?? []).map((n) => integers.get(n));
      if (parts.every((p) => p !== undefined) && parts.length > 0) integers.set(outs[0]!, parts.flat() as number[]);
      const symbolic = (node.input ?? []).map((n) => shapeValues.get(n) ?? integers.get(n));
      if (symbolic.every((p) => p !== undefined) && symbolic.length > 0) shapeValues.set(outs[0]!, symbolic.flat() as StaticDim[]);
      break;
    }
    case 'Split': {
      if (x) {
        const axis = normAxis(intAttr(node, 'axis', 0), x.length);
        const split = intsIn(1) ?? intsAttr(node, 'split');
        outs.forEach((_, i) => set(i, { dtype, shape: x.map((d, k) => (k === axis ? (split?.[i] ?? null) : d)) }));
      }
      return;
    }
    case 'Slice': {
      const axes = intsIn(3);
      if (x) shape = x.map((d, i) => (!axes || axes.some((a) => normAxis(a, x.length) === i) ? null : d));
      const window = x
        ? sliceWindows(x, intsIn(1), intsIn(2), node.input?.[3] ? axes : x.map((_, i) => i), node.input?.[4] ? intsIn(4) : [])
        : null;
      if (shape && window) for (const w of window) shape[w.axis] = Math.max(0, Math.ceil((w.end - w.start) / w.step));
      break;
    }
    case 'Gather': {
      const idx = shapeIn(1);
      if (x && idx) {
        const axis = normAxis(intAttr(node, 'axis', 0), x.length);
        shape = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
      }
      break;
    }
    case 'Expand': {
      const target = shapeValueIn(1);
      if (target) shape = broadcastShapes([x, target]);
      else {
        const len = shapeIn(1)?.[0];
        if (x && typeof len === 'number') {
          const r = Math.max(len, x.length);
          shape = Array.from({ length: r }, (_, k) => {
            const d = x[x.length - r + k];
            return typeof d === 'number' && d > 1 ? d : null;
          });
        }
      }
      break;
    }
    case 'Shape':
      if (rank !== undefined) {
        const start = normAxis(Math.max(-rank, intAttr(node, 'start', 0)), rank);
        const end = Math.min(rank, normAxis(intAttr(node, 'end', rank), rank));
        shape = [Math.max(0, end - start)];
        const dims = x!.slice(start, end);
        if (dims.every((d) => typeof d === 'number')) integers.set(outs[0]!, dims as number[]);
        shapeValues.set(outs[0]!, dims);
      }
      break;
    case 'Size':
      shape = [];
      break;
    case 'ConstantOfShape': {
      const target = shapeValueIn(0);
      if (target) shape = target;
      else {
        const len = shapeIn(0)?.[0];
        if (typeof len === 'number') shape = new Array<StaticDim>(len).fill(null);
      }
      break;
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2': {
      const axes = intsAttr(node, 'axes') ?? intsIn(1) ?? (node.input?.[1] ? undefined : null);
      const keep = intAttr(node, 'keepdims', 1) === 1;
      if (x && axes !== undefined) {
        const all = axes === null || axes.length === 0;
        const noop = all && intAttr(node, 'noop_with_empty_axes', 0) === 1 && axes !== null;
        const red = new Set(all ? x.map((_, i) => i) : axes!.map((a) => normAxis(a, x.length)));
        if (noop) shape = x;
        else shape = keep ? x.map((d, i) => (red.has(i) ? 1 : d)) : x.filter((_, i) => !red.has(i));
      }
      break;
    }
    case 'LayerNormalization': {
      shape = x;
      if (x) {
        const axis = normAxis(intAttr(node, 'axis', -1), x.length);
        const reduced = x.map((d, i) => (i >= axis ? 1 : d));
        // Mean and InvStdDev use the stash type (float32 by default), whatever the input type.
        const stash = intAttr(node, 'stash_type', 1) === 1 ? 'float32' : dtype;
        set(1, { dtype: stash, shape: reduced });
        set(2, { dtype: stash, shape: reduced });
      }
      break;
    }
    case 'Pad':
      shape = x?.map(() => null);
      break;
    case 'Range':
      shape = [null];
      break;
    case 'NonZero':
      shape = [rank ?? null, null];
      break;
    default:
      if (SAME_SHAPE.has(op)) shape = x;
      else if (BROADCAST.has(op)) shape = broadcastShapes(ins.map((v) => v?.shape));
  }
  set(0, { dtype, shape });
  if (op === 'Dropout') set(1, { dtype: 'bool', shape });
  propagateShapeValues(node, values, integers, shapeValues);
}

/**
 * Small integer tensors built from shapes, followed through the ops exporters compute them with
 * (PyTorch: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, `x.size(0) * heads`, `expand(n, -1, -1)`
 * as Where(Equal(shape, -1), 1, shape)), so the tensors they shape keep static (or symbolic) shapes.
 * Entries are numbers, symbolic sizes (dims are never negative, so a symbol never equals -1) or null.
 * Boolean results are kept as 0 / 1 entries.
 */
function propagateShapeValues(
  node: NodeProto,
  values: Map<string, ValueFacts>,
  integers: Map<string, number[]>,
  shapeValues: Map<string, StaticDim[]>,
): void {
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  const out = node.output?.[0];
  if (!out || shapeValues.has(out)) return;
  const sym = (i: number): StaticDim[] | undefined => (inputs[i] ? (shapeValues.get(inputs[i]!) ?? integers.get(inputs[i]!)) : undefined);
  const rankOf = (i: number): number | undefined => (inputs[i] ? values.get(inputs[i]!)?.shape?.length : undefined);
  const MAX = 8;
  let result: StaticDim[] | undefined;
  const a = sym(0);
  switch (op) {
    case 'Gather': {
      const idx = inputs[1] ? integers.get(inputs[1]) : undefined;
      if (a && idx && rankOf(0) === 1 && intAttr(node, 'axis', 0) === 0 && (rankOf(1) ?? 2) <= 1)
        result = idx.map((k) => a[k < 0 ? k + a.length : k] ?? null);
      break;
    }
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Identity':
      if (a && (rankOf(0) ?? 2) <= 1) result = a;
      break;
    case 'Reshape':
      if (a && (rankOf(0) ?? 2) <= 1 && (values.get(out)?.shape?.length ?? 2) <= 1) result = a;
      break;
    case 'Cast': {
      const to = onnxToDtype(intAttr(node, 'to', 0));
      const from = inputs[0] ? values.get(inputs[0])?.dtype : undefined;
      if (a && (to === 'int64' || to === 'int32') && (from === 'int64' || from === 'int32')) result = a;
      break;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Equal': {
      const b = sym(1);
      if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) break;
      const n = Math.max(a.length, b.length);
      result = Array.from({ length: n }, (_, i) => {
        const x = a[a.length === 1 ? 0 : i]!;
        const y = b[b.length === 1 ? 0 : i]!;
        if (op !== 'Equal') return dimArithmetic(op, x, y);
        if (typeof x === 'number' && typeof y === 'number') return x === y ? 1 : 0;
        if (typeof x === 'string' && typeof y === 'string') return x === y ? 1 : null;
        // a symbolic size is never negative
        const known = typeof x === 'number' ? x : (y as number | null);
        return known !== null && known < 0 ? 0 : null;
      });
      break;
    }
    case 'Where': {
      const cond = a;
      const x = sym(1);
      const y = sym(2);
      if (!cond || !x || !y) break;
      const n = Math.max(cond.length, x.length, y.length);
      if ([cond, x, y].some((t) => t.length !== n && t.length !== 1)) break;
      result = Array.from({ length: n }, (_, i) => {
        const c = cond[cond.length === 1 ? 0 : i];
        return c === 1 ? x[x.length === 1 ? 0 : i]! : c === 0 ? y[y.length === 1 ? 0 : i]! : null;
      });
      break;
    }
    case 'ConstantOfShape': {
      const len = a?.length === 1 ? a[0] : undefined;
      const t = tensorAttr(node, 'value');
      const dtype = t ? onnxToDtype(t.dataType ?? 1) : 'float32';
      if (typeof len === 'number' && len <= MAX && (dtype === 'int64' || dtype === 'int32'))
        result = new Array<StaticDim>(len).fill(readIntegers(t!)[0]!);
      break;
    }
  }
  if (!result || result.length > MAX) return;
  shapeValues.set(out, result);
  if (op !== 'Equal' && result.every((d) => typeof d === 'number') && !integers.has(out)) integers.set(out, result as number[]);
}
