/**
 * Resolves the run's frozen encoders from the config: built-in models (made from a seed) or
 * ONNX files, and the tokenizer (a tokenizer.json, or one built from the training reports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import { MissingFileError } from '../errors.js';
import { loadModel, serializeModel } from '../onnx/model-io.js';
import type { ModelProto } from '../onnx/proto.js';
import { buildResNetEncoder } from '../onnx/models/resnet.js';
import { buildViTEncoder } from '../onnx/models/vit.js';
import { buildTextTransformer } from '../onnx/models/text-transformer.js';
import { buildWordPieceTokenizer, saveTokenizerJson } from '../encoders/tokenizer/tokenizer-json.js';
import { TextTokenizer } from '../encoders/tokenizer/text-tokenizer.js';
import { ImageEncoder } from '../encoders/image-encoder.js';
import { TextEncoder } from '../encoders/text-encoder.js';
import { TrainConfigError, type TrainConfig } from './config.js';

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
  return loadOnnx(model, 'image.model');
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
  const image = await ImageEncoder.create(new Uint8Array(imageModelBytes), {
    input: config.image.input,
    output: config.image.output,
    pooling: config.image.pooling,
    batchSize: config.image.batchSize,
  });
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
    else textModel = loadOnnx(model, 'text.model');
    const textModelBytes = new Uint8Array(serializeModel(textModel));
    const text = await TextEncoder.create(model === 'builtin:transformer' ? textModel : new Uint8Array(textModelBytes), tokenizer, {
      maxLength,
      pooling: config.text.pooling,
      batchSize: config.text.batchSize,
    });
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

export function sha256(...parts: Array<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const p of parts) {
    hash.update(typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
