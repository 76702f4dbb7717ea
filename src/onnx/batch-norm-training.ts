/**
 * Training-mode BatchNormalization as a graph rewrite (PyTorch `model.train()` semantics).
 *
 * Every BatchNormalization node becomes the explicit batch-statistics form, built only from
 * operators the autodiff differentiates (ReduceMean, Sub, Mul, Add, Sqrt, Div, Reshape), so the
 * gradient flows through the batch mean and variance into x:
 *   mean = ReduceMean(x, [0, 2, 3] or [0]);  var = ReduceMean((x - mean)^2)   (biased)
 *   y    = (x - mean) * (scale / sqrt(var + eps)) + bias
 * With `exposeStatistics`, each node's per-channel batch mean and biased variance also become graph
 * outputs named after its running-statistics initializers, so the caller can update those.
 * The running statistics themselves are no longer read and are dropped from the rewritten model.
 */
import { type Attr, attr, toAttributeProto } from './attributes.js';
import { type GraphFacts, analyzeGraph } from './autodiff/analysis.js';
import { OnnxModelError } from './errors.js';
import { cloneModel } from './model-io.js';
import { type ModelProto, type NodeProto, type TensorProto, onnx } from './proto.js';
import { makeTensorProto, tensorDims } from './tensor.js';

/** One rewritten BatchNormalization node and where its batch statistics come out. */
export interface BatchStatistics {
  node: string;
  runningMean: string;
  runningVar: string;
  channels: number;
  /** Graph outputs [C]: the batch mean and the biased batch variance (present with exposeStatistics). */
  meanOutput: string;
  varOutput: string;
  /** Graph output, int64 scalar: elements of the node's input (values per channel = elements / channels). */
  elementsOutput: string;
}

export interface BatchNormTrainingModel {
  model: ModelProto;
  statistics: BatchStatistics[];
}

/** Output names derived from the running-statistics initializer names (stable across runs). */
export const batchMeanOutputName = (runningMean: string): string => `${runningMean}__batch_mean`;
export const batchVarOutputName = (runningVar: string): string => `${runningVar}__batch_var`;
export const batchElementsOutputName = (runningMean: string): string => `${runningMean}__batch_elements`;

function opsetOf(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 17);
}

/** A BatchNormalization node, checked for the rewrite. */
interface BatchNormNode {
  where: string;
  /** Prefix of the names of the values and nodes that replace it. */
  base: string;
  x: string;
  scale: string;
  bias: string;
  y: string;
  runningMean: string;
  runningVar: string;
  rank: 2 | 4;
  dtype: 'float32' | 'float64';
  channels: number;
  epsilon: number;
}

/** Builds the replacement nodes: unique names, new initializers, nodes in order. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  constructor(
    private readonly taken: Set<string>,
    readonly opset: number,
  ) {}

  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  constant(base: string, data: Float32Array | Float64Array | BigInt64Array, dims: number[]): string {
    const name = this.fresh(base);
    this.initializers.push(makeTensorProto(name, data, dims));
    return name;
  }

  op(opType: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}): string {
    const attribute = Object.entries(attrs).map(([k, a]) => toAttributeProto(k, a));
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name: this.fresh(`${output}/${opType}`), attribute }));
    return output;
  }
}

function checkNode(
  node: NodeProto,
  index: number,
  facts: GraphFacts,
  initializers: Map<string, TensorProto>,
  claimed: Set<string>,
): BatchNormNode {
  const where = node.name || `BatchNormalization #${index}`;
  const [x, scale, bias, runningMean, runningVar] = node.input ?? [];
  const y = node.output?.[0];
  if (!x || !scale || !bias || !runningMean || !runningVar || !y)
    throw new OnnxModelError(`BatchNormalization node ${where} needs inputs X, scale, B, input_mean, input_var and output Y`, {
      node: where,
    });
  if ((node.output ?? []).filter((o) => o).length > 1)
    throw new OnnxModelError(
      `BatchNormalization node ${where} already has training-mode outputs (running mean/var); export the model in eval mode`,
      { node: where },
    );
  for (const stat of [runningMean, runningVar]) {
    if (!initializers.has(stat))
      throw new OnnxModelError(
        `BatchNormalization node ${where}: its running statistic ${stat} must be an initializer to be updated from batch statistics`,
        { node: where, name: stat },
      );
    if (claimed.has(stat))
      throw new OnnxModelError(
        `BatchNormalization node ${where} shares its running statistic ${stat} with another BatchNormalization node; each node needs its own`,
        { node: where, name: stat },
      );
    claimed.add(stat);
  }
  const rank = facts.values.get(x)?.shape?.length;
  if (rank !== 4 && rank !== 2) {
    throw new OnnxModelError(
      `BatchNormalization node ${where}: batch statistics are supported for 4-D [N, C, H, W] and 2-D [N, C] inputs; input ${x} has ${rank === undefined ? 'unknown rank' : `rank ${rank}`}`,
      { node: where, rank },
    );
  }
  const dtype = facts.values.get(x)?.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new OnnxModelError(`BatchNormalization node ${where}: input ${x} is ${dtype}; batch statistics need float32 or float64`, {
      node: where,
      dtype,
    });
  const channels = tensorDims(initializers.get(runningMean)!).reduce((a, b) => a * b, 1);
  const epsilon = (node.attribute ?? []).find((a) => a.name === 'epsilon')?.f ?? 1e-5;
  return { where, base: node.name || y, x, scale, bias, y, runningMean, runningVar, rank, dtype, channels, epsilon };
}

/** Emits y = (x - mean) / sqrt(var + eps) * scale + bias with batch statistics; returns them ([1, C, 1, 1] or [1, C]). */
function emitBatchStatisticsForm(e: Emitter, bn: BatchNormNode): { mean: string; variance: string } {
  const value = (suffix: string): string => e.fresh(`${bn.base}__${suffix}`);
  const axes = bn.rank === 4 ? [0, 2, 3] : [0];
  // ReduceMean takes its axes as an attribute up to opset 17 and as an input from opset 18.
  const axesInput = e.opset >= 18 ? e.constant(`${bn.base}__axes`, BigInt64Array.from(axes, BigInt), [axes.length]) : undefined;
  const reduceMean = (input: string, out: string): string =>
    axesInput
      ? e.op('ReduceMean', [input, axesInput], out, { keepdims: attr.int(1) })
      : e.op('ReduceMean', [input], out, { axes: attr.ints(axes), keepdims: attr.int(1) });
  const epsilon = e.constant(
    `${bn.base}__epsilon`,
    bn.dtype === 'float64' ? new Float64Array([bn.epsilon]) : new Float32Array([bn.epsilon]),
    [],
  );

  const mean = reduceMean(bn.x, value('batch_mean'));
  const centered = e.op('Sub', [bn.x, mean], value('centered'));
  const variance = reduceMean(e.op('Mul', [centered, centered], value('squared')), value('batch_var'));
  const std = e.op('Sqrt', [e.op('Add', [variance, epsilon], value('var_eps'))], value('std'));
  const view = bn.rank === 4 ? [1, -1, 1, 1] : [1, -1];
  const viewShape = e.constant(`${bn.base}__channel_view`, BigInt64Array.from(view, BigInt), [view.length]);
  // scale / std per channel first: one full-size multiply instead of a divide and a multiply,
  // and their gradients, on every element
  const factor = e.op('Div', [e.op('Reshape', [bn.scale, viewShape], value('scale_view')), std], value('factor'));
  const scaled = e.op('Mul', [centered, factor], value('scaled'));
  e.op('Add', [scaled, e.op('Reshape', [bn.bias, viewShape], value('bias_view'))], bn.y);
  return { mean, variance };
}

/** Adds the graph outputs of `stat`: batch mean and variance as [C], the input's element count. */
function exposeStatistics(
  e: Emitter,
  graph: NonNullable<ModelProto['graph']>,
  bn: BatchNormNode,
  stat: BatchStatistics,
  batch: { mean: string; variance: string },
): void {
  const flat = e.constant(`${bn.base}__channels`, BigInt64Array.from([-1n]), [1]);
  const floatType = onnx.TensorProto.DataType[bn.dtype === 'float64' ? 'DOUBLE' : 'FLOAT'];
  const outputs = [
    { name: stat.meanOutput, op: 'Reshape', inputs: [batch.mean, flat], elemType: floatType, dims: [bn.channels] },
    { name: stat.varOutput, op: 'Reshape', inputs: [batch.variance, flat], elemType: floatType, dims: [bn.channels] },
    { name: stat.elementsOutput, op: 'Size', inputs: [bn.x], elemType: onnx.TensorProto.DataType.INT64, dims: [] },
  ];
  for (const o of outputs) {
    if (e.fresh(o.name) !== o.name)
      throw new OnnxModelError(
        `BatchNormalization node ${bn.where}: the model already has a value named ${o.name}, the name of its batch-statistics output`,
        { node: bn.where, name: o.name },
      );
    e.op(o.op, o.inputs, o.name);
    graph.output = [
      ...(graph.output ?? []),
      onnx.ValueInfoProto.create({
        name: o.name,
        type: { tensorType: { elemType: o.elemType, shape: { dim: o.dims.map((d) => ({ dimValue: d })) } } },
      }),
    ];
  }
}

/** Rewrites every BatchNormalization node of `model` (a copy; the source is not changed). */
export function toBatchStatisticsModel(model: ModelProto, options: { exposeStatistics?: boolean } = {}): BatchNormTrainingModel {
  const copy = cloneModel(model);
  const graph = copy.graph;
  if (!graph) throw new OnnxModelError('the model has no graph');
  const facts = analyzeGraph(graph);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const e = new Emitter(new Set<string>([...facts.values.keys(), ...initializers.keys()]), opsetOf(copy));
  const statistics: BatchStatistics[] = [];
  const claimed = new Set<string>();
  (graph.node ?? []).forEach((node, index) => {
    if (node.opType !== 'BatchNormalization' || (node.domain && node.domain !== 'ai.onnx')) {
      e.nodes.push(node);
      return;
    }
    const bn = checkNode(node, index, facts, initializers, claimed);
    const batch = emitBatchStatisticsForm(e, bn);
    const stat: BatchStatistics = {
      node: bn.where,
      runningMean: bn.runningMean,
      runningVar: bn.runningVar,
      channels: bn.channels,
      meanOutput: batchMeanOutputName(bn.runningMean),
      varOutput: batchVarOutputName(bn.runningVar),
      elementsOutput: batchElementsOutputName(bn.runningMean),
    };
    if (options.exposeStatistics) exposeStatistics(e, graph, bn, stat, batch);
    statistics.push(stat);
  });
  graph.node = e.nodes;
  // The running statistics are no longer read (unless something else reads them): drop them.
  const read = new Set(e.nodes.flatMap((n) => n.input ?? []));
  const dropped = (name: string | null | undefined): boolean => claimed.has(name ?? '') && !read.has(name ?? '');
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dropped(t.name)), ...e.initializers];
  graph.input = (graph.input ?? []).filter((i) => !dropped(i.name));
  return { model: copy, statistics };
}

/**
 * PyTorch's running-statistics update from one forward pass over `count` values per channel:
 * running = (1 - m) * running + m * batch, the variance updated with the unbiased batch variance.
 */
export function updateRunningStatistics(
  running: { mean: Float32Array; var: Float32Array },
  batch: { mean: ArrayLike<number>; var: ArrayLike<number> },
  count: number,
  momentum: number,
): void {
  const unbiased = count / (count - 1);
  for (let c = 0; c < running.mean.length; c++) {
    running.mean[c] = (1 - momentum) * running.mean[c]! + momentum * batch.mean[c]!;
    running.var[c] = (1 - momentum) * running.var[c]! + momentum * batch.var[c]! * unbiased;
  }
}
