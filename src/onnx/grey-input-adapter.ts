/**
 * Lets a model trained on 3-channel (or differently normalised) images take radlearn's grey
 * input. radlearn feeds every image encoder float32 [N, 1, H, W] normalised as (x − m)/s with
 * the run's scalar m, s (image.mean, image.std), x in [0, 1]. A PyTorch encoder expects
 * [N, C, H, W] normalised per channel: (x − mean_c)/std_c. Two broadcasting nodes in front of the
 * graph turn one into the other, replicating the grey channel:
 *
 *   y_c = (g − a_c) / b_c,  a_c = (mean_c − m) / s,  b_c = std_c / s
 *
 * since g = (x − m)/s gives x = g·s + m and (x − mean_c)/std_c = (g − a_c)/(b_c). The input keeps
 * its name and becomes [N, 1, H, W]; the constants are Constant nodes, so they never become
 * trainable parameters, and the adapter travels inside every model made from this one (training
 * graphs, the exported classifier).
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { attr, toAttributeProto } from './attributes.js';
import { cloneModel } from './model-io.js';
import { onnx, type ModelProto } from './proto.js';
import { makeTensorProto } from './tensor.js';

export interface GreyInputAdapter {
  /** The image input to adapt. */
  input: string;
  /** The model's per-channel normalisation (its sidecar's mean and std); its channel count is theirs. */
  mean: readonly number[];
  std: readonly number[];
  /** The run's own scalar normalisation of the grey input. */
  runMean: number;
  runStd: number;
}

export const ADAPTER_METADATA_KEY = 'radlearn.greyInputAdapter';

export function adaptGreyInput(source: ModelProto, options: GreyInputAdapter): ModelProto {
  const { input, mean, std, runMean, runStd } = options;
  const channels = mean.length;
  if (channels < 1 || std.length !== channels)
    throw new InvalidArgumentError(`grey input adapter: ${mean.length} means and ${std.length} stds; expected one of each per channel`);
  if (!(runStd > 0) || std.some((v) => !(v > 0))) throw new InvalidArgumentError('grey input adapter: every std must be > 0');
  const model = cloneModel(source);
  const graph = model.graph!;
  const value = (graph.input ?? []).find((v) => v.name === input);
  if (!value) throw new InvalidArgumentError(`grey input adapter: the model has no input ${input}`);
  const dims = value.type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) throw new ShapeError(`grey input adapter: input ${input} has rank ${dims.length}; expected [N, C, H, W]`);
  const declared = dims[1]?.dimValue;
  const c = declared === undefined || declared === null ? 0 : Number(declared);
  if (c > 0 && c !== channels)
    throw new ShapeError(`grey input adapter: input ${input} has ${c} channels; the normalisation gives ${channels}`, {
      input,
      channels: c,
    });

  const taken = new Set<string>([
    ...(graph.node ?? []).flatMap((n) => [...(n.output ?? []), ...(n.input ?? [])]),
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
  ]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const inner = fresh(`${input}/channels`);
  // every consumer of the input now reads the adapted tensor
  for (const node of graph.node ?? []) node.input = (node.input ?? []).map((n) => (n === input ? inner : n));
  const shift = fresh(`${input}/adapter_shift`);
  const scale = fresh(`${input}/adapter_scale`);
  const centred = fresh(`${input}/adapter_centred`);
  const constant = (name: string, values: number[]) =>
    onnx.NodeProto.create({
      opType: 'Constant',
      name,
      output: [name],
      attribute: [toAttributeProto('value', attr.tensor(makeTensorProto(name, Float32Array.from(values), [1, channels, 1, 1])))],
    });
  const adapter = [
    constant(
      shift,
      mean.map((m) => (m - runMean) / runStd),
    ),
    constant(
      scale,
      std.map((s) => s / runStd),
    ),
    onnx.NodeProto.create({ opType: 'Sub', name: centred, input: [input, shift], output: [centred] }),
    onnx.NodeProto.create({ opType: 'Div', name: inner, input: [centred, scale], output: [inner] }),
  ];
  graph.node = [...adapter, ...(graph.node ?? [])];
  dims[1] = onnx.TensorShapeProto.Dimension.create({ dimValue: 1 });
  const note = JSON.stringify({ input, channels, mean, std, runMean, runStd });
  model.metadataProps = [
    ...(model.metadataProps ?? []).filter((p) => p.key !== ADAPTER_METADATA_KEY),
    onnx.StringStringEntryProto.create({ key: ADAPTER_METADATA_KEY, value: note }),
  ];
  return model;
}
