/**
 * The set-up both fine-tuning tasks share: the finetune config and its parameter selection, the
 * image encoder's slot, the images (and augmenter) it trains on, the width of its embedding,
 * and the warm start (finetune.initFrom).
 */
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import type { ResolvedEncoders } from '../encoders.js';
import type { FeatureProgress } from '../features.js';
import type { FlatParameters } from '../parameters.js';
import { FinetuneAugmenter } from './augment-views.js';
import type { ChunkPool } from './chunk-pool.js';
import { DEFAULT_BATCH_NORM_MOMENTUM, finetuneSchema, type FinetuneConfig } from './config.js';
import { EncoderSlot, IMAGE_PREFIX, type SlotSelection } from './encoder-slot.js';
import { feedNames, ImageFeeds } from './image-feeds.js';
import { cachedRows } from './image-rows.js';
import { initFromCheckpoint } from './init-from.js';
import { compilePatterns } from './selection.js';

export const finetuneConfigOf = (config: TrainConfig): FinetuneConfig => config.finetune ?? finetuneSchema.parse({});

/** Which encoder parameters train; the patterns are checked here, before any costly work. */
export function slotSelection(ft: FinetuneConfig): SlotSelection {
  const freeze = compilePatterns(ft.freeze, 'finetune.freeze');
  compilePatterns(
    ft.groups.map((g) => g.pattern),
    'finetune.groups',
  );
  const batchStatistics = ft.batchNorm === 'batch' ? { momentum: ft.batchNormMomentum ?? DEFAULT_BATCH_NORM_MOMENTUM } : undefined;
  return { freeze, unfreezeLastBlocks: ft.unfreezeLastBlocks, ...(batchStatistics ? { batchStatistics } : {}) };
}

export async function createImageSlot(
  config: TrainConfig,
  encoders: ResolvedEncoders,
  selection: SlotSelection,
  pool: ChunkPool | undefined,
  progress?: FeatureProgress,
): Promise<EncoderSlot> {
  progress?.('encoders', 'differentiating the image encoder into its training graph');
  return EncoderSlot.create(encoders.imageModel, encoders.image.outputName, IMAGE_PREFIX, config.image.model, selection, pool);
}

/** Every dataset row's image, the batch feeds over them, and the width of the encoder's embedding. */
export async function loadImageFeeds(
  config: TrainConfig,
  dataset: TrainDataset,
  encoders: ResolvedEncoders,
  slot: EncoderSlot,
  ft: FinetuneConfig,
  progress?: FeatureProgress,
): Promise<{ feeds: ImageFeeds; imageDim: number }> {
  progress?.('images', `preprocessing ${dataset.size} images`, 0);
  const images = await cachedRows(config, dataset.imagePaths, progress);
  try {
    const augmenter = ft.augment
      ? new FinetuneAugmenter(ft.augment, images, { mean: config.image.mean, std: config.image.std }, config.seed)
      : undefined;
    const feeds = new ImageFeeds(images, config.image.input ?? feedNames(encoders.imageModel)[0]!, augmenter);
    const probe = await slot.encoder.embed(slot.encoder.initialParametersFlat(), 1, 1, feeds.rows([0]));
    return { feeds, imageDim: probe.dim };
  } catch (error) {
    images.close();
    throw error;
  }
}

/** finetune.initFrom: tensors of an earlier run copied into the parameters of the same name and size. */
export async function applyInitFrom(params: FlatParameters, ft: FinetuneConfig, progress?: FeatureProgress): Promise<void> {
  if (ft.initFrom === null) return;
  const loaded = await initFromCheckpoint(params, ft.initFrom);
  progress?.(
    'init',
    `${loaded.length} parameter tensors initialised from ${ft.initFrom}${loaded.length > 0 ? ` (${loaded.slice(0, 4).join(', ')}${loaded.length > 4 ? ', ...' : ''})` : ''}`,
  );
}

/** Something holding onnxruntime sessions or threads: an encoder slot, the chunk pool. */
interface Releasable {
  release(): Promise<void>;
}

/** Runs `build`; when it fails, what `held` lists is released, in order, before the error goes on. */
export async function releasingOnError<T>(held: () => ReadonlyArray<Releasable | undefined>, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    for (const r of held()) await r?.release();
    throw error;
  }
}

/** Whether a fine-tuning run can train data-parallel: not while each rank would move its own BatchNorm statistics. */
export function dataParallelSupport(ft: FinetuneConfig): true | { reason: string } {
  if (ft.batchNorm === 'batch')
    return {
      reason:
        "finetune.batchNorm 'batch' cannot train across processes yet (each rank would update its own running statistics; there is no synchronised BatchNorm)",
    };
  return true;
}
