import { ParameterLayoutError } from './errors.js';
import { TRAINABLE_METADATA_KEY } from './graph-builder.js';
import { cloneModel } from './model-io.js';
import { type ModelProto, type TensorProto, onnx } from './proto.js';
import { type TensorLike, makeTensorProto, readFloat32, tensorDims } from './tensor.js';

/** One parameter's place in the flat buffer. */
export interface ParameterInfo {
  /** Initializer name in the model (and graph input name once parameters are inputs). */
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset, in float32 elements, into the flat buffer. */
  readonly offset: number;
  readonly size: number;
}

/** Where every parameter lives in one flat Float32Array; parameters are contiguous, in initializer order. */
export interface ParameterLayout {
  readonly parameters: readonly ParameterInfo[];
  /** Total float32 elements. */
  readonly size: number;
}

/** Which initializers are parameters: explicit names, a pattern on names, or a predicate. */
export type ParameterSelector = readonly string[] | RegExp | ((name: string) => boolean);

const FLOAT32 = onnx.TensorProto.DataType.FLOAT;
/** BatchNorm running statistics are state, not parameters, in PyTorch exports. */
const NON_PARAMETER = /running_(mean|var)|num_batches_tracked/;

/**
 * The parameter layout of a model. Without `select`: the trainable list radlearn's builder
 * stored in the model's metadata, or, for models from elsewhere, every float32 initializer that
 * is not a BatchNorm running statistic.
 */
export function listParameters(model: ModelProto, options: { select?: ParameterSelector } = {}): ParameterLayout {
  const inits = model.graph?.initializer ?? [];
  const select = resolveSelector(model, options.select);
  const parameters: ParameterInfo[] = [];
  let offset = 0;
  for (const t of inits) {
    const name = t.name ?? '';
    if (!select(name)) continue;
    if (t.dataType !== FLOAT32) {
      if (options.select)
        throw new ParameterLayoutError(`initializer ${name} was selected as a parameter but is not float32 (ONNX type ${t.dataType})`, {
          name,
        });
      continue;
    }
    const shape = tensorDims(t);
    const size = shape.reduce((a, b) => a * b, 1);
    parameters.push({ name, shape, offset, size });
    offset += size;
  }
  if (Array.isArray(options.select)) {
    const found = new Set(parameters.map((p) => p.name));
    const missing = (options.select as readonly string[]).filter((n) => !found.has(n));
    if (missing.length > 0) throw new ParameterLayoutError(`no float32 initializer named ${missing.join(', ')} in the model`, { missing });
  }
  return { parameters, size: offset };
}

function resolveSelector(model: ModelProto, select: ParameterSelector | undefined): (name: string) => boolean {
  if (typeof select === 'function') return select;
  if (select instanceof RegExp) return (n) => select.test(n);
  if (select) {
    const set = new Set(select);
    return (n) => set.has(n);
  }
  const stored = model.metadataProps?.find((p) => p.key === TRAINABLE_METADATA_KEY)?.value;
  if (stored) {
    const set = new Set(JSON.parse(stored) as string[]);
    return (n) => set.has(n);
  }
  return (n) => !NON_PARAMETER.test(n);
}

function initializerMap(model: ModelProto): Map<string, TensorProto> {
  return new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
}

/** Copies the parameters' current values out of the model into one new flat buffer. */
export function readParameters(model: ModelProto, layout: ParameterLayout): Float32Array {
  const flat = new Float32Array(layout.size);
  const inits = initializerMap(model);
  for (const p of layout.parameters) {
    const t = inits.get(p.name);
    if (!t)
      throw new ParameterLayoutError(`parameter ${p.name} is not an initializer of this model (was the layout made from another model?)`, {
        name: p.name,
      });
    flat.set(readFloat32(t), p.offset);
  }
  return flat;
}

function checkFlat(layout: ParameterLayout, flat: Float32Array): void {
  if (flat.length !== layout.size) {
    throw new ParameterLayoutError(`flat parameter buffer has ${flat.length} elements, the layout needs ${layout.size}`, {
      expected: layout.size,
      actual: flat.length,
    });
  }
}

/** A copy of the model whose parameter initializers hold the values in `flat` (e.g. after training). */
export function writeParameters(model: ModelProto, layout: ParameterLayout, flat: Float32Array): ModelProto {
  checkFlat(layout, flat);
  const copy = cloneModel(model);
  const byName = new Map(layout.parameters.map((p) => [p.name, p]));
  const graph = copy.graph!;
  graph.initializer = (graph.initializer ?? []).map((t) => {
    const p = byName.get(t.name ?? '');
    return p ? makeTensorProto(p.name, flat.subarray(p.offset, p.offset + p.size), p.shape) : t;
  });
  return copy;
}

/**
 * A copy of the model in which the layout's parameters are graph inputs instead of initializers,
 * so a session reads them from feeds (views into one flat buffer, see parameterFeeds).
 */
export function parametersAsInputs(model: ModelProto, layout: ParameterLayout): ModelProto {
  const copy = cloneModel(model);
  const graph = copy.graph!;
  const names = new Set(layout.parameters.map((p) => p.name));
  graph.initializer = (graph.initializer ?? []).filter((t) => !names.has(t.name ?? ''));
  graph.input = [
    ...(graph.input ?? []).filter((i) => !names.has(i.name ?? '')),
    ...layout.parameters.map((p) =>
      onnx.ValueInfoProto.create({
        name: p.name,
        type: { tensorType: { elemType: FLOAT32, shape: { dim: p.shape.map((d) => ({ dimValue: d })) } } },
      }),
    ),
  ];
  return copy;
}

/**
 * Feeds for a model made by parametersAsInputs: one `subarray` view per parameter, no copies.
 * onnxruntime-node reads the right slice of a view; views over a SharedArrayBuffer are rejected.
 */
export function parameterFeeds(layout: ParameterLayout, flat: Float32Array): Record<string, TensorLike<Float32Array>> {
  checkFlat(layout, flat);
  if (typeof SharedArrayBuffer !== 'undefined' && flat.buffer instanceof SharedArrayBuffer) {
    throw new ParameterLayoutError(
      'the flat parameter buffer is backed by a SharedArrayBuffer, which onnxruntime-node rejects; use an ordinary ArrayBuffer',
    );
  }
  const feeds: Record<string, TensorLike<Float32Array>> = {};
  for (const p of layout.parameters) feeds[p.name] = { type: 'float32', data: flat.subarray(p.offset, p.offset + p.size), dims: p.shape };
  return feeds;
}
