/**
 * The "saved activations" alternative to the fused training graph: a forward model that also
 * returns every intermediate value the backward pass reads, and a backward-only model that takes
 * them as inputs. The fused graph recomputes nothing when it is the only call per step; the split
 * pair lets a trainer run the forward once (e.g. for the loss) and the backward later, at the cost
 * of handing the activations across (kept in memory between the two calls). bench/cases/autodiff.ts
 * measures both.
 */
import type { ModelProto, ValueInfoProto } from '../proto.js';
import { dtypeToOnnx, onnx } from '../proto.js';
import { analyzeGraph } from './analysis.js';
import type { TrainingGraph } from './differentiate.js';

export interface SplitTrainingGraph {
  /** Inputs: data inputs and parameters. Outputs: forward outputs, then `saved`. */
  forward: ModelProto;
  /** Inputs: data inputs and parameters it reads, upstream gradients, `saved`. Outputs: the gradients. */
  backward: ModelProto;
  /** Values computed by the forward model and read by the backward model. */
  saved: string[];
}

export function splitTrainingGraph(training: TrainingGraph): SplitTrainingGraph {
  const model = training.model;
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const forwardNodes = nodes.slice(0, training.forwardNodeCount);
  const backwardNodes = nodes.slice(training.forwardNodeCount);
  const facts = analyzeGraph(graph);

  const producedForward = new Set(forwardNodes.flatMap((n) => n.output ?? []));
  const readBy = (list: typeof nodes): Set<string> => new Set(list.flatMap((n) => (n.input ?? []).filter((i) => i)));
  const backwardReads = readBy(backwardNodes);
  const forwardReads = readBy(forwardNodes);
  const saved = [...producedForward].filter((name) => backwardReads.has(name) && !training.forwardOutputs.includes(name));
  const forwardOutputNeededByBackward = training.forwardOutputs.filter((n) => backwardReads.has(n));

  const info = (name: string): ValueInfoProto => {
    const dtype = facts.values.get(name)?.dtype ?? 'float32';
    return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: dtypeToOnnx(dtype) } } });
  };
  const inputsFor = (reads: Set<string>): ValueInfoProto[] => (graph.input ?? []).filter((i) => reads.has(i.name ?? ''));
  const initializersFor = (reads: Set<string>) => (graph.initializer ?? []).filter((t) => reads.has(t.name ?? ''));
  const outputsByName = new Map((graph.output ?? []).map((o) => [o.name ?? '', o]));

  const forward = onnx.ModelProto.create({
    ...model,
    graph: {
      name: `${graph.name}_forward`,
      node: forwardNodes,
      input: inputsFor(forwardReads),
      initializer: initializersFor(forwardReads),
      output: [...training.forwardOutputs.map((n) => outputsByName.get(n) ?? info(n)), ...saved.map(info)],
    },
  });
  const backwardInputs = new Set([...backwardReads]);
  const backward = onnx.ModelProto.create({
    ...model,
    graph: {
      name: `${graph.name}_backward`,
      node: backwardNodes,
      input: [...inputsFor(backwardInputs), ...[...saved, ...forwardOutputNeededByBackward].map(info)],
      initializer: initializersFor(backwardInputs),
      output: [...training.parameterGradOutputs, ...Object.values(training.inputGradOutputs)].map((n) => outputsByName.get(n) ?? info(n)),
    },
  });
  return { forward, backward, saved: [...saved, ...forwardOutputNeededByBackward] };
}
