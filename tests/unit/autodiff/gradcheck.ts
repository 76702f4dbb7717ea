/**
 * Finite-difference gradient checks: the training graph's gradient of L = sum_k <w_k, y_k> (random
 * projections w_k of the outputs) against central differences of L through forward runs of the
 * original model in onnxruntime-node.
 */
import * as ort from 'onnxruntime-node';
import { type Value, GraphBuilder } from '../../../src/onnx/graph-builder.js';
import { type ModelProto, type DType as OnnxDType, onnx } from '../../../src/onnx/proto.js';
import { cloneModel, serializeModel } from '../../../src/onnx/model-io.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { parametersAsInputs } from '../../../src/onnx/parameters.js';
import { readFloat32 } from '../../../src/onnx/tensor.js';
import { Sfc32, type RandomStream } from '../../../src/random/index.js';

export type FloatArray = Float32Array | Float64Array;

export interface CheckInput {
  data: FloatArray | BigInt64Array;
  dims: number[];
  /** Declared dims (symbolic names allowed); default: dims; null: unknown rank (no shape at all). */
  declared?: (number | string)[] | null;
  /** Whether to check its gradient (float inputs only; default true for floats). */
  check?: boolean;
}

export interface CheckResult {
  /** ||analytic - numeric|| / ||numeric|| over the checked entries. */
  relativeError: number;
  checked: number;
  numericNorm: number;
}

export function randomArray(
  rng: RandomStream,
  n: number,
  dtype: 'float32' | 'float64',
  transform: (v: number) => number = (v) => v,
): FloatArray {
  const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = transform(rng.normal());
  return out;
}

function tensor(dtype: OnnxDType, data: FloatArray | BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor(dtype as ort.Tensor.Type, data as ort.Tensor.DataType, dims);
}

function dtypeOf(data: FloatArray | BigInt64Array): OnnxDType {
  return data instanceof Float64Array ? 'float64' : data instanceof Float32Array ? 'float32' : 'int64';
}

/** Builds a one-op (or few-op) model over the given inputs. */
export function buildModel(
  inputs: Record<string, CheckInput>,
  build: (g: GraphBuilder, v: Record<string, Value>) => Value | Value[],
): ModelProto {
  const g = new GraphBuilder('check', { seed: 1 });
  const values: Record<string, Value> = {};
  for (const [name, x] of Object.entries(inputs)) values[name] = g.input(name, dtypeOf(x.data), x.declared ?? x.dims);
  const out = build(g, values);
  (Array.isArray(out) ? out : [out]).forEach((v, i) => g.output(v, `y${i}`));
  const model = g.build();
  for (const info of model.graph?.input ?? [])
    if (inputs[info.name ?? '']?.declared === null && info.type?.tensorType) info.type.tensorType.shape = null;
  return model;
}

interface Probe {
  value: number;
  /** Which side of every ReLU kink and which MaxPool argmax the run took. */
  pattern: string;
}

/**
 * Central difference. float64: one step. float32: a step small enough to avoid float32 rounding
 * can still cross a ReLU or MaxPool kink, where the function is not differentiable; so the step is
 * halved until the runs at +-step and +-step/2 take the same kink pattern as the unperturbed point,
 * and those two are combined by a Richardson step (4 D(h/2) - D(h)) / 3 that cancels the h^2 term.
 */
async function centralDifference(at: (delta: number) => Promise<Probe>, h: number, float32: boolean, base: string): Promise<number> {
  const d = async (step: number): Promise<{ value: number; smooth: boolean }> => {
    const up = await at(step);
    const down = await at(-step);
    return { value: (up.value - down.value) / (2 * step), smooth: up.pattern === base && down.pattern === base };
  };
  if (!float32) return (await d(h)).value;
  let coarse = await d(h);
  for (let k = 1; k < 10; k++) {
    const fine = await d(h / 2 ** k);
    if (coarse.smooth && fine.smooth) return (4 * fine.value - coarse.value) / 3;
    coarse = fine;
  }
  return coarse.value;
}

/** The model with every ReLU input and MaxPool argmax as extra outputs (kink detection). */
function withKinkProbes(model: ModelProto): { model: ModelProto; probes: string[] } {
  const copy = cloneModel(model);
  const graph = copy.graph!;
  const probes: string[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType === 'Relu' && !probes.includes(node.input![0]!)) probes.push(node.input![0]!);
    if (node.opType === 'MaxPool') {
      if (!node.output![1]) node.output = [node.output![0]!, `${node.output![0]!}__probe_indices`];
      probes.push(node.output![1]!);
    }
  }
  const declared = new Set((graph.output ?? []).map((o) => o.name));
  for (const name of probes) if (!declared.has(name)) graph.output!.push(onnx.ValueInfoProto.create({ name }));
  return { model: copy, probes };
}

export async function checkOpGradients(
  inputs: Record<string, CheckInput>,
  build: (g: GraphBuilder, v: Record<string, Value>) => Value | Value[],
  o: { step?: number; maxEntries?: number; seed?: number } = {},
): Promise<CheckResult> {
  const model = buildModel(inputs, build);
  const wrt = Object.entries(inputs)
    .filter(([, x]) => !(x.data instanceof BigInt64Array) && x.check !== false)
    .map(([n]) => n);
  return checkModelGradients(model, inputs, { ...o, inputsGrad: wrt });
}

/** Gradient check of a whole model: data inputs fixed, parameters (a random subset) and/or chosen inputs perturbed. */
export async function checkModelGradients(
  model: ModelProto,
  inputs: Record<string, CheckInput>,
  o: { step?: number; maxEntries?: number; seed?: number; inputsGrad?: string[]; parameters?: RegExp | string[]; outputs?: string[] } = {},
): Promise<CheckResult> {
  const rng = new Sfc32(o.seed ?? 7);
  const training = differentiate(model, { parameters: o.parameters ?? [], inputsGrad: o.inputsGrad ?? [], outputs: o.outputs });
  const forward = await ort.InferenceSession.create(serializeModel(model));
  const backward = await ort.InferenceSession.create(serializeModel(training.model));
  try {
    // The forward model takes the checked parameters as inputs, so they can be perturbed per run.
    const layout = training.layout;
    const flat = new Float32Array(layout.size);
    const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
    for (const p of layout.parameters) flat.set(readFloat32(inits.get(p.name)!), p.offset);
    const probed = withKinkProbes(parametersAsInputs(model, layout));
    const paramForward = await ort.InferenceSession.create(serializeModel(probed.model));

    const feeds = (values: Record<string, CheckInput>, params: Float32Array): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = {};
      for (const [name, x] of Object.entries(values)) f[name] = tensor(dtypeOf(x.data), x.data, x.dims);
      for (const p of layout.parameters) f[p.name] = tensor('float32', params.subarray(p.offset, p.offset + p.size), p.shape);
      return f;
    };
    const outs = await paramForward.run(feeds(inputs, flat));
    const outputNames = Object.keys(training.outputGradInputs);
    const weights: Record<string, FloatArray> = {};
    for (const name of outputNames) {
      const y = outs[name]!;
      weights[name] = randomArray(rng, y.data.length, y.type === 'float64' ? 'float64' : 'float32');
    }
    const loss = async (values: Record<string, CheckInput>, params: Float32Array): Promise<Probe> => {
      const r = await paramForward.run(feeds(values, params));
      let s = 0;
      for (const name of outputNames) {
        const y = r[name]!.data as FloatArray;
        const w = weights[name]!;
        for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
      }
      const pattern = probed.probes
        .map((name) => {
          const t = r[name]!;
          return t.type === 'int64'
            ? Array.from(t.data as BigInt64Array, String).join(',')
            : Array.from(t.data as FloatArray, (v) => (v > 0 ? '1' : '0')).join('');
        })
        .join('|');
      return { value: s, pattern };
    };
    const basePattern = (await loss(inputs, flat)).pattern;

    const trainFeeds = feeds(inputs, flat);
    for (const name of outputNames)
      trainFeeds[training.outputGradInputs[name]!] = tensor(dtypeOf(weights[name]!), weights[name]!, outs[name]!.dims);
    const result = await backward.run(trainFeeds);

    let diff = 0;
    let norm = 0;
    let checked = 0;
    const maxEntries = o.maxEntries ?? 24;
    const pick = (n: number): number[] => {
      if (n <= maxEntries) return Array.from({ length: n }, (_, i) => i);
      const chosen = new Set<number>();
      while (chosen.size < maxEntries) chosen.add(Math.floor(rng.next() * n));
      return [...chosen];
    };
    const accumulate = (analytic: number, numeric: number): void => {
      diff += (analytic - numeric) ** 2;
      norm += numeric ** 2;
      checked++;
    };
    for (const [name, gradName] of Object.entries(training.inputGradOutputs)) {
      const x = inputs[name]!;
      const data = x.data as FloatArray;
      const analytic = result[gradName]!.data as FloatArray;
      const h = o.step ?? (data instanceof Float64Array ? 1e-5 : 1e-2);
      for (const i of pick(data.length)) {
        const saved = data[i]!;
        const at = async (delta: number): Promise<Probe> => {
          data[i] = saved + delta;
          const v = await loss(inputs, flat);
          data[i] = saved;
          return v;
        };
        accumulate(analytic[i]!, await centralDifference(at, h, data instanceof Float32Array, basePattern));
      }
    }
    for (const [k, p] of layout.parameters.entries()) {
      const analytic = result[training.parameterGradOutputs[k]!]!.data as Float32Array;
      const h = o.step ?? 1e-2;
      for (const i of pick(p.size)) {
        const saved = flat[p.offset + i]!;
        const at = async (delta: number): Promise<Probe> => {
          flat[p.offset + i] = saved + delta;
          const v = await loss(inputs, flat);
          flat[p.offset + i] = saved;
          return v;
        };
        const numeric = await centralDifference(at, h, true, basePattern);
        accumulate(analytic[i]!, numeric);
        if (process.env.GRADCHECK_DEBUG) console.log(p.name, i, analytic[i], numeric);
      }
    }
    await paramForward.release();
    return { relativeError: Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30), checked, numericNorm: Math.sqrt(norm) };
  } finally {
    await forward.release();
    await backward.release();
  }
}
