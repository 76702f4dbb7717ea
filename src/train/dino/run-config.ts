/**
 * The config a `dino` run records: its dino section parsed with defaults, checked against
 * image.size, and the local crop size resolved, so config.json and the resume hash name the size
 * the run trains with.
 */
import type { TrainConfig } from '../config.js';
import { TrainDataError } from '../dataset.js';
import { dinoSchema } from './config.js';
import { resolveLocalSize } from './local-size.js';

export function resolveDinoRunConfig(config: TrainConfig): TrainConfig {
  const parsed = dinoSchema.parse(config.dino ?? {});
  const size = config.image.size;
  if (size % parsed.vit.patchSize !== 0)
    throw new TrainDataError(`config key dino.vit.patchSize: ${parsed.vit.patchSize} does not divide image.size ${size}`, {
      key: 'dino.vit.patchSize',
    });
  return { ...config, dino: { ...parsed, crops: { ...parsed.crops, localSize: resolveLocalSize(parsed, size) } } };
}
