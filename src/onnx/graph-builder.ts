import { type Attr, attr, toAttributeProto } from './attributes.js';
import { OnnxGraphError } from './errors.js';
import { type InitSpec, initializeValues } from './init.js';
import {
  type DType,
  IR_VERSION,
  type ModelProto,
  type NodeProto,
  OPSET_VERSION,
  type TensorProto,
  type ValueInfoProto,
  dtypeToOnnx,
  onnx,
  onnxToDtype,
} from './proto.js';
import { type TensorData, dtypeOf, makeTensorProto, sizeOf } from './tensor.js';

/** A value in the graph under construction (a graph input, initializer, constant or node output). */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
}

/** A dimension of a graph input or output: a size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

/** Metadata key under which built models list their trainable initializers (see parameters.ts). */
export const TRAINABLE_METADATA_KEY = 'radlearn.trainable';

export interface GraphBuilderOptions {
  /** Seed for parameter initialisation; each parameter draws from its own (seed, name) stream. */
  seed?: number;
}

export interface BuildOptions {
  producerName?: string;
  docString?: string;
  /** Extra metadata_props entries (string values), e.g. the config a built-in encoder was made from. */
  metadata?: Record<string, string>;
}

export interface ConvOptions {
  kernelShape?: readonly number[];
  strides?: readonly number[];
  pads?: readonly number[];
  dilations?: readonly number[];
  group?: number;
}

export interface PoolOptions {
  kernelShape: readonly number[];
  strides?: readonly number[];
  pads?: readonly number[];
  ceilMode?: boolean;
}

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

type Ints = readonly number[];

/**
 * Builds an ONNX graph (IR 8, opset 17) op by op. Each helper emits exactly the standard
 * operators PyTorch's exporter would, so the result runs in any onnxruntime and the future
 * autodiff (issue 8) sees the same node vocabulary for built-in and exported models.
 */
export class GraphBuilder {
  readonly name: string;
  readonly seed: number;
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly trainable: string[] = [];
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly dtypes = new Map<string, DType>();
  /** What an extended model brings along: its opsets, IR version and metadata. */
  private base: { irVersion: number; opsetImport: { domain: string; version: number }[]; metadata: Record<string, string> } | undefined;
  private counter = 0;

  constructor(name: string, options: GraphBuilderOptions = {}) {
    this.name = name;
    this.seed = options.seed ?? 0;
  }

  /**
   * A builder that continues an existing model: its nodes, inputs, outputs, initializers, opsets and
   * metadata are kept, and new nodes can use any of its values (see value()). This is how a head is
   * appended to an encoder for export, or gradient nodes to a forward graph.
   */
  static extend(model: ModelProto, options: GraphBuilderOptions = {}): GraphBuilder {
    const graph = model.graph;
    if (!graph) throw new OnnxGraphError('cannot extend a ModelProto without a graph');
    const g = new GraphBuilder(graph.name ?? 'graph', options);
    const metadata: Record<string, string> = {};
    for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
    g.base = {
      irVersion: Number(model.irVersion ?? IR_VERSION),
      opsetImport: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: Number(o.version ?? OPSET_VERSION) })),
      metadata,
    };
    const remember = (name: string | null | undefined, elemType?: number | null): void => {
      if (!name) return;
      g.names.add(name);
      const dtype = elemType ? onnxToDtype(elemType) : undefined;
      if (dtype) g.dtypes.set(name, dtype);
    };
    for (const i of graph.input ?? []) {
      g.inputs.push(i);
      remember(i.name, i.type?.tensorType?.elemType);
    }
    for (const t of graph.initializer ?? []) {
      g.initializers.push(t);
      remember(t.name, t.dataType);
    }
    for (const n of graph.node ?? []) {
      g.nodes.push(n);
      if (n.name) g.nodeNames.add(n.name);
      for (const o of n.output ?? []) remember(o);
    }
    for (const v of graph.valueInfo ?? []) remember(v.name, v.type?.tensorType?.elemType);
    for (const o of graph.output ?? []) {
      g.outputs.push(o);
      remember(o.name, o.type?.tensorType?.elemType);
    }
    const trainable = metadata[TRAINABLE_METADATA_KEY];
    if (trainable) g.trainable.push(...(JSON.parse(trainable) as string[]));
    return g;
  }

  /** An existing value of an extended graph, by name (dtype from the model where it declares one). */
  value(name: string, dtype?: DType): Value {
    if (!this.names.has(name)) throw new OnnxGraphError(`graph ${this.name} has no value named ${name}`, { name });
    return { name, dtype: dtype ?? this.dtypes.get(name) ?? 'float32' };
  }

  /** Drops every declared graph output (e.g. to replace an encoder's outputs with a head's). */
  clearOutputs(): void {
    this.outputs.length = 0;
  }

  // ---- graph interface -------------------------------------------------------------------

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    this.claim(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return { name, dtype };
  }

  /**
   * Marks a value as a graph output, renamed through Identity when `name` differs. Give `shape`
   * (symbolic dims allowed): onnxruntime runs without it, but onnx.checker requires graph outputs to have one.
   */
  output(value: Value, name: string = value.name, shape?: readonly Dim[]): Value {
    let out = value;
    if (name !== value.name) {
      this.claim(name);
      this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: this.nodeName('Identity'), input: [value.name], output: [name] }));
      out = { name, dtype: value.dtype };
    }
    this.outputs.push(valueInfo(out.name, out.dtype, shape));
    return out;
  }

  /** A trainable float32 initializer with deterministic values from (seed, name). */
  parameter(name: string, dims: Ints, init: InitSpec, options: { trainable?: boolean } = {}): Value {
    const values = initializeValues(init, sizeOf(dims), this.seed, name);
    const v = this.initializer(name, values, dims);
    if (options.trainable ?? true) this.trainable.push(name);
    return v;
  }

  /** An initializer with given values (trainable: false unless listed by `parameter`). */
  initializer(name: string, data: TensorData, dims: Ints): Value {
    checkSize(name, data.length, dims);
    this.claim(name);
    this.initializers.push(makeTensorProto(name, data, dims));
    return { name, dtype: dtypeOf(data) };
  }

  /** A Constant node: values that are part of the computation, never parameters. */
  constant(data: TensorData, dims: Ints, hint = 'const'): Value {
    checkSize(hint, data.length, dims);
    const out = this.fresh(hint);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: 'Constant',
        name: this.nodeName('Constant'),
        input: [],
        output: [out],
        attribute: [toAttributeProto('value', attr.tensor(makeTensorProto(out, data, dims)))],
      }),
    );
    return { name: out, dtype: dtypeOf(data) };
  }

  /** A float32 scalar constant. */
  scalar(value: number): Value {
    return this.constant(new Float32Array([value]), [], 'scalar');
  }

  /** A 1-D int64 constant (shapes, axes, starts/ends). */
  ints(values: Ints): Value {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'ints');
  }

  /**
   * Appends any node. Op helpers below are thin wrappers; use this for operators they do not cover.
   * `outputDtypes` gives each output's element type (default: the first input's).
   */
  node(
    opType: string,
    inputs: readonly (Value | null)[],
    attributes: Record<string, Attr | undefined> = {},
    outputDtypes?: readonly DType[],
  ): Value[] {
    const dtypes = outputDtypes ?? [inputs.find((v) => v)?.dtype ?? 'float32'];
    const outputs = dtypes.map(() => this.fresh(opType.toLowerCase()));
    const attribute = Object.entries(attributes)
      .filter((e): e is [string, Attr] => e[1] !== undefined)
      .map(([k, a]) => toAttributeProto(k, a));
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: this.nodeName(opType),
        input: inputs.map((v) => (v ? this.known(v.name, opType) : '')),
        output: outputs,
        attribute,
      }),
    );
    return outputs.map((name, i) => ({ name, dtype: dtypes[i]! }));
  }

  private op(opType: string, inputs: readonly (Value | null)[], attributes: Record<string, Attr | undefined> = {}, dtype?: DType): Value {
    return this.node(opType, inputs, attributes, dtype ? [dtype] : undefined)[0]!;
  }

  // ---- elementwise -------------------------------------------------------------------------

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
  pow(a: Value, b: Value): Value {
    return this.op('Pow', [a, b]);
  }
  relu(x: Value): Value {
    return this.op('Relu', [x]);
  }
  sigmoid(x: Value): Value {
    return this.op('Sigmoid', [x]);
  }
  tanh(x: Value): Value {
    return this.op('Tanh', [x]);
  }
  erf(x: Value): Value {
    return this.op('Erf', [x]);
  }
  sqrt(x: Value): Value {
    return this.op('Sqrt', [x]);
  }
  exp(x: Value): Value {
    return this.op('Exp', [x]);
  }
  log(x: Value): Value {
    return this.op('Log', [x]);
  }
  neg(x: Value): Value {
    return this.op('Neg', [x]);
  }
  identity(x: Value): Value {
    return this.op('Identity', [x]);
  }
  cast(x: Value, to: DType): Value {
    return this.op('Cast', [x], { to: attr.int(dtypeToOnnx(to)) }, to);
  }
  equal(a: Value, b: Value): Value {
    return this.op('Equal', [a, b], {}, 'bool');
  }
  where(cond: Value, a: Value, b: Value): Value {
    return this.op('Where', [cond, a, b], {}, a.dtype);
  }

  /** Exact (erf) GELU as PyTorch exports it at opset 17: 0.5 * x * (1 + erf(x / sqrt 2)). */
  gelu(x: Value): Value {
    const e = this.erf(this.div(x, this.scalar(Math.SQRT2)));
    return this.mul(this.mul(x, this.add(e, this.scalar(1))), this.scalar(0.5));
  }

  // ---- linear algebra ----------------------------------------------------------------------

  matMul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b]);
  }

  gemm(a: Value, b: Value, c: Value | null = null, o: GemmOptions = {}): Value {
    return this.op('Gemm', [a, b, c], {
      alpha: o.alpha === undefined ? undefined : attr.float(o.alpha),
      beta: o.beta === undefined ? undefined : attr.float(o.beta),
      transA: o.transA ? attr.int(1) : undefined,
      transB: o.transB ? attr.int(1) : undefined,
    });
  }

  // ---- convolution, normalisation, pooling --------------------------------------------------

  conv(x: Value, w: Value, b: Value | null = null, o: ConvOptions = {}): Value {
    return this.op('Conv', [x, w, b], {
      kernel_shape: o.kernelShape && attr.ints(o.kernelShape),
      strides: o.strides && attr.ints(o.strides),
      pads: o.pads && attr.ints(o.pads),
      dilations: o.dilations && attr.ints(o.dilations),
      group: o.group === undefined ? undefined : attr.int(o.group),
    });
  }

  /** Inference-form BatchNormalization (running statistics as inputs), as exported in eval mode. */
  batchNormalization(x: Value, scale: Value, bias: Value, mean: Value, variance: Value, o: { epsilon?: number } = {}): Value {
    return this.op('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: attr.float(o.epsilon ?? 1e-5) });
  }

  layerNormalization(x: Value, scale: Value, bias: Value | null = null, o: { axis?: number; epsilon?: number } = {}): Value {
    return this.op('LayerNormalization', [x, scale, bias], { axis: attr.int(o.axis ?? -1), epsilon: attr.float(o.epsilon ?? 1e-5) });
  }

  maxPool(x: Value, o: PoolOptions): Value {
    return this.op('MaxPool', [x], poolAttrs(o));
  }

  averagePool(x: Value, o: PoolOptions & { countIncludePad?: boolean }): Value {
    return this.op('AveragePool', [x], { ...poolAttrs(o), count_include_pad: o.countIncludePad ? attr.int(1) : undefined });
  }

  globalAveragePool(x: Value): Value {
    return this.op('GlobalAveragePool', [x]);
  }

  softmax(x: Value, axis = -1): Value {
    return this.op('Softmax', [x], { axis: attr.int(axis) });
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.op('LogSoftmax', [x], { axis: attr.int(axis) });
  }

  // ---- shape manipulation ------------------------------------------------------------------

  /** Reshape; in a literal shape 0 copies the input's dimension and -1 is inferred. */
  reshape(x: Value, shape: Ints | Value): Value {
    return this.op('Reshape', [x, isValue(shape) ? shape : this.ints(shape)]);
  }

  transpose(x: Value, perm: Ints): Value {
    return this.op('Transpose', [x], { perm: attr.ints(perm) });
  }

  concat(values: readonly Value[], axis: number): Value {
    if (values.length === 0) throw new OnnxGraphError('concat needs at least one input');
    return this.op('Concat', values, { axis: attr.int(axis) });
  }

  slice(x: Value, starts: Ints | Value, ends: Ints | Value, axes?: Ints | Value, steps?: Ints | Value): Value {
    const v = (a: Ints | Value | undefined): Value | null => (a === undefined ? null : isValue(a) ? a : this.ints(a));
    return this.op('Slice', [x, v(starts), v(ends), v(axes), v(steps)]);
  }

  /** Gather along `axis`; a number index is a scalar (removes the axis), an array keeps it. */
  gather(data: Value, indices: Value | number | Ints, axis = 0): Value {
    let idx: Value;
    if (isValue(indices)) idx = indices;
    else if (typeof indices === 'number') idx = this.constant(new BigInt64Array([BigInt(indices)]), [], 'index');
    else idx = this.ints(indices);
    return this.op('Gather', [data, idx], { axis: attr.int(axis) });
  }

  flatten(x: Value, axis = 1): Value {
    return this.op('Flatten', [x], { axis: attr.int(axis) });
  }
  unsqueeze(x: Value, axes: Ints): Value {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }
  squeeze(x: Value, axes: Ints): Value {
    return this.op('Squeeze', [x, this.ints(axes)]);
  }
  expand(x: Value, shape: Value | Ints): Value {
    return this.op('Expand', [x, isValue(shape) ? shape : this.ints(shape)]);
  }

  /** Shape of x as int64 (opset 15+ start/end select a range of dimensions). */
  shape(x: Value, o: { start?: number; end?: number } = {}): Value {
    return this.op(
      'Shape',
      [x],
      { start: o.start === undefined ? undefined : attr.int(o.start), end: o.end === undefined ? undefined : attr.int(o.end) },
      'int64',
    );
  }

  // ---- reductions (opset 17: ReduceMean takes axes as an attribute, ReduceSum as an input) ---

  reduceMean(x: Value, axes: Ints, keepdims = true): Value {
    return this.op('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) });
  }

  reduceSum(x: Value, axes: Ints, keepdims = true): Value {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }

  // ---- finishing -------------------------------------------------------------------------

  /** Names of the trainable parameters declared so far, in declaration order. */
  trainableParameters(): readonly string[] {
    return this.trainable;
  }

  build(options: BuildOptions = {}): ModelProto {
    if (this.outputs.length === 0) throw new OnnxGraphError(`graph ${this.name} has no outputs; call output() before build()`);
    const metadata: Record<string, string> = {
      ...this.base?.metadata,
      ...options.metadata,
      [TRAINABLE_METADATA_KEY]: JSON.stringify(this.trainable),
    };
    return onnx.ModelProto.create({
      irVersion: this.base?.irVersion ?? IR_VERSION,
      opsetImport: this.base?.opsetImport ?? [{ domain: '', version: OPSET_VERSION }],
      producerName: options.producerName ?? 'radlearn',
      docString: options.docString ?? '',
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: [...this.nodes],
        input: [...this.inputs],
        output: [...this.outputs],
        initializer: [...this.initializers],
      },
    });
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  private claim(name: string): void {
    if (name.length === 0) throw new OnnxGraphError(`graph ${this.name}: value names must not be empty`);
    if (this.names.has(name)) throw new OnnxGraphError(`graph ${this.name}: the name ${name} is already used`, { name });
    this.names.add(name);
  }

  private known(name: string, opType: string): string {
    if (!this.names.has(name))
      throw new OnnxGraphError(
        `graph ${this.name}: ${opType} uses ${name}, which is not an input, initializer or earlier output of this graph`,
        { name, opType },
      );
    return name;
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private nodeName(opType: string): string {
    let name: string;
    let k = this.nodes.length;
    do name = `${opType}_${k++}`;
    while (this.nodeNames.has(name));
    this.nodeNames.add(name);
    return name;
  }
}

function isValue(v: unknown): v is Value {
  return typeof v === 'object' && v !== null && 'name' in v && 'dtype' in v;
}

function checkSize(name: string, length: number, dims: Ints): void {
  if (dims.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(dims) !== length) {
    throw new OnnxGraphError(`tensor ${name}: dims ${JSON.stringify(dims)} do not hold ${length} values`, { name, dims, length });
  }
}

function poolAttrs(o: PoolOptions): Record<string, Attr | undefined> {
  return {
    kernel_shape: attr.ints(o.kernelShape),
    strides: o.strides && attr.ints(o.strides),
    pads: o.pads && attr.ints(o.pads),
    ceil_mode: o.ceilMode ? attr.int(1) : undefined,
  };
}

function valueInfo(name: string, dtype: DType, shape?: readonly Dim[]): ValueInfoProto {
  const tensorType: { elemType: number; shape?: { dim: object[] } } = { elemType: dtypeToOnnx(dtype) };
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return onnx.ValueInfoProto.create({ name, type: { tensorType } });
}
