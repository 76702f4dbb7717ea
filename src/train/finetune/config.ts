/**
 * Settings of the encoder fine-tuning modes (clip-finetune, supervised-finetune): which encoder
 * parameters train, per-group learning rates and weight decay, and the chunk size of gradient
 * caching. Patterns are JavaScript regular expressions matched against the run's parameter names
 * ('image_encoder.<initializer>', 'text_encoder.<initializer>', 'image_projection.fc.weight', ...).
 */
import { z } from 'zod';
import { finetuneAugmentSchema } from './augment-config.js';

const parameterGroupSchema = z.strictObject({
  /** Parameters whose name matches (first matching group wins). */
  pattern: z.string().min(1),
  /** Multiplies optim.lr (and its schedule) for these parameters. */
  lrScale: z.number().min(0).default(1),
  /** Overrides optim.weightDecay for these parameters (biases and norms never decay). */
  weightDecay: z.number().min(0).optional(),
});

export const finetuneSchema = z.strictObject({
  /** Rows per training-graph run (gradient caching): bounds activation memory, not the batch. */
  chunkSize: z.number().int().positive().default(32),
  /** Encoder parameters matching any pattern stay frozen (constants in the training graph). */
  freeze: z.array(z.string().min(1)).default([]),
  /** Train only the last N blocks of each encoder (and what follows them, e.g. the final norm); null: all blocks. */
  unfreezeLastBlocks: z.number().int().min(0).nullable().default(null),
  /** clip-finetune: also train the text encoder (false: text encoder frozen, its projection head still trains). */
  trainText: z.boolean().default(true),
  groups: z.array(parameterGroupSchema).default([]),
  /** Initialise matching parameters (same name and size) from a run folder or checkpoint file, e.g. heads trained on frozen encoders. */
  initFrom: z.string().min(1).nullable().default(null),
  /**
   * Random transforms of each training image, re-drawn every step (see augment-config.ts).
   * Optional: absent, every epoch sees the same image (and existing runs' config hashes stay the same).
   */
  augment: finetuneAugmentSchema.optional(),
  /**
   * BatchNormalization while training the encoder. 'frozen' (absent): normalise with the model's
   * running statistics, which never change (PyTorch's frozen-BN fine-tuning; right for pretrained
   * CNNs). 'batch': normalise with each chunk's batch statistics and update the running statistics,
   * as PyTorch's model.train(); evaluation and export use the updated running statistics.
   * Optional, so existing runs' config hashes stay the same.
   */
  batchNorm: z.enum(['frozen', 'batch']).optional(),
  /** 'batch' mode: running = (1 - m) * running + m * batch statistic (PyTorch's momentum; default 0.1). */
  batchNormMomentum: z.number().min(0).max(1).optional(),
  /**
   * CPU worker threads that run a step's chunks at once (see chunk-workers.ts). 'auto' (absent):
   * one per core, at most the chunks of a batch; 0: the chunks run one after another in the main
   * thread. The trained numbers are the same either way.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(0).max(256)]).optional(),
});

export type FinetuneConfig = z.output<typeof finetuneSchema>;

export const DEFAULT_BATCH_NORM_MOMENTUM = 0.1;
export const FINETUNE_MODES = ['clip-finetune', 'supervised-finetune'] as const;
export const isFinetuneMode = (mode: string): boolean => (FINETUNE_MODES as readonly string[]).includes(mode);
