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
      if (typeof d === 'number') n *= d;
      else symbols.push(d);
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
}
