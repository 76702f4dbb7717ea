/**
 * Training configuration: one JSON document, validated with zod. Unknown keys are errors (a
 * typo must not silently fall back to a default), and every error names the offending key
 * by its dotted path. `--set a.b=c` overrides are applied to the raw JSON before validation.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEVICE_SETTINGS } from '../device/setting.js';
import { MissingFileError, RadlearnError } from '../errors.js';
import { dinoSchema } from './dino/config.js';
import { finetuneSchema } from './finetune/config.js';

export class TrainConfigError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_TRAIN_CONFIG', message, details);
  }
}

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

const dataSchema = z.strictObject({
  /** CSV or JSONL manifest (see loadManifest). */
  manifest: z.string().min(1),
  /** Label columns to train/evaluate on (default: every binary label column). */
  labels: z.array(z.string().min(1)).min(1).optional(),
  uncertain: z.enum(['ignore', 'ones', 'zeros']).default('ignore'),
  /** Fraction of the training split whose labels are used (supervised, distill, probe). */
  labelFraction: z.number().gt(0).max(1).default(1),
  /** Split assignment when the manifest has none: by patient, stratified by the first label. */
  split: z.strictObject({ train: probability, val: probability, test: probability }).default({ train: 0.7, val: 0.15, test: 0.15 }),
  sentences: z
    .strictObject({
      sections: z.array(z.string()).min(1).default(['findings', 'impression']),
      min: z.number().int().min(1).default(1),
      max: positiveInt.optional(),
    })
    .default({ sections: ['findings', 'impression'], min: 1 }),
  /**
   * A `radlearn cache build` folder to read preprocessed images from when its settings give the
   * pixels training needs (docs/training.md, "Images"); images it lacks go to train's own cache.
   * Optional without a default, like `strict`, so runs without it keep their config hash.
   */
  cache: z.string().min(1).optional(),
  /** Missing or undecodable images, and a data.cache whose settings do not match, stop the run instead of being skipped. */
  strict: z.boolean().optional(),
});

const imageSchema = z.strictObject({
  /** 'builtin:resnet', 'builtin:vit', or a path to an .onnx image encoder. */
  model: z.string().min(1).default('builtin:resnet'),
  /** Square side the images are resized to. */
  size: z.number().int().min(32).max(2048).default(128),
  /** Intensities scaled to [0, 1], then (x - mean) / std. */
  mean: z.number().default(0.5),
  std: z.number().positive().default(0.25),
  fit: z.enum(['squarePad', 'squareStretch']).default('squarePad'),
  input: z.string().optional(),
  output: z.string().optional(),
  pooling: z.enum(['none', 'cls', 'mean']).default('none'),
  batchSize: positiveInt.default(64),
  seed: z.number().int().default(0),
  /**
   * The encoder's own input normalisation, per channel, from its sidecar (<model>.radlearn.json):
   * the grey image is replicated to mean.length channels and normalised with it inside the model.
   * Filled in from the sidecar; optional without a default so runs without one keep their hash.
   */
  encoderInput: z
    .strictObject({
      sidecar: z.string(),
      channels: z.number().int().positive(),
      mean: z.array(z.number()),
      std: z.array(z.number().positive()),
    })
    .optional(),
});

const textSchema = z.strictObject({
  /** 'builtin:transformer' or a path to an .onnx text encoder. */
  model: z.string().min(1).default('builtin:transformer'),
  /** tokenizer.json path, or 'build' to build a WordPiece vocabulary from the training reports. */
  tokenizer: z.string().min(1).default('build'),
  vocabSize: z.number().int().min(32).default(2000),
  maxLength: z.number().int().min(4).default(64),
  pooling: z.enum(['none', 'cls', 'mean']).default('none'),
  batchSize: positiveInt.default(128),
  seed: z.number().int().default(0),
  /** Input and output names of an ONNX text encoder (default: found by name); filled in from its sidecar. */
  inputIds: z.string().min(1).optional(),
  attentionMask: z.string().min(1).optional(),
  tokenTypeIds: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
});

const headSchema = z.strictObject({
  kind: z.enum(['linear', 'mlp']).default('linear'),
  /** MLP hidden width. */
  hidden: positiveInt.default(256),
  /** Shared embedding size of the contrastive projection heads. */
  projectionDim: positiveInt.default(128),
  /** Standardise frozen features per dimension (training statistics) before the heads; folded into exports. Off by default: on the phantom it made contrastive heads overfit. */
  standardize: z.boolean().default(false),
});

const lossSchema = z.strictObject({
  kind: z.enum(['infonce', 'siglip']).default('infonce'),
  /** 'labels': reports with identical labeler findings are positives of each other (multi-positive targets). */
  groups: z.enum(['none', 'labels']).default('none'),
  /** Positive-pair relaxation: positive cosines are capped at this value (InfoNCE only). */
  relaxThreshold: z.number().min(-1).max(1).nullable().default(null),
  /** Initial logit scale a = exp(l); default 1/0.07 (InfoNCE) or 10 (SigLIP). */
  logitScaleInit: z.number().positive().optional(),
  maxLogitScale: z.number().positive().default(100),
  learnLogitScale: z.boolean().default(true),
  /** SigLIP bias initial value. */
  biasInit: z.number().default(-10),
});

const distillSchema = z.strictObject({
  /** Weight of the teacher's soft targets: target = (1 - lambda) * label + lambda * teacher. */
  lambda: probability.default(0.5),
  /** Teacher temperature tau: soft target = sigmoid(teacher logit / tau). */
  temperature: z.number().positive().default(2),
  teacherInput: z.enum(['text', 'text+image']).default('text'),
  teacherSteps: positiveInt.default(300),
});

const optimSchema = z.strictObject({
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().min(0).default(0.01),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  maxGradNorm: z.number().min(0).default(1),
  warmupSteps: z.number().int().min(0).default(20),
  /** Final learning rate as a fraction of lr (cosine decay). */
  minLrRatio: probability.default(0),
  /** EMA momentum of the parameters (null: off); evaluation then uses the EMA weights. */
  ema: z.number().min(0).lt(1).nullable().default(null),
});

const evalSchema = z.strictObject({
  zeroShot: z.boolean().default(true),
  linearProbe: z.boolean().default(true),
  probeSteps: positiveInt.default(300),
  probeLr: z.number().positive().default(3e-3),
  /** Labels for zero-shot (default: label columns with a known phrase). */
  zeroShotLabels: z.array(z.string()).optional(),
  /** Label → phrase used in prompts ('{c}' in templates). */
  phrases: z.record(z.string(), z.string()).default({}),
  level: z.number().gt(0).lt(1).default(0.95),
  /** Linear-probe sweep over label fractions x seeds (mean ± sd in the report); null: off. */
  sweep: z
    .strictObject({
      fractions: z.array(z.number().gt(0).max(1)).min(1).default([0.01, 0.1, 1]),
      seeds: z.number().int().min(1).max(20).default(3),
    })
    .nullable()
    .default(null),
  thresholdMetric: z.enum(['f1', 'youden', 'mcc']).default('f1'),
  /**
   * A manifest column (e.g. `site`): every evaluation is also reported on the test cases of each
   * of its values, at the thresholds chosen on the whole validation split (external validation).
   */
  groupBy: z.string().min(1).optional(),
});

export const trainConfigSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .regex(/^[\w.-]+$/, 'letters, digits, _ . - only'),
  mode: z.enum(['contrastive', 'supervised', 'distill', 'dino', 'clip-finetune', 'supervised-finetune']),
  runsDir: z.string().min(1).default('runs'),
  /** Feature cache folder (default <runsDir>/.cache). */
  cacheDir: z.string().min(1).optional(),
  seed: z.number().int().min(0).default(0),
  steps: positiveInt.default(300),
  batchSize: z.number().int().min(2).default(64),
  logEvery: positiveInt.default(1),
  checkpoint: z.strictObject({ every: positiveInt.default(100), keep: positiveInt.default(2) }).default({ every: 100, keep: 2 }),
  data: dataSchema,
  image: imageSchema.default(imageSchema.parse({})),
  text: textSchema.default(textSchema.parse({})),
  head: headSchema.default(headSchema.parse({})),
  loss: lossSchema.default(lossSchema.parse({})),
  distill: distillSchema.default(distillSchema.parse({})),
  /** Mode 'dino': image-only self-distillation (src/train/dino); optional so other modes' resume hashes are unchanged. */
  dino: dinoSchema.optional(),
  /** Modes clip-finetune / supervised-finetune: trainable encoders (src/train/finetune); optional so other modes' resume hashes are unchanged. */
  finetune: finetuneSchema.optional(),
  optim: optimSchema.default(optimSchema.parse({})),
  eval: evalSchema.default(evalSchema.parse({})),
  /** Write classifier.onnx (image encoder + head + sigmoid) after training. */
  export: z.boolean().default(true),
  /**
   * Where onnxruntime's sessions and radlearn's kernels run: 'auto' (CUDA for each part that has
   * it, else the CPU, saying why), 'cpu', or 'cuda' (both, or an error before any data is read).
   * Not part of the config hash: a run may resume on another machine.
   */
  device: z.enum(DEVICE_SETTINGS).default('auto'),
});

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

function keyPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Validates a raw config; the error names every offending key by its dotted path. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(raw);
  if (result.success) {
    const c = result.data;
    if (c.data.sentences.max !== undefined && c.data.sentences.max < c.data.sentences.min) {
      throw new TrainConfigError(
        `config key data.sentences.max: ${c.data.sentences.max} is below data.sentences.min (${c.data.sentences.min})`,
        { key: 'data.sentences.max' },
      );
    }
    if (c.loss.relaxThreshold !== null && c.loss.kind === 'siglip') {
      throw new TrainConfigError(
        'config key loss.relaxThreshold: positive-pair relaxation applies to InfoNCE only; set it to null for SigLIP',
        { key: 'loss.relaxThreshold' },
      );
    }
    if (c.finetune?.batchNormMomentum !== undefined && c.finetune.batchNorm !== 'batch') {
      throw new TrainConfigError(
        "config key finetune.batchNormMomentum: the momentum updates running statistics, which only finetune.batchNorm: 'batch' does; set batchNorm to 'batch' or remove the momentum",
        { key: 'finetune.batchNormMomentum' },
      );
    }
    return c;
  }
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return { key: keys.map((k) => keyPath([...issue.path, k])).join(', '), message: `unknown key${keys.length > 1 ? 's' : ''}` };
    }
    return { key: keyPath(issue.path), message: issue.message };
  });
  const first = problems[0]!;
  throw new TrainConfigError(
    `config key ${first.key}: ${first.message}${
      problems.length > 1
        ? ` (and ${problems.length - 1} more: ${problems
            .slice(1)
            .map((p) => `${p.key}: ${p.message}`)
            .join('; ')})`
        : ''
    }`,
    { key: first.key, problems },
  );
}

/** Parses the value of `--set a.b=value`: JSON when it parses (numbers, booleans, null, arrays), else a string. */
function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Applies `a.b.c=value` overrides to a raw config object (a copy is returned). */
export function applyOverrides(raw: unknown, sets: readonly string[]): Record<string, unknown> {
  const root = structuredClone((raw ?? {}) as Record<string, unknown>);
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new TrainConfigError(`--set ${set}: expected key.path=value`, { set });
    const path = set.slice(0, eq).split('.');
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype'))
      throw new TrainConfigError(`--set ${set}: invalid key path`, { set });
    let node = root;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next))
        throw new TrainConfigError(`--set ${set}: ${part} is not an object in the config`, { set, key: part });
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseSetValue(set.slice(eq + 1));
  }
  return root;
}

export async function loadTrainConfig(path: string, sets: readonly string[] = []): Promise<TrainConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path, 'training config');
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new TrainConfigError(`${path}: not valid JSON (${(cause as Error).message})`, { path });
  }
  return parseTrainConfig(applyOverrides(raw, sets));
}
