/**
 * A finished `contrastive` run opened for inference: its frozen image and text encoders, its
 * tokenizer, and the projection heads of its newest intact checkpoint (the parameter average
 * when the run kept one, as its own evaluation does), so images and sentences land in the shared
 * embedding space the run's zero-shot evaluation scores in.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, MissingFileError, ShapeError } from '../errors.js';
import { classifierPreprocessing, preprocessForClassifier } from '../export/preprocessing.js';
import { loadLatestCheckpoint } from '../train/checkpoint.js';
import { loadTrainConfig, type TrainConfig } from '../train/config.js';
import { resolveEncoders, type ResolvedEncoders } from '../train/encoders.js';
import { Head } from '../train/heads.js';
import { trainCacheSettings } from '../train/images.js';
import { resolveTrainOps } from '../train/ops.js';
import { FlatParameters } from '../train/parameters.js';
import { ContrastiveHeads } from '../train/tasks/contrastive-heads.js';

export interface ContrastiveRun {
  runDir: string;
  config: TrainConfig;
  /** The checkpoint's step. */
  step: number;
  /** Whether the heads are the run's parameter average (optim.ema). */
  average: boolean;
  /** Size of the shared embedding space (head.projectionDim). */
  dim: number;
  /** Images (DICOM, PNG or JPEG files, preprocessed as the run's were) as unit vectors, [n, dim]. */
  embedImages(paths: readonly string[]): Promise<Float32Array>;
  /** Texts as unit vectors, [n, dim]. */
  embedTexts(texts: readonly string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

function normaliseRows(x: Float32Array, dim: number): Float32Array {
  for (let i = 0; i < x.length; i += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[i + k]! * x[i + k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k++) x[i + k]! *= inv;
  }
  return x;
}

/** Opens the run in `runDir` (a `radlearn train` folder of mode contrastive). */
export async function loadContrastiveRun(runDir: string): Promise<ContrastiveRun> {
  const dir = resolve(runDir);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new MissingFileError(configPath, 'run config');
  const config = await loadTrainConfig(configPath);
  if (config.mode !== 'contrastive')
    throw new InvalidArgumentError(
      `${dir}: a ${config.mode} run; image–sentence matching needs a run of mode contrastive (projection heads on frozen image and text encoders)`,
      { runDir: dir, mode: config.mode },
    );
  if (config.head.standardize)
    throw new InvalidArgumentError(
      `${dir}: the run standardised its frozen features (head.standardize), whose statistics come from its training data and are not stored with it; matching reads runs trained without it`,
      { runDir: dir },
    );
  const checkpoints = join(dir, 'checkpoints');
  if (!existsSync(checkpoints)) throw new MissingFileError(checkpoints, 'run checkpoints');
  const loaded = await loadLatestCheckpoint(checkpoints);
  const { file, state, tensorsPath } = loaded;
  const first = config.head.kind === 'linear' ? 'fc' : 'fc1';
  const dimOf = (prefix: string): number => {
    const t = file.tensors.get(`${prefix}.${first}.weight`);
    if (!t || t.shape.length !== 2)
      throw new ShapeError(`${tensorsPath}: no 2-D tensor ${prefix}.${first}.weight for a ${config.head.kind} head`);
    return t.shape[1]!;
  };
  const imageDim = dimOf('image_projection');
  const textDim = dimOf('text_projection');
  const params = new FlatParameters(ContrastiveHeads.specs(config, imageDim, textDim), config.seed);
  const average = state.ema && file.tensors.has('ema');
  if (average) {
    const ema = file.tensors.get('ema')!;
    if (ema.data.length !== params.length)
      throw new ShapeError(`${tensorsPath}: the parameter average has ${ema.data.length} values, the heads ${params.length}`);
    params.data.set(ema.data as Float32Array);
  } else {
    for (const e of params.entries) {
      const t = file.tensors.get(e.name);
      if (!t || t.data.length !== e.length) throw new ShapeError(`${tensorsPath}: tensor ${e.name} is missing or has the wrong size`);
      params.view(e.name).set(t.data as Float32Array);
    }
  }
  const { kind, hidden, projectionDim } = config.head;
  const ops = resolveTrainOps();
  const imageHead = new Head(params, 'image_projection', { kind, inDim: imageDim, outDim: projectionDim, hidden }, ops);
  const textHead = new Head(params, 'text_projection', { kind, inDim: textDim, outDim: projectionDim, hidden }, ops);

  // the tokenizer the run built (or was given) is the one its text features were made with
  const tokenizer = config.text.tokenizer === 'build' ? join(dir, 'tokenizer.json') : resolve(config.text.tokenizer);
  if (!existsSync(tokenizer)) throw new MissingFileError(tokenizer, 'the run’s tokenizer');
  const encoders: ResolvedEncoders = await resolveEncoders({ ...config, text: { ...config.text, tokenizer } }, dir, []);
  const recipe = classifierPreprocessing(trainCacheSettings(config), config.image, encoders.image.inputName);
  const size = config.image.size;

  const project = (head: Head, features: Float32Array, rows: number, inDim: number, what: string): Float32Array => {
    if (features.length !== rows * inDim)
      throw new ShapeError(`${what} encoder gave ${features.length / Math.max(1, rows)} values per item; the run's head reads ${inDim}`);
    return normaliseRows(head.forward(features, rows, { keep: false }), projectionDim);
  };

  return {
    runDir: dir,
    config,
    step: state.step,
    average,
    dim: projectionDim,
    async embedImages(paths) {
      if (paths.length === 0) return new Float32Array(0);
      const pixels = new Float32Array(paths.length * size * size);
      for (let i = 0; i < paths.length; i++) pixels.set(await preprocessForClassifier(paths[i]!, recipe), i * size * size);
      const out = await encoders.image.encode({ data: pixels, dims: [paths.length, 1, size, size] });
      return project(imageHead, out.data, paths.length, imageDim, 'the image');
    },
    async embedTexts(texts) {
      if (texts.length === 0) return new Float32Array(0);
      const out = await encoders.text!.encode(texts);
      return project(textHead, out.data, texts.length, textDim, 'the text');
    },
    dispose: () => encoders.dispose(),
  };
}
