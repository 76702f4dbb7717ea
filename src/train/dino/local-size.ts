/**
 * The pixel size of DINO's local crops. DINOv2 renders them at 96 px for 224 px global crops, so a
 * local patch covers about as much anatomy as a global one; the default keeps that ratio.
 */
import { TrainConfigError } from '../config.js';
import type { DinoConfig } from './config.js';

/** DINOv2's local / global crop side (96 / 224). */
export const LOCAL_SIZE_RATIO = 96 / 224;

/** dino.crops.localSize resolved against image.size: the default ratio, 0 meaning image.size, validated. */
export function resolveLocalSize(dino: DinoConfig, imageSize: number): number {
  const patch = dino.vit.patchSize;
  const given = dino.crops.localSize;
  if (given === undefined) return Math.min(imageSize, Math.max(patch, Math.round((LOCAL_SIZE_RATIO * imageSize) / patch) * patch));
  if (given === 0) return imageSize;
  if (given % patch !== 0 || given > imageSize) {
    throw new TrainConfigError(
      `config key dino.crops.localSize: ${given} must be a multiple of dino.vit.patchSize (${patch}) and at most image.size (${imageSize}), or 0 for image.size`,
      { key: 'dino.crops.localSize', value: given, patchSize: patch, imageSize },
    );
  }
  return given;
}
