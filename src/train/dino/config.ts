/**
 * The `dino` section of the training config (mode 'dino'): the student/teacher encoder, head,
 * multi-crop views, loss weights and the DINO schedules. Small defaults that train a tiny ViT at
 * 64 px on two CPU cores in minutes; DINOv2's published values are named in the comments.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const range = z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]);

export const dinoSchema = z.strictObject({
  /** The ViT trained from scratch (the image size is image.size). */
  vit: z
    .strictObject({
      patchSize: positiveInt.default(16),
      dim: positiveInt.default(64),
      depth: positiveInt.default(2),
      heads: positiveInt.default(4),
      mlpRatio: z.number().positive().default(2),
    })
    .default({ patchSize: 16, dim: 64, depth: 2, heads: 4, mlpRatio: 2 }),
  head: z
    .strictObject({
      hidden: positiveInt.default(256),
      bottleneck: positiveInt.default(64),
      /** K (DINOv2: 65536; RAD-DINO: 65536 DINO, 65536 iBOT). */
      prototypes: positiveInt.default(512),
    })
    .default({ hidden: 256, bottleneck: 64, prototypes: 512 }),
  crops: z
    .strictObject({
      /** Area fraction of the two global crops (DINOv2: [0.32, 1]). */
      globalScale: range.default([0.32, 1]),
      /** Local crops per image (DINOv2: 8). */
      localCount: z.number().int().min(0).default(2),
      /**
       * Side of the local crops in pixels, a multiple of vit.patchSize and at most image.size; the
       * student sees them through a second graph whose position embeddings are resampled from the
       * image.size grid (DINOv2: 96 for 224). Default: the multiple of patchSize nearest to
       * 0.43 x image.size (at least one patch); 0 or image.size renders them at image.size.
       */
      localSize: z.number().int().min(0).optional(),
      localScale: range.default([0.05, 0.32]),
      /** iBOT masking of the global views: fraction of patches hidden, and the probability an image is masked. */
      maskRatio: range.default([0.1, 0.5]),
      maskProbability: z.number().min(0).max(1).default(0.5),
      /** Aspect-ratio range of every crop (RandomResizedCrop's ratio). */
      aspectRatio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
      /** Per-view probabilities of a horizontal flip, brightness/contrast jitter (0.4 each) and Gaussian blur. */
      flip: z.number().min(0).max(1).default(0.5),
      intensity: z.number().min(0).max(1).default(0.8),
      blur: z.number().min(0).max(1).default(0.5),
    })
    .default({
      globalScale: [0.32, 1],
      localCount: 2,
      localScale: [0.05, 0.32],
      maskRatio: [0.1, 0.5],
      maskProbability: 0.5,
      aspectRatio: [3 / 4, 4 / 3],
      flip: 0.5,
      intensity: 0.8,
      blur: 0.5,
    }),
  loss: z
    .strictObject({
      dino: z.number().min(0).default(1),
      ibot: z.number().min(0).default(1),
      koleo: z.number().min(0).default(0.1),
      studentTemperature: z.number().positive().default(0.1),
      normalization: z.enum(['center', 'sinkhorn']).default('center'),
      centerMomentum: z.number().min(0).max(1).default(0.9),
    })
    .default({ dino: 1, ibot: 1, koleo: 0.1, studentTemperature: 0.1, normalization: 'center', centerMomentum: 0.9 }),
  schedule: z
    .strictObject({
      /** Teacher temperature warm-up: warmupTemperature -> temperature over warmupFraction of the steps. */
      warmupTemperature: z.number().positive().default(0.04),
      temperature: z.number().positive().default(0.07),
      temperatureWarmupFraction: z.number().min(0).max(1).default(0.3),
      /** EMA momentum, cosine from momentum to 1 (DINOv2: 0.992). */
      momentum: z.number().min(0).max(1).default(0.992),
      /** Weight decay, cosine from weightDecay to weightDecayEnd (DINOv2: 0.04 -> 0.2; DINO: 0.04 -> 0.4). */
      weightDecay: z.number().min(0).default(0.04),
      weightDecayEnd: z.number().min(0).default(0.4),
    })
    .default({
      warmupTemperature: 0.04,
      temperature: 0.07,
      temperatureWarmupFraction: 0.3,
      momentum: 0.992,
      weightDecay: 0.04,
      weightDecayEnd: 0.4,
    }),
  /**
   * Steps during which the prototype layer (the head's last layer) is not updated (DINO's
   * freeze_last_layer, 1 epoch there). Keeps the student from flattening its output by moving the
   * prototypes before its features carry any signal.
   */
  freezeLastLayerSteps: z.number().int().min(0).default(0),
  /** Gradient clipping (global L2 norm; DINOv2: 3.0). */
  clipGrad: z.number().min(0).default(3),
});

export type DinoConfig = z.output<typeof dinoSchema>;
