/** The modes that train heads on frozen encoders' features. */
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import type { FrozenFeatures } from '../features.js';
import type { TrainOps } from '../ops.js';
import type { Task } from '../task.js';
import { ContrastiveTask } from './contrastive.js';
import { DistillTask } from './distill.js';
import { SupervisedTask } from './supervised.js';

export { ContrastiveTask, DistillTask, SupervisedTask };

export function createFrozenEncoderTask(config: TrainConfig, dataset: TrainDataset, features: FrozenFeatures, ops: TrainOps): Task {
  if (config.mode === 'contrastive') return new ContrastiveTask(config, dataset, features, ops);
  if (config.mode === 'supervised') return new SupervisedTask(config, dataset, features, ops);
  return new DistillTask(config, dataset, features, ops);
}
