/**
 * exportClassifier: ONE ONNX model that maps an image to class probabilities — the (frozen)
 * image encoder, the trained head (linear, or linear-GELU-linear) and a sigmoid (multi-label)
 * or softmax (multi-class) — composed by appending standard operators to a copy of the
 * encoder graph. Any onnxruntime can serve it; no radlearn code is needed at inference.
 *
 * Inputs are what the encoder takes (radlearn's built-ins: 'image' float32 [N, 1, H, W],
 * preprocessed as in training). Outputs: 'logits' and 'probabilities' [N, labels]. The model
 * describes itself in its metadata (docs/deploy.md): 'radlearn.labels' (a JSON array of label
 * names), and when given, 'radlearn.preprocessing' (the input recipe; the image input's H and W
 * are then fixed to it, so onnxruntime refuses other sizes), 'radlearn.thresholds' (per-label
 * decision thresholds chosen on validation), 'radlearn.version' and 'radlearn.configHash'.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { attr } from '../onnx/attributes.js';
import { toAttributeProto } from '../onnx/attributes.js';
import { cloneModel, loadModel, saveModel } from '../onnx/model-io.js';
import { type ModelProto, type NodeProto, dtypeToOnnx, onnx } from '../onnx/proto.js';
import { makeTensorProto } from '../onnx/tensor.js';
import { radlearnVersion } from '../package-info.js';
import { PREPROCESSING_METADATA_KEY, type ClassifierPreprocessing } from './preprocessing.js';

export interface ClassifierLayer {
  /** [outDim, inDim] row-major (PyTorch nn.Linear layout). */
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

export interface ExportClassifierOptions {
  /** The image encoder (ModelProto or .onnx path). */
  encoder: ModelProto | string;
  /** Encoder output holding the [N, D] embedding (default: its first output). */
  encoderOutput?: string;
  /** The head's layers in order; GELU (erf form) between consecutive layers. */
  layers: readonly ClassifierLayer[];
  activation?: 'sigmoid' | 'softmax';
  labels: readonly string[];
  /** Where to write the model (atomic). */
  out: string;
  /** The input recipe; fixes the image input to [batch, channels, height, width]. */
  preprocessing?: ClassifierPreprocessing;
  /** Per-label decision thresholds on the probabilities. */
  thresholds?: ClassifierThresholds;
  /** The training config's hash (src/train/config-hash.ts). */
  configHash?: string;
}

/** Decision thresholds: predict a label positive when its probability >= its threshold. */
export interface ClassifierThresholds {
  /** What the threshold maximised on the validation split. */
  metric: 'f1' | 'mcc' | 'youden';
  chosenOn: 'validation';
  /** By label name; null where validation could not choose one (a label without positives or negatives there). */
  perLabel: Record<string, number | null>;
}

export interface ExportedClassifier {
  path: string;
  model: ModelProto;
  inputs: string[];
  outputs: ['logits', 'probabilities'];
}

export const LABELS_METADATA_KEY = 'radlearn.labels';
export const THRESHOLDS_METADATA_KEY = 'radlearn.thresholds';
export const VERSION_METADATA_KEY = 'radlearn.version';
export const CONFIG_HASH_METADATA_KEY = 'radlearn.configHash';

export function composeClassifier(options: Omit<ExportClassifierOptions, 'out'>): ModelProto {
  const model = cloneModel(typeof options.encoder === 'string' ? loadModel(resolve(options.encoder)) : options.encoder);
  const graph = model.graph!;
  const outputs = graph.output ?? [];
  const embedding = options.encoderOutput ?? outputs[0]?.name;
  if (!embedding || !outputs.some((o) => o.name === embedding)) {
    throw new InvalidArgumentError(
      `exportClassifier: encoder has no output ${String(embedding)} (outputs: ${outputs.map((o) => o.name).join(', ')})`,
    );
  }
  const layers = options.layers;
  if (layers.length === 0) throw new InvalidArgumentError('exportClassifier: the head has no layers');
  layers.forEach((l, i) => {
    if (l.weight.length !== l.inDim * l.outDim || l.bias.length !== l.outDim)
      throw new ShapeError(
        `exportClassifier: layer ${i} weight ${l.weight.length} / bias ${l.bias.length} values do not fit [${l.outDim}, ${l.inDim}]`,
      );
    if (i > 0 && layers[i - 1]!.outDim !== l.inDim)
      throw new ShapeError(`exportClassifier: layer ${i} takes ${l.inDim} inputs but layer ${i - 1} gives ${layers[i - 1]!.outDim}`);
  });
  const classes = layers[layers.length - 1]!.outDim;
  if (options.labels.length !== classes)
    throw new ShapeError(`exportClassifier: ${options.labels.length} labels for a head with ${classes} outputs`);

  const taken = new Set<string>([
    ...(graph.node ?? []).flatMap((n) => n.output ?? []),
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
  ]);
  for (const name of ['logits', 'probabilities'])
    if (taken.has(name)) throw new InvalidArgumentError(`exportClassifier: the encoder already uses the name ${name}`);
  const nodes: NodeProto[] = [];
  let counter = 0;
  const fresh = (hint: string): string => {
    let name: string;
    do name = `classifier/${hint}_${counter++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
  const node = (opType: string, inputs: string[], output: string, attributes: Record<string, ReturnType<typeof attr.int>> = {}): string => {
    nodes.push(
      onnx.NodeProto.create({
        opType,
        name: fresh(opType),
        input: inputs,
        output: [output],
        attribute: Object.entries(attributes).map(([k, v]) => toAttributeProto(k, v)),
      }),
    );
    return output;
  };
  const constant = (name: string, data: Float32Array, dims: number[]): string => {
    graph.initializer = [...(graph.initializer ?? []), makeTensorProto(name, data, dims)];
    taken.add(name);
    return name;
  };

  let x = embedding;
  layers.forEach((l, i) => {
    const w = constant(`classifier.fc${i + 1}.weight`, l.weight, [l.outDim, l.inDim]);
    const b = constant(`classifier.fc${i + 1}.bias`, l.bias, [l.outDim]);
    const last = i === layers.length - 1;
    x = node('Gemm', [x, w, b], last ? 'logits' : fresh('linear'), { transB: attr.int(1) });
    if (!last) {
      // GELU, erf form: 0.5 * x * (1 + erf(x / sqrt(2)))
      const half = constant(fresh('half'), new Float32Array([0.5]), []);
      const one = constant(fresh('one'), new Float32Array([1]), []);
      const rsqrt2 = constant(fresh('rsqrt2'), new Float32Array([Math.SQRT1_2]), []);
      const erf = node('Erf', [node('Mul', [x, rsqrt2], fresh('scaled'))], fresh('erf'));
      x = node('Mul', [node('Mul', [x, half], fresh('half_x')), node('Add', [erf, one], fresh('one_plus'))], fresh('gelu'));
    }
  });
  if ((options.activation ?? 'sigmoid') === 'sigmoid') node('Sigmoid', ['logits'], 'probabilities');
  else node('Softmax', ['logits'], 'probabilities', { axis: attr.int(-1) });
  graph.node = [...(graph.node ?? []), ...nodes];
  const out = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: dtypeToOnnx('float32'), shape: { dim: [{ dimParam: 'batch' }, { dimValue: classes }] } } },
    });
  graph.output = [out('logits'), out('probabilities')];
  graph.name = `${graph.name ?? 'encoder'}_classifier`;
  if (options.preprocessing) fixInputShape(model, options.preprocessing);
  if (options.thresholds) {
    const keys = Object.keys(options.thresholds.perLabel);
    if (keys.length !== options.labels.length || options.labels.some((l) => !(l in options.thresholds!.perLabel)))
      throw new InvalidArgumentError(`exportClassifier: thresholds name ${keys.join(', ')}; the labels are ${options.labels.join(', ')}`);
  }
  const entries: Array<[string, string | undefined]> = [
    [LABELS_METADATA_KEY, JSON.stringify(options.labels)],
    [PREPROCESSING_METADATA_KEY, options.preprocessing && JSON.stringify(options.preprocessing)],
    [THRESHOLDS_METADATA_KEY, options.thresholds && JSON.stringify(options.thresholds)],
    [VERSION_METADATA_KEY, radlearnVersion()],
    [CONFIG_HASH_METADATA_KEY, options.configHash],
  ];
  const ours = new Set(entries.map(([k]) => k));
  model.metadataProps = [
    ...(model.metadataProps ?? []).filter((p) => !ours.has(p.key ?? '')),
    ...entries.flatMap(([key, value]) => (value === undefined ? [] : [onnx.StringStringEntryProto.create({ key, value })])),
  ];
  return model;
}

/** The image input becomes [batch, channels, H, W] with numeric C, H, W, so onnxruntime refuses any other size. */
function fixInputShape(model: ModelProto, p: ClassifierPreprocessing): void {
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = (graph.input ?? []).find((v) => v.name === p.inputName && !initializers.has(v.name));
  if (!input)
    throw new InvalidArgumentError(
      `exportClassifier: preprocessing names the input ${p.inputName}; the encoder's inputs are ${(graph.input ?? []).map((v) => v.name).join(', ')}`,
    );
  const dims = input.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== 4)
    throw new ShapeError(
      `exportClassifier: encoder input ${p.inputName} has ${dims?.length ?? 'no'} dimensions; expected [batch, channels, H, W]`,
    );
  const want = [p.channels, p.height, p.width];
  want.forEach((value, i) => {
    const dim = dims[i + 1]!;
    const raw = dim.dimValue;
    const fixed = raw === undefined || raw === null ? 0 : typeof raw === 'number' ? raw : raw.toNumber();
    if (fixed > 0 && fixed !== value)
      throw new ShapeError(
        `exportClassifier: encoder input ${p.inputName} dimension ${i + 1} is ${fixed}; the preprocessing gives ${value}`,
      );
    dims[i + 1] = onnx.TensorShapeProto.Dimension.create({ dimValue: value });
  });
}

export function exportClassifier(options: ExportClassifierOptions): ExportedClassifier {
  const model = composeClassifier(options);
  const path = resolve(options.out);
  mkdirSync(dirname(path), { recursive: true });
  saveModel(model, path);
  return { path, model, inputs: (model.graph!.input ?? []).map((v) => v.name ?? ''), outputs: ['logits', 'probabilities'] };
}
