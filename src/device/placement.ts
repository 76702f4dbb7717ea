/**
 * Where onnxruntime actually ran each node of a model, from its own profiler: one run with
 * profiling on writes a Chrome-trace JSON whose node events carry the op type, the input element
 * types and shapes, and the execution provider that ran the node. This is how a CUDA session's
 * nodes that fell back to the CPU (no kernel for the op or type, or placed there on purpose, like
 * small shape computations) are found.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { createOrtSession, type OrtSessionRequest } from './session-factory.js';

export interface NodePlacement {
  /** The node's name in the optimised graph (onnxruntime's fusions rename and merge nodes). */
  node: string;
  op: string;
  /** 'CPUExecutionProvider', 'CUDAExecutionProvider', ... */
  provider: string;
  /** Element type of each input, as the profiler names them ('float', 'int64', 'bool', ...). */
  inputTypes: string[];
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { op_name?: string; provider?: string; input_type_shape?: Array<Record<string, unknown>> };
}

/** Reads the node events of one profile file: one placement per node, in first-run order. */
export function placementsFromProfile(events: readonly ProfileEvent[]): NodePlacement[] {
  const seen = new Map<string, NodePlacement>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.provider || !e.name?.endsWith('_kernel_time')) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    if (seen.has(node)) continue;
    seen.set(node, {
      node,
      op: e.args.op_name ?? '?',
      provider: e.args.provider,
      inputTypes: (e.args.input_type_shape ?? []).map((t) => Object.keys(t)[0] ?? '?'),
    });
  }
  return [...seen.values()];
}

/**
 * Runs `model` once on the request's providers with onnxruntime's profiler on and returns where
 * each node ran. The session is made by the session factory, so inside a run it gets the run's
 * providers, exactly as the run's own sessions do.
 */
export async function profilePlacement(
  model: Uint8Array | string,
  feeds: Record<string, ort.Tensor>,
  request: OrtSessionRequest,
): Promise<NodePlacement[]> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-placement-'));
  try {
    const session = await createOrtSession(model, {
      ...request,
      options: { ...request.options, enableProfiling: true, profileFilePrefix: join(dir, 'profile') },
    });
    try {
      await session.run(feeds);
      session.endProfiling();
    } finally {
      await session.release();
    }
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`onnxruntime wrote ${files.length} profile files for ${request.label}, expected 1`);
    return placementsFromProfile(JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as ProfileEvent[]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Nodes per provider, and the op types (with input types) of the nodes that did not run on `provider`. */
export function summarizePlacement(
  nodes: readonly NodePlacement[],
  provider = 'CUDAExecutionProvider',
): { byProvider: Record<string, number>; elsewhere: Array<{ op: string; inputTypes: string; provider: string; nodes: number }> } {
  const byProvider: Record<string, number> = {};
  const elsewhere = new Map<string, { op: string; inputTypes: string; provider: string; nodes: number }>();
  for (const n of nodes) {
    byProvider[n.provider] = (byProvider[n.provider] ?? 0) + 1;
    if (n.provider === provider) continue;
    const inputTypes = n.inputTypes.join(',');
    const key = `${n.op}|${inputTypes}|${n.provider}`;
    const entry = elsewhere.get(key) ?? { op: n.op, inputTypes, provider: n.provider, nodes: 0 };
    entry.nodes++;
    elsewhere.set(key, entry);
  }
  return {
    byProvider,
    elsewhere: [...elsewhere.values()].sort((a, b) => a.op.localeCompare(b.op) || a.inputTypes.localeCompare(b.inputTypes)),
  };
}
