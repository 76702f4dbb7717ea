/**
 * Training-mode BatchNormalization as a graph rewrite (PyTorch `model.train()` semantics).
 *
 * Every BatchNormalization node becomes the explicit batch-statistics form, built only from
 * operators the autodiff differentiates (ReduceMean, Sub, Mul, Add, Sqrt, Div, Reshape), so the
 * gradient flows through the batch mean and variance into x:
 *   mean = ReduceMean(x, [0, 2, 3] or [0]);  var = ReduceMean((x - mean)^2)   (biased)
 *   y    = (x - mean) / sqrt(var + eps) * scale + bias
 * With `exposeStatistics`, each node's per-channel batch mean and biased variance also become graph
 * outputs named after its running-statistics initializers, so the caller can update those.
 * The running statistics themselves are no longer read and are dropped from the rewritten model.
 */
import { toAttributeProto, attr } from './attributes.js';
import { analyzeGraph } from './autodiff/analysis.js';
import { OnnxModelError } from './errors.js';
import { cloneModel } from './model-io.js';
import { type DType, type ModelProto, type NodeProto, type TensorProto, onnx } from './proto.js';
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

/** Rewrites every BatchNormalization node of `model` (a copy; the source is not changed). */
export function toBatchStatisticsModel(model: ModelProto, options: { exposeStatistics?: boolean } = {}): BatchNormTrainingModel {
  const copy = cloneModel(model);
  const graph = copy.graph;
  if (!graph) throw new OnnxModelError('the model has no graph');
  const facts = analyzeGraph(graph);
  const opset = opsetOf(copy);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const taken = new Set<string>([...facts.values.keys(), ...initializers.keys()]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const added: TensorProto[] = [];
  const constant = (base: string, data: Float32Array | Float64Array | BigInt64Array, dims: number[]): string => {
    const name = fresh(base);
    added.push(makeTensorProto(name, data, dims));
    return name;
  };

  const statistics: BatchStatistics[] = [];
  const claimedStats = new Set<string>();
  const nodes: NodeProto[] = [];
  (graph.node ?? []).forEach((node, index) => {
    if (node.opType !== 'BatchNormalization' || (node.domain && node.domain !== 'ai.onnx')) {
      nodes.push(node);
      return;
    }
    const where = node.name || `BatchNormalization #${index}`;
    const [x, scale, bias, runningMean, runningVar] = node.input ?? [];
    const y = node.output?.[0];
    if (!x || !scale || !bias || !runningMean || !runningVar || !y) throw new OnnxModelError(`BatchNormalization node ${where} needs inputs X, scale, B, input_mean, input_var and output Y`, { node: where });
    if ((node.output ?? []).filter((o) => o).length > 1) throw new OnnxModelError(`BatchNormalization node ${where} already has training-mode outputs (running mean/var); export the model in eval mode`, { node: where });
    for (const stat of [runningMean, runningVar]) {
      if (!initializers.has(stat)) throw new OnnxModelError(`BatchNormalization node ${where}: its running statistic ${stat} must be an initializer to be updated from batch statistics`, { node: where, name: stat });
      if (claimedStats.has(stat)) throw new OnnxModelError(`BatchNormalization node ${where} shares its running statistic ${stat} with another BatchNormalization node; each node needs its own`, { node: where, name: stat });
      claimedStats.add(stat);
    }
    const shape = facts.values.get(x)?.shape;
    const rank = shape?.length;
    if (rank !== 4 && rank !== 2) {
      throw new OnnxModelError(`BatchNormalization node ${where}: batch statistics are supported for 4-D [N, C, H, W] and 2-D [N, C] inputs; input ${x} has ${rank === undefined ? 'unknown rank' : `rank ${rank}`}`, { node: where, rank });
    }
    const dtype: DType = facts.values.get(x)?.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new OnnxModelError(`BatchNormalization node ${where}: input ${x} is ${dtype}; batch statistics need float32 or float64`, { node: where, dtype });
    const channels = tensorDims(initializers.get(runningMean)!).reduce((a, b) => a * b, 1);
    const epsAttr = (node.attribute ?? []).find((a) => a.name === 'epsilon');
    const eps = epsAttr?.f ?? 1e-5;
    const axes = rank === 4 ? [0, 2, 3] : [0];
    const view = rank === 4 ? [1, -1, 1, 1] : [1, -1];

    const base = node.name || y;
    const value = (suffix: string): string => fresh(`${base}__${suffix}`);
    const emit = (opType: string, inputs: string[], output: string, attrs: Record<string, ReturnType<typeof attr.int>> = {}): string => {
      nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name: fresh(`${base}/${opType}`), attribute: Object.entries(attrs).map(([k, a]) => toAttributeProto(k, a)) }));
      return output;
    };
    // ReduceMean takes its axes as an attribute up to opset 17 and as an input from opset 18.
    const axesInput = opset >= 18 ? constant(`${base}__axes`, BigInt64Array.from(axes, BigInt), [axes.length]) : undefined;
    const reduceMean = (input: string, out: string): string =>
      axesInput
        ? emit('ReduceMean', [input, axesInput], out, { keepdims: attr.int(1) })
        : emit('ReduceMean', [input], out, { axes: attr.ints(axes), keepdims: attr.int(1) });
    const float = (v: number): Float32Array | Float64Array => (dtype === 'float64' ? new Float64Array([v]) : new Float32Array([v]));

    const mean = reduceMean(x, value('batch_mean_nc'));
    const centered = emit('Sub', [x, mean], value('centered'));
    const squared = emit('Mul', [centered, centered], value('squared'));
    const variance = reduceMean(squared, value('batch_var_nc'));
    const std = emit('Sqrt', [emit('Add', [variance, constant(`${base}__epsilon`, float(eps), [])], value('var_eps'))], value('std'));
    const normalized = emit('Div', [centered, std], value('normalized'));
    const viewShape = constant(`${base}__channel_view`, BigInt64Array.from(view, BigInt), [view.length]);
    const scaled = emit('Mul', [normalized, emit('Reshape', [scale, viewShape], value('scale_view'))], value('scaled'));
    emit('Add', [scaled, emit('Reshape', [bias, viewShape], value('bias_view'))], y);

    const stat: BatchStatistics = { node: where, runningMean, runningVar, channels, meanOutput: batchMeanOutputName(runningMean), varOutput: batchVarOutputName(runningVar), elementsOutput: batchElementsOutputName(runningMean) };
    if (options.exposeStatistics) {
      const flat = constant(`${base}__channels`, BigInt64Array.from([-1n]), [1]);
      const floatType = onnx.TensorProto.DataType[dtype === 'float64' ? 'DOUBLE' : 'FLOAT'];
      const outputs = [
        { out: stat.meanOutput, op: 'Reshape', inputs: [mean, flat], elemType: floatType, dims: [channels] },
        { out: stat.varOutput, op: 'Reshape', inputs: [variance, flat], elemType: floatType, dims: [channels] },
        { out: stat.elementsOutput, op: 'Size', inputs: [x], elemType: onnx.TensorProto.DataType.INT64, dims: [] },
      ];
      for (const o of outputs) {
        if (taken.has(o.out)) throw new OnnxModelError(`BatchNormalization node ${where}: the model already has a value named ${o.out}, the name of its batch-statistics output`, { node: where, name: o.out });
        taken.add(o.out);
        emit(o.op, o.inputs, o.out);
        graph.output = [...(graph.output ?? []), onnx.ValueInfoProto.create({ name: o.out, type: { tensorType: { elemType: o.elemType, shape: { dim: o.dims.map((d) => ({ dimValue: d })) } } } })];
      }
    }
    statistics.push(stat);
  });
  graph.node = nodes;
  // The running statistics are no longer read (unless something else reads them): drop them.
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !claimedStats.has(t.name ?? '') || read.has(t.name ?? '')), ...added];
  graph.input = (graph.input ?? []).filter((i) => !claimedStats.has(i.name ?? '') || read.has(i.name ?? ''));
  return { model: copy, statistics };
}

/**
 * PyTorch's running-statistics update from one forward pass over `count` values per channel:
 * running = (1 - m) * running + m * batch, the variance updated with the unbiased batch variance.
 */
export function updateRunningStatistics(running: { mean: Float32Array; var: Float32Array }, batch: { mean: ArrayLike<number>; var: ArrayLike<number> }, count: number, momentum: number): void {
  const unbiased = count / (count - 1);
  for (let c = 0; c < running.mean.length; c++) {
    running.mean[c] = (1 - momentum) * running.mean[c]! + momentum * batch.mean[c]!;
    running.var[c] = (1 - momentum) * running.var[c]! + momentum * batch.var[c]! * unbiased;
  }
}
