/**
 * How many chunk worker threads a fine-tuning run uses (finetune.workers): on the CPU, 'auto' is
 * one per core up to the chunks of one batch (of this rank's slice of it in a data-parallel job, where
 * the cores are the rank's share of its machine's), each worker's sessions getting an equal share of
 * the cores; 0 (and every run whose onnxruntime sessions are on a GPU) runs the chunks in this
 * thread. The count changes where chunks run, never the numbers: chunk gradients are summed in
 * chunk order either way.
 */
import { planProviders } from '../../device/session-factory.js';
import { coresForThisProcess, launchEnvironment } from '../../distributed/launch.js';
import type { TrainConfig } from '../config.js';
import { ChunkPool } from './chunk-pool.js';
import type { FinetuneConfig } from './config.js';

export interface ChunkWorkerPlan {
  workers: number;
  intraOpThreads: number;
}

export function chunkWorkerPlan(
  config: TrainConfig,
  ft: FinetuneConfig,
  cores = coresForThisProcess(),
  ranks = launchEnvironment().size,
): ChunkWorkerPlan {
  // in a data-parallel job each rank computes its slice of the batch
  const chunks = Math.ceil(Math.ceil(config.batchSize / ranks) / ft.chunkSize);
  const setting = ft.workers ?? 'auto';
  if (planProviders().includes('cuda')) return { workers: 0, intraOpThreads: 0 };
  const workers = setting === 'auto' ? Math.min(cores, chunks) : setting;
  // a single worker would only move the same serial work to another thread
  if (setting === 'auto' && workers < 2) return { workers: 0, intraOpThreads: 0 };
  return { workers, intraOpThreads: workers > 0 ? Math.max(1, Math.floor(cores / workers)) : 0 };
}

/** The run's chunk pool, or undefined when the chunks run in this thread. */
export function chunkPoolFor(config: TrainConfig, ft: FinetuneConfig): ChunkPool | undefined {
  const plan = chunkWorkerPlan(config, ft);
  return plan.workers > 0 ? ChunkPool.create(plan.workers, plan.intraOpThreads) : undefined;
}
