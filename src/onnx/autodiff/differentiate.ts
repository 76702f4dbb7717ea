/**
 * Reverse-mode differentiation of an ONNX graph into one training graph that runs forward and
 * backward in a single onnxruntime call, with standard operators only. Trainable parameters become
 * graph inputs (fed as views of one flat buffer), each differentiated output gets a `grad_<output>`
 * input (the upstream gradient, e.g. d loss / d embedding), and the graph returns the forward outputs
 * plus `grad_<parameter>` for every trainable parameter (and `grad_<input>` where asked).
 */
import { GraphBuilder, type Value } from '../graph-builder.js';
import { cloneModel } from '../model-io.js';
import { type ParameterLayout, type ParameterSelector, listParameters, parametersAsInputs } from '../parameters.js';
import type { ModelProto, NodeProto } from '../proto.js';
import { type GraphFacts, analyzeGraph, isFloat } from './analysis.js';
import { GradEmitter } from './emitter.js';
import { AutodiffError, UnsupportedOperatorError } from './errors.js';
import { gradientRules, nonDifferentiableOps } from './rules/index.js';
import type { VjpArgs } from './rules/types.js';
import { phasePool } from './rules/max-pool.js';

export interface DifferentiateOptions {
  /** Which initializers are parameters (default: the model's trainable list, see listParameters). */
  parameters?: ParameterSelector;
  /** Parameters kept as constants (no gradient, not in the layout). */
  freeze?: ParameterSelector;
  /** Outputs that receive an upstream gradient (default: every float output). */
  outputs?: readonly string[];
  /** Also return gradients for these graph inputs (true: every float input). */
  inputsGrad?: boolean | readonly string[];
  /** Named in error messages (default: the graph name). */
  modelPath?: string;
}

export interface TrainingGraph {
  /** Forward + backward graph (opset of the source model, standard operators only). */
  model: ModelProto;
  /** Trainable parameters: graph inputs, in flat-buffer order (offsets into one Float32Array). */
  layout: ParameterLayout;
  /** Selected parameters that were frozen (left as initializers). */
  frozen: string[];
  /** The source model's own inputs (images, token ids, masks...). */
  dataInputs: string[];
  /** Differentiated output -> name of its upstream-gradient input. */
  outputGradInputs: Record<string, string>;
  /** The forward outputs the training graph still returns. */
  forwardOutputs: string[];
  /** Gradient output per trainable parameter, in layout order. */
  parameterGradOutputs: string[];
  /** Graph input -> name of its gradient output. */
  inputGradOutputs: Record<string, string>;
  /** The first forwardNodeCount nodes of the graph are the forward pass (see splitTrainingGraph). */
  forwardNodeCount: number;
}

const gradName = (name: string): string => `grad_${name}`;

function selectorFn(select: ParameterSelector | undefined): (name: string) => boolean {
  if (!select) return () => false;
  if (typeof select === 'function') return select;
  if (select instanceof RegExp) return (n) => select.test(n);
  const set = new Set(select);
  return (n) => set.has(n);
}

function opsetOf(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 17);
}

export function differentiate(source: ModelProto, options: DifferentiateOptions = {}): TrainingGraph {
  const graph = source.graph;
  if (!graph) throw new AutodiffError('the model has no graph');
  const where = options.modelPath ?? `model ${graph.name ?? '(unnamed)'}`;
  checkTopologicalOrder(graph, where);
  const opset = opsetOf(source);
  if (opset < 13)
    throw new AutodiffError(
      `${where} uses opset ${opset}; the gradient rules emit opset-13+ operator forms (re-export with opset 13 to 17)`,
      { opset },
    );

  const selected = listParameters(source, { select: options.parameters });
  const isFrozen = selectorFn(options.freeze);
  const frozen = selected.parameters.filter((p) => isFrozen(p.name)).map((p) => p.name);
  const layout = listParameters(source, { select: selected.parameters.filter((p) => !isFrozen(p.name)).map((p) => p.name) });

  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const dataInputs = (graph.input ?? []).map((i) => i.name ?? '').filter((n) => !initializerNames.has(n));
  const baseFacts = analyzeGraph(graph);
  const floatInputs = dataInputs.filter((n) => isFloat(baseFacts.values.get(n)?.dtype));
  const gradInputs = options.inputsGrad === true ? floatInputs : options.inputsGrad ? [...options.inputsGrad] : [];
  for (const n of gradInputs) {
    if (!floatInputs.includes(n))
      throw new AutodiffError(
        `inputsGrad names ${n}, which is not a float input of ${where} (float inputs: ${floatInputs.join(', ') || 'none'})`,
        { name: n },
      );
  }
  const outputNames = (graph.output ?? []).map((o) => o.name ?? '');
  const chosen = options.outputs ? [...options.outputs] : outputNames.filter((n) => isFloat(baseFacts.values.get(n)?.dtype));
  for (const n of chosen) {
    if (!outputNames.includes(n))
      throw new AutodiffError(`outputs names ${n}, which is not an output of ${where} (outputs: ${outputNames.join(', ')})`, { name: n });
    const dtype = baseFacts.values.get(n)?.dtype;
    if (dtype && !isFloat(dtype))
      throw new AutodiffError(`output ${n} of ${where} is ${dtype}; only float outputs can be differentiated`, { name: n, dtype });
  }
  if (chosen.length === 0) throw new AutodiffError(`${where} has no float output to differentiate`);

  const nodes = graph.node ?? [];

  // Which values depend on something trainable, and which nodes lie between those and the outputs.
  const requires = new Set<string>([...layout.parameters.map((p) => p.name), ...gradInputs]);
  for (const node of nodes) {
    if (nonDifferentiableOps.has(node.opType ?? '')) continue;
    if (!(node.input ?? []).some((n) => n && requires.has(n))) continue;
    for (const o of node.output ?? []) if (o && isFloat(baseFacts.values.get(o)?.dtype)) requires.add(o);
  }
  const needed = new Set(chosen.filter((n) => requires.has(n)));
  const relevant: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => o && needed.has(o))) continue;
    if (!(node.input ?? []).some((n) => n && requires.has(n))) continue;
    relevant.push(node);
    for (const n of node.input ?? []) if (n && requires.has(n)) needed.add(n);
  }

  // Give MaxPool nodes whose gradient needs them their indices, and LayerNormalization nodes their mean and inverse std,
  // so the backward pass reuses them; then turn parameters into inputs.
  const work = cloneModel(source);
  const allNames = new Set<string>([...baseFacts.values.keys(), ...initializerNames]);
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; allNames.has(name); k++) name = `${base}_${k}`;
    allNames.add(name);
    return name;
  };
  const relevantSet = new Set(relevant);
  const byPosition = new Map<number, NodeProto>();
  (work.graph!.node ?? []).forEach((node, i) => {
    const original = nodes[i]!;
    if (!relevantSet.has(original)) return;
    byPosition.set(i, node);
    const outs = [...(node.output ?? [])];
    const first = outs[0] ?? 'out';
    const poolInput = node.input?.[0];
    if (node.opType === 'MaxPool' && !outs[1] && !phasePool(node, poolInput ? baseFacts.values.get(poolInput)?.dtype : undefined))
      outs[1] = unique(`${first}__indices`);
    if (node.opType === 'LayerNormalization') {
      if (!outs[1]) outs[1] = unique(`${first}__mean`);
      if (!outs[2]) outs[2] = unique(`${first}__inv_std`);
    }
    node.output = outs;
  });
  const model = parametersAsInputs(work, layout);
  const facts: GraphFacts = analyzeGraph(model.graph!);
  const g = GraphBuilder.extend(model);
  const e = new GradEmitter(g, facts);

  const exists = (name: string): boolean => allNames.has(name) || facts.values.has(name);
  const claimGradName = (name: string): string => {
    if (exists(name)) throw new AutodiffError(`${where} already has a value named ${name}; rename it before differentiating`, { name });
    allNames.add(name);
    return name;
  };

  const contributions = new Map<string, Value[]>();
  const contribute = (name: string, v: Value): void => {
    const list = contributions.get(name);
    if (list) list.push(v);
    else contributions.set(name, [v]);
  };
  const gradientOf = (name: string): Value | null => {
    const parts = contributions.get(name);
    if (!parts || parts.length === 0) return null;
    const total = e.sum(parts);
    contributions.set(name, [total]);
    return total;
  };

  const outputGradInputs: Record<string, string> = {};
  const unshaped: string[] = [];
  const declaredOutputs = new Map((graph.output ?? []).map((o) => [o.name ?? '', o]));
  for (const name of chosen) {
    const input = claimGradName(gradName(name));
    const info = declaredOutputs.get(name);
    const dims = (info?.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
    const shape = info?.type?.tensorType?.shape
      ? dims
      : (facts.values.get(name)?.shape?.map((d, i) => d ?? `${name}_dim${i}`) ?? undefined);
    const dtype = facts.values.get(name)?.dtype ?? 'float32';
    const v = g.input(input, dtype, shape ?? []);
    if (!shape) unshaped.push(input);
    outputGradInputs[name] = input;
    contribute(name, v);
  }

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = byPosition.get(i);
    if (!node) continue;
    const opType = node.opType ?? '';
    const nodeName = node.name || `${opType} #${i}`;
    if (node.domain && node.domain !== 'ai.onnx')
      throw new UnsupportedOperatorError(`${node.domain}::${opType}`, nodeName, where, 'only default-domain ONNX operators are supported');
    const rule = gradientRules[opType];
    const dy = (node.output ?? []).map((o) => (o ? gradientOf(o) : null));
    if (dy.every((d) => d === null)) continue;
    if (!rule) throw new UnsupportedOperatorError(opType, nodeName, where);
    const x = (node.input ?? []).map((n) => (n ? e.value(n) : null));
    const args: VjpArgs = {
      node,
      e,
      x,
      y: (node.output ?? []).map((n) => (n ? e.value(n) : null)),
      dy,
      needs: (node.input ?? []).map((n) => Boolean(n) && requires.has(n) && needed.has(n)),
      yShape: (k) => facts.values.get(node.output?.[k] ?? '')?.shape,
      opset,
      fail: (reason) => {
        throw new UnsupportedOperatorError(opType, nodeName, where, reason);
      },
    };
    const grads = rule(args);
    grads.forEach((grad, k) => {
      if (grad && args.needs[k]) contribute(node.input![k]!, grad);
    });
  }

  const finalGradient = (name: string, dims: readonly number[] | undefined, dtypeOf: Value): Value => {
    const grad = gradientOf(name);
    if (grad) return grad;
    // Not connected to any differentiated output: its gradient is zero.
    const shape = dims ? e.ints(dims) : e.shape(dtypeOf);
    return e.filled(shape, 0, dtypeOf.dtype);
  };
  const parameterGradOutputs: string[] = [];
  for (const p of layout.parameters) {
    const out = claimGradName(gradName(p.name));
    g.output(finalGradient(p.name, p.shape, e.value(p.name)), out, p.shape);
    parameterGradOutputs.push(out);
  }
  const inputGradOutputs: Record<string, string> = {};
  for (const name of gradInputs) {
    const out = claimGradName(gradName(name));
    const shape = facts.values.get(name)?.shape?.map((d, i) => d ?? `${name}_dim${i}`);
    g.output(finalGradient(name, undefined, e.value(name)), out, shape);
    inputGradOutputs[name] = out;
  }

  const built = g.build({ producerName: 'radlearn autodiff', docString: `training graph (forward + backward) of ${where}` });
  // An output of unknown rank gets an upstream-gradient input of unknown rank (no shape at all).
  for (const info of built.graph?.input ?? [])
    if (unshaped.includes(info.name ?? '') && info.type?.tensorType) info.type.tensorType.shape = null;
  return {
    model: built,
    layout,
    frozen,
    dataInputs,
    outputGradInputs,
    forwardOutputs: outputNames,
    parameterGradOutputs,
    inputGradOutputs,
    forwardNodeCount: nodes.length,
  };
}

/** ONNX requires nodes in topological order; the reverse sweep relies on it. */
function checkTopologicalOrder(graph: NonNullable<ModelProto['graph']>, where: string): void {
  const known = new Set<string>([...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.initializer ?? []).map((t) => t.name ?? '')]);
  for (const [i, node] of (graph.node ?? []).entries()) {
    for (const name of node.input ?? []) {
      if (name && !known.has(name)) {
        throw new AutodiffError(
          `${where}: node ${node.name || `${node.opType} #${i}`} reads ${name} before any node produces it; the graph is not in topological order (re-export or sort it)`,
          { node: node.name, value: name },
        );
      }
    }
    for (const o of node.output ?? []) if (o) known.add(o);
  }
}
