/**
 * What it takes to run a training graph, without the graph: the parameter layout and the names of
 * its data inputs, upstream-gradient inputs and gradient outputs. Plain data, so it crosses to a
 * worker thread; the in-process TrainingSession and the chunk workers build their feeds and
 * fetches with the same two functions.
 */
import * as ort from 'onnxruntime-node';
import { InvalidArgumentError } from '../../errors.js';
import { parameterFeeds, type ParameterLayout } from '../parameters.js';
import type { TensorLike } from '../tensor.js';
import type { TrainingGraph } from './differentiate.js';

export interface TrainingGraphIo {
  layout: ParameterLayout;
  dataInputs: string[];
  outputGradInputs: Record<string, string>;
  forwardOutputs: string[];
  parameterGradOutputs: string[];
  inputGradOutputs: Record<string, string>;
}

export function trainingGraphIo(graph: TrainingGraph): TrainingGraphIo {
  const { layout, dataInputs, outputGradInputs, forwardOutputs, parameterGradOutputs, inputGradOutputs } = graph;
  return {
    layout: { size: layout.size, parameters: layout.parameters.map((p) => ({ ...p, shape: [...p.shape] })) },
    dataInputs: [...dataInputs],
    outputGradInputs: { ...outputGradInputs },
    forwardOutputs: [...forwardOutputs],
    parameterGradOutputs: [...parameterGradOutputs],
    inputGradOutputs: { ...inputGradOutputs },
  };
}

export type Feed = TensorLike | ort.Tensor;

export function toTensor(name: string, v: Feed): ort.Tensor {
  if (v instanceof ort.Tensor) return v;
  if (!v || !v.data || !Array.isArray(v.dims))
    throw new InvalidArgumentError(`feed ${name} must be a tensor ({ type, data, dims })`, { name });
  return new ort.Tensor(v.type as ort.Tensor.Type, v.data as ort.Tensor.DataType, v.dims);
}

/**
 * Feeds onnxruntime can read. onnxruntime refuses shared memory, so a feed in a SharedArrayBuffer
 * (a batch the main thread packed once for every worker) is copied into a buffer this holder keeps
 * per input name and reuses run after run: one copy and no allocation per chunk. Each feed is valid
 * until the next call for the same name.
 */
export class PrivateFeeds {
  private readonly buffers = new Map<string, TensorLike['data']>();

  of(feeds: Record<string, Feed>): Record<string, Feed> {
    const out: Record<string, Feed> = {};
    for (const [name, v] of Object.entries(feeds)) out[name] = this.one(name, v);
    return out;
  }

  private one(name: string, feed: Feed): Feed {
    if (feed instanceof ort.Tensor) return feed;
    const v = feed as TensorLike;
    if (!(v.data.buffer instanceof SharedArrayBuffer)) return v;
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.constructor !== v.data.constructor || buffer.length < v.data.length) {
      const Typed = v.data.constructor as new (length: number) => TensorLike['data'];
      buffer = new Typed(v.data.length);
      this.buffers.set(name, buffer);
    }
    const view = buffer.subarray(0, v.data.length);
    (view as Float32Array).set(v.data as Float32Array);
    return { type: v.type, data: view, dims: v.dims };
  }
}

/** An onnxruntime result as a plain tensor (what crosses threads and what callers keep). */
export function fromOrtTensor(t: ort.Tensor): TensorLike {
  return { type: t.type as TensorLike['type'], data: t.data as TensorLike['data'], dims: [...t.dims] };
}

/** The graph's feeds: parameter views of `parameters`, the data inputs, and each output's upstream gradient. */
export function trainingFeeds(
  io: TrainingGraphIo,
  parameters: Float32Array,
  inputs: Record<string, Feed>,
  outputGrads: Record<string, Feed>,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(parameterFeeds(io.layout, parameters))) feeds[name] = toTensor(name, t);
  for (const name of io.dataInputs) {
    const v = inputs[name];
    if (!v) throw new InvalidArgumentError(`missing input ${name} (the model's inputs: ${io.dataInputs.join(', ')})`, { name });
    feeds[name] = toTensor(name, v);
  }
  for (const [output, input] of Object.entries(io.outputGradInputs)) {
    const v = outputGrads[output];
    if (!v) throw new InvalidArgumentError(`missing upstream gradient for output ${output}`, { name: output });
    feeds[input] = toTensor(input, v);
  }
  return feeds;
}

/** The forward-only graph's feeds (a model made by parametersAsInputs): parameter views of `parameters` and the inputs. */
export function forwardFeeds(layout: ParameterLayout, parameters: Float32Array, inputs: Record<string, Feed>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries({ ...parameterFeeds(layout, parameters), ...inputs })) feeds[name] = toTensor(name, t);
  return feeds;
}

/** Pre-allocated gradient outputs: onnxruntime writes each parameter's gradient into its view of `target`. */
export function gradientFetches(io: TrainingGraphIo, target: Float32Array): Record<string, ort.Tensor> {
  const fetches: Record<string, ort.Tensor> = {};
  io.layout.parameters.forEach((p, i) => {
    fetches[io.parameterGradOutputs[i]!] = new ort.Tensor('float32', target.subarray(p.offset, p.offset + p.size), p.shape);
  });
  return fetches;
}
