/**
 * Frozen-encoder features, computed once and cached on disk:
 *   image features [N, Di] for every manifest row, and
 *   sentence features [S, Dt] for every distinct candidate sentence.
 * Sentence sampling makes each step's text a different subset of a report's sentences; the
 * text feature of a sampled subset is the MEAN of its sentences' cached embeddings (so text
 * is encoded once, not once per step). This is exact for embedding-bag style encoders and an
 * approximation for contextual ones, which is the price of never re-running the text encoder.
 *
 * The cache file is keyed by a SHA-256 of the model bytes, the tokenizer, the preprocessing
 * settings, the image files (path, size, mtime) and the sentence list; any change makes a new
 * key. Files are written atomically (temp + rename).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TrainConfig } from './config.js';
import type { TrainDataset } from './dataset.js';
import { TrainDataError } from './dataset.js';
import type { ResolvedEncoders } from './encoders.js';
import { sha256 } from './encoders.js';
import { cacheDirOf, failureLines, openImageReader, prepareImages, readImages, type ImageReader, type PreparedImages } from './images.js';
import { readSafetensors, tensor, writeSafetensors } from './safetensors.js';

export interface FrozenFeatures {
  key: string;
  path: string;
  fromCache: boolean;
  imageDim: number;
  /** Row-major [N, Di]. */
  image: Float32Array;
  textDim: number;
  /** Row-major [S, Dt] (empty when the mode needs no text). */
  sentences: Float32Array;
}

export interface FeatureProgress {
  (stage: string, message: string, progress?: number): void;
}

/**
 * Images as float32 [n, 1, S, S], scaled to [0, 1] then (x - mean) / std, from `data.cache` or
 * train's own cache (images.ts). A missing or undecodable image is a TrainDataError listing them:
 * runs drop such rows before (data-check.ts), so here it means a file changed in between.
 */
export async function loadImages(
  config: TrainConfig,
  paths: readonly string[],
  progress?: FeatureProgress,
): Promise<{ data: Float32Array; dims: [number, number, number, number] }> {
  return readImages(config, paths, await prepareReadable(config, paths, progress));
}

/** prepareImages, with a missing or undecodable image a TrainDataError listing them. */
export async function prepareReadable(config: TrainConfig, paths: readonly string[], progress?: FeatureProgress): Promise<PreparedImages> {
  const prepared = await prepareImages(config, paths, { progress });
  if (prepared.failures.length > 0) {
    throw new TrainDataError(`${prepared.failures.length} image(s) could not be read:\n  ${failureLines(prepared.failures).join('\n  ')}`, {
      failures: prepared.failures.slice(0, 20),
      count: prepared.failures.length,
    });
  }
  return prepared;
}

/** Encoder batches per chunk of images read and encoded at a time. */
const BATCHES_PER_CHUNK = 4;

/**
 * Every path's image through the image encoder, read a few batches at a time into two reused
 * buffers: the next chunk is read while the encoder works on the previous one, and the whole
 * dataset never sits in memory as floats. Chunks are whole encoder batches, so the encoder runs
 * exactly the batches one call over all images would, and returns the same values.
 */
export async function encodeImages(
  encoder: ResolvedEncoders['image'],
  reader: ImageReader,
  paths: readonly string[],
  size: number,
  onChunk?: (done: number) => void,
): Promise<{ data: Float32Array; dims: number[] }> {
  const chunk = encoder.batchSize * BATCHES_PER_CHUNK;
  const per = size * size;
  const buffers = [0, 1].map(() => new Float32Array(Math.min(chunk, paths.length) * per));
  let out: Float32Array | undefined;
  let dims: number[] = [];
  const collect = (start: number, result: { data: Float32Array; dims: readonly number[] }): void => {
    const width = result.dims.slice(1).reduce((a, b) => a * b, 1);
    if (!out) {
      dims = [paths.length, ...result.dims.slice(1)];
      out = new Float32Array(paths.length * width);
    }
    out.set(result.data, start * width);
    onChunk?.(start + result.dims[0]!);
  };
  let pending: { start: number; result: Promise<{ data: Float32Array; dims: readonly number[] }> } | undefined;
  for (let start = 0, b = 0; start < paths.length; start += chunk, b ^= 1) {
    // the buffer written here was last read by the encode awaited one iteration ago
    const images = reader.read(paths.slice(start, start + chunk), buffers[b]);
    const result = encoder.encode(images);
    if (pending) collect(pending.start, await pending.result);
    pending = { start, result };
  }
  if (pending) collect(pending.start, await pending.result);
  return { data: out ?? new Float32Array(0), dims: out ? dims : [0, 0] };
}

async function fileStamps(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    const full = resolve(p);
    try {
      const s = await stat(full);
      parts.push(`${full}:${s.size}:${s.mtimeMs}`);
    } catch {
      throw new TrainDataError(`image file not found: ${full}`, { path: full });
    }
  }
  return parts.join('\n');
}

export async function computeFeatures(
  config: TrainConfig,
  dataset: TrainDataset,
  encoders: ResolvedEncoders,
  progress?: FeatureProgress,
): Promise<FrozenFeatures> {
  const withText = encoders.text !== undefined && dataset.sentences.length > 0;
  const { model: _m, batchSize: _b, ...imageSettings } = config.image;
  const key = sha256(
    'radlearn-features-v1',
    encoders.imageModelBytes,
    JSON.stringify(imageSettings),
    await fileStamps(dataset.imagePaths),
    withText ? encoders.textModelBytes! : '',
    withText ? encoders.tokenizerJson! : '',
    withText ? JSON.stringify({ maxLength: config.text.maxLength, pooling: config.text.pooling }) : '',
    withText ? dataset.sentences.join('\n') : '',
  );
  const path = join(cacheDirOf(config), `features-${key.slice(0, 24)}.safetensors`);
  if (existsSync(path)) {
    const file = await readSafetensors(path);
    const image = file.tensors.get('image');
    const sentences = file.tensors.get('sentences');
    if (file.metadata.key === key && image && sentences) {
      progress?.('features', `frozen features from cache ${path}`, 1);
      return {
        key,
        path,
        fromCache: true,
        imageDim: image.shape[1]!,
        image: image.data as Float32Array,
        textDim: sentences.shape[1] ?? 0,
        sentences: sentences.data as Float32Array,
      };
    }
  }
  progress?.('images', `preprocessing ${dataset.size} images`, 0);
  const prepared = await prepareReadable(config, dataset.imagePaths, progress);
  progress?.('features', `encoding ${dataset.size} images`, 0);
  const reader = await openImageReader(config, prepared);
  let imageOut: { data: Float32Array; dims: number[] };
  try {
    imageOut = await encodeImages(encoders.image, reader, dataset.imagePaths, config.image.size);
  } finally {
    reader.close();
  }
  if (imageOut.dims.length !== 2)
    throw new TrainDataError(
      `the image encoder returned ${JSON.stringify(imageOut.dims)}; expected [N, D] embeddings (set image.pooling or image.output)`,
      { dims: imageOut.dims },
    );
  let sentences: Float32Array = new Float32Array(0);
  let textDim = 0;
  if (withText) {
    progress?.('features', `encoding ${dataset.sentences.length} distinct sentences`, 0.5);
    const out = await encoders.text!.encode(dataset.sentences);
    if (out.dims.length !== 2)
      throw new TrainDataError(
        `the text encoder returned ${JSON.stringify(out.dims)}; expected [N, D] embeddings (set text.pooling or use an embedding output)`,
        { dims: out.dims },
      );
    sentences = out.data;
    textDim = out.dims[1]!;
  }
  for (const [name, values] of [
    ['image', imageOut.data],
    ['sentence', sentences],
  ] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new TrainDataError(`the ${name} encoder produced a non-finite value (element ${bad}); check the model and the preprocessing`, {
        element: bad,
      });
  }
  const imageDim = imageOut.dims[1]!;
  await writeSafetensors(
    path,
    {
      image: tensor(imageOut.data, [dataset.size, imageDim]),
      sentences: tensor(sentences, [withText ? dataset.sentences.length : 0, textDim]),
    },
    { key, format: 'radlearn-features-v1' },
  );
  progress?.('features', `frozen features cached at ${path}`, 1);
  return { key, path, fromCache: false, imageDim, image: imageOut.data, textDim, sentences };
}
