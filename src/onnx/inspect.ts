/**
 * What an ONNX encoder holds, as `radlearn encoder inspect` prints it: inputs and outputs with
 * their shapes, the parameters radlearn would train (float initializers other than BatchNorm
 * running statistics), any node in training form (a training-mode export), and the operators
 * on the gradient path (between a parameter and an output) that have no gradient rule, which
 * would stop fine-tuning before it starts.
 */
import { analyzeGraph, isFloat } from './autodiff/analysis.js';
import { gradientRules, nonDifferentiableOps } from './autodiff/rules/index.js';
import { trainingModeNodes } from './inference-form.js';
import { listParameters } from './parameters.js';
import { onnxToDtype, type ModelProto, type ValueInfoProto } from './proto.js';

export interface ValueSummary {
  name: string;
  type: string;
  /** Numbers for fixed dimensions, names for free ones ('?' when unnamed). */
  dims: Array<number | string>;
}

export interface ModelInspection {
  opset: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodes: number;
  /** Node count per operator type, most frequent first. */
  operators: Array<{ op: string; count: number }>;
  parameters: { tensors: number; values: number; names: string[] };
  /** Float initializers that are not trained (BatchNorm running statistics). */
  buffers: string[];
  trainingModeNodes: string[];
  /** Operators between a parameter and an output without a gradient rule: fine-tuning would fail on them. */
  missingGradientRules: Array<{ op: string; count: number; firstNode: string }>;
}

function summary(v: ValueInfoProto): ValueSummary {
  const t = v.type?.tensorType;
  const elem = Number(t?.elemType ?? 0);
  const type = onnxToDtype(elem) ?? `onnx type ${elem}`;
  const dims = (t?.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || '?',
  );
  return { name: v.name ?? '', type, dims };
}

export function inspectModel(model: ModelProto): ModelInspection {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const layout = listParameters(model);
  const parameterNames = new Set(layout.parameters.map((p) => p.name));
  const facts = analyzeGraph(graph);
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.opType ?? '', (counts.get(n.opType ?? '') ?? 0) + 1);

  // values that depend on a parameter, then the nodes that lie between those and an output
  const requires = new Set(parameterNames);
  for (const node of nodes) {
    if (nonDifferentiableOps.has(node.opType ?? '')) continue;
    if (!(node.input ?? []).some((n) => n && requires.has(n))) continue;
    for (const o of node.output ?? []) if (o && isFloat(facts.values.get(o)?.dtype)) requires.add(o);
  }
  const needed = new Set((graph.output ?? []).map((o) => o.name ?? '').filter((n) => requires.has(n)));
  const missing = new Map<string, { op: string; count: number; firstNode: string }>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => o && needed.has(o))) continue;
    if (!(node.input ?? []).some((n) => n && requires.has(n))) continue;
    for (const n of node.input ?? []) if (n && requires.has(n)) needed.add(n);
    const op = node.opType ?? '';
    if (gradientRules[op] || nonDifferentiableOps.has(op)) continue;
    const entry = missing.get(op) ?? { op, count: 0, firstNode: node.name || (node.output ?? [])[0] || '(unnamed)' };
    entry.count++;
    missing.set(op, entry);
  }
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    opset: Number(opsetEntry?.version ?? 0),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || 'unknown',
    inputs: (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(summary),
    outputs: (graph.output ?? []).map(summary),
    nodes: nodes.length,
    operators: [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || (a.op < b.op ? -1 : 1)),
    parameters: { tensors: layout.parameters.length, values: layout.size, names: layout.parameters.map((p) => p.name) },
    buffers: (graph.initializer ?? []).filter((t) => t.dataType === 1 && !parameterNames.has(t.name ?? '')).map((t) => t.name ?? ''),
    trainingModeNodes: trainingModeNodes(model),
    missingGradientRules: [...missing.values()],
  };
}
