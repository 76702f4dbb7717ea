/**
 * Resolves the run's frozen encoders from the config: built-in models (made from a seed) or
 * ONNX files, and the tokenizer (a tokenizer.json, or one built from the training reports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import { MissingFileError } from '../errors.js';
import { loadModel, serializeModel } from '../onnx/model-io.js';
import type { ModelProto, ValueInfoProto } from '../onnx/proto.js';
import { adaptGreyInput } from '../onnx/grey-input-adapter.js';
import { checkInferenceForm } from '../onnx/inference-form.js';
import { sidecarPathOf } from '../encoders/sidecar.js';
import { buildResNetEncoder } from '../onnx/models/resnet.js';
import { buildViTEncoder } from '../onnx/models/vit.js';
import { buildTextTransformer } from '../onnx/models/text-transformer.js';
import { buildWordPieceTokenizer, saveTokenizerJson } from '../encoders/tokenizer/tokenizer-json.js';
import { TextTokenizer } from '../encoders/tokenizer/text-tokenizer.js';
import { planProviders } from '../device/session-factory.js';
import { ImageEncoder, type ImageEncoderOptions } from '../encoders/image-encoder.js';
import type { SessionOptions } from '../encoders/session-runner.js';
import { TextEncoder, type TextEncoderOptions } from '../encoders/text-encoder.js';
import { TrainConfigError, type TrainConfig } from './config.js';
import { coresForThisProcess } from '../distributed/launch.js';

export interface ResolvedEncoders {
  imageModel: ModelProto;
  imageModelBytes: Uint8Array;
  textModel?: ModelProto;
  textModelBytes?: Uint8Array;
  tokenizerJson?: string;
  tokenizerPath?: string;
  image: ImageEncoder;
  text?: TextEncoder;
  dispose(): Promise<void>;
}

function loadOnnx(path: string, key: string): ModelProto {
  const full = resolve(path);
  if (!existsSync(full)) throw new MissingFileError(full, `ONNX model (config key ${key})`);
  return loadModel(full);
}

export function resolveImageModel(config: TrainConfig): ModelProto {
  const { model, size, seed } = config.image;
  if (model === 'builtin:resnet') return buildResNetEncoder({ inChannels: 1, seed }).model;
  if (model === 'builtin:vit') return buildViTEncoder({ imageSize: size, patchSize: size % 16 === 0 ? 16 : 8, inChannels: 1, seed }).model;
  if (model.startsWith('builtin:'))
    throw new TrainConfigError(`config key image.model: unknown built-in ${model} (builtin:resnet, builtin:vit)`, { key: 'image.model' });
  const loaded = loadOnnx(model, 'image.model');
  checkInferenceForm(loaded, model);
  const input = imageInputOf(loaded, config.image.input, model);
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue === undefined || d.dimValue === null ? 0 : Number(d.dimValue),
  );
  for (const axis of [2, 3])
    if (dims[axis]! > 0 && dims[axis] !== size)
      throw new TrainConfigError(
        `config key image.size is ${size}, but ${model} takes ${dims[2]}x${dims[3]} images at input ${input.name}; set image.size to ${dims[axis]}`,
        { key: 'image.size' },
      );
  const adapter = config.image.encoderInput;
  if (adapter)
    return adaptGreyInput(loaded, {
      input: input.name!,
      mean: adapter.mean,
      std: adapter.std,
      runMean: config.image.mean,
      runStd: config.image.std,
    });
  if (dims[1]! > 1)
    throw new TrainConfigError(
      `${model} takes ${dims[1]}-channel images at input ${input.name}; radlearn feeds grey [N, 1, H, W]. Export it with scripts/export-encoder.py, ` +
        `or write its sidecar ${sidecarPathOf(model)} with the model's channels, mean and std, so the grey image is replicated and normalised as the model expects`,
      { key: 'image.model' },
    );
  return loaded;
}

/** The image input: the named one, else the model's only non-initializer input. */
function imageInputOf(model: ModelProto, name: string | undefined, where: string): ValueInfoProto {
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name));
  const found = name === undefined ? (inputs.length === 1 ? inputs[0] : undefined) : inputs.find((v) => v.name === name);
  if (!found)
    throw new TrainConfigError(
      `${where}: ${name === undefined ? `has ${inputs.length} inputs; name the image input with image.input` : `has no input ${name}`} (inputs: ${inputs.map((v) => v.name).join(', ')})`,
      { key: 'image.input' },
    );
  return found;
}

/**
 * Creates the encoders. `trainReports` feeds the tokenizer builder when text.tokenizer is
 * 'build'; the built tokenizer.json is saved into the run folder so the run is reproducible.
 */
export async function resolveEncoders(
  config: TrainConfig,
  runDir: string,
  trainReports: readonly string[] | undefined,
): Promise<ResolvedEncoders> {
  const imageModel = resolveImageModel(config);
  // own buffers (new Uint8Array copies): protobufjs returns a Node Buffer whose slice() is a view of a
  // shared slab, and the encoder transfers what it gets to its worker thread
  const imageModelBytes = new Uint8Array(serializeModel(imageModel));
  const image = await ImageEncoder.create(new Uint8Array(imageModelBytes), imageEncoderOptions(config));
  if (!trainReports) return { imageModel, imageModelBytes, image, dispose: () => image.dispose() };
  try {
    let tokenizer: TextTokenizer;
    let tokenizerJson: string;
    let tokenizerPath: string;
    if (config.text.tokenizer === 'build') {
      const json = buildWordPieceTokenizer(trainReports, { vocabSize: config.text.vocabSize });
      tokenizerPath = join(runDir, 'tokenizer.json');
      saveTokenizerJson(json, tokenizerPath);
      tokenizerJson = JSON.stringify(json);
      tokenizer = TextTokenizer.fromJSON(json);
    } else {
      tokenizerPath = resolve(config.text.tokenizer);
      tokenizer = TextTokenizer.fromFile(tokenizerPath);
      tokenizerJson = JSON.stringify(JSON.parse(readFileSync(tokenizerPath, 'utf8')));
    }
    const { model, seed, maxLength } = config.text;
    let textModel: ModelProto;
    if (model === 'builtin:transformer') textModel = buildTextTransformer({ vocabSize: tokenizer.vocabSize, maxLength, seed }).model;
    else if (model.startsWith('builtin:'))
      throw new TrainConfigError(`config key text.model: unknown built-in ${model} (builtin:transformer)`, { key: 'text.model' });
    else {
      textModel = loadOnnx(model, 'text.model');
      checkInferenceForm(textModel, model);
    }
    const textModelBytes = new Uint8Array(serializeModel(textModel));
    const text = await TextEncoder.create(
      model === 'builtin:transformer' ? textModel : new Uint8Array(textModelBytes),
      tokenizer,
      textEncoderOptions(config),
    );
    return {
      imageModel,
      imageModelBytes,
      textModel,
      textModelBytes,
      tokenizerJson,
      tokenizerPath,
      image,
      text,
      dispose: async () => {
        await image.dispose();
        await text.dispose();
      },
    };
  } catch (error) {
    await image.dispose();
    throw error;
  }
}

/** The text encoder's settings from the config (names from the model's sidecar, when it has one). */
/**
 * Worker sessions for a run's forward-only encoding (features, evaluation): on the CPU one
 * single-threaded session per core (at most 4, sharing the cores beyond that), because one
 * session's intra-op threads keep a few cores only partly busy on batches this small; a GPU
 * session stays one. Each batch is computed whole by one session, so the features are the same.
 */
export function encodingSessions(cores = coresForThisProcess()): Pick<SessionOptions, 'sessions' | 'intraOpNumThreads'> {
  if (planProviders().includes('cuda') || cores < 2) return {};
  const sessions = Math.min(cores, 4);
  return { sessions, intraOpNumThreads: Math.max(1, Math.floor(cores / sessions)) };
}

/** The run's image encoder options for forward-only encoding. */
export function imageEncoderOptions(config: TrainConfig): ImageEncoderOptions {
  const { input, output, pooling, batchSize } = config.image;
  return { input, output, pooling, batchSize, ...encodingSessions() };
}

export function textEncoderOptions(config: TrainConfig): TextEncoderOptions {
  const { maxLength, pooling, batchSize, inputIds, attentionMask, tokenTypeIds, output } = config.text;
  return {
    ...encodingSessions(),
    maxLength,
    pooling,
    batchSize,
    ...(inputIds ? { inputIds } : {}),
    ...(attentionMask ? { attentionMask } : {}),
    ...(tokenTypeIds ? { tokenTypeIds } : {}),
    ...(output ? { output } : {}),
  };
}

/** Which token tensor a text model input takes: by the configured names, else by the conventional ones. */
export function textInputRole(name: string, config: TrainConfig): 'ids' | 'mask' | 'types' | undefined {
  const { inputIds, attentionMask, tokenTypeIds } = config.text;
  if (inputIds ? name === inputIds : /input_ids/.test(name)) return 'ids';
  if (attentionMask ? name === attentionMask : /attention_mask/.test(name)) return 'mask';
  if (tokenTypeIds ? name === tokenTypeIds : /token_type/.test(name)) return 'types';
  return undefined;
}

export function sha256(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const p of parts) {
    hash.update(typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
