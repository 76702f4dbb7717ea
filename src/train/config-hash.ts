/**
 * The part of a run's config that determines the trained numbers, its hash (recorded in every
 * checkpoint; a resume must match it) and the keys in which two configs differ. The `eval`,
 * `export`, `logEvery` and `checkpoint` keys change only what happens after training or how often
 * things are logged and saved, `data.cache` / `data.strict` only where the same pixels come
 * from, and `device` and `finetune.workers` only where the same computation runs, so they may change on
 * resume.
 */
import type { TrainConfig } from './config.js';
import { sha256 } from './encoders.js';

export function trainingPart(config: TrainConfig): Partial<TrainConfig> {
  const { eval: _eval, export: _export, logEvery: _log, checkpoint: _checkpoint, device: _device, ...rest } = config;
  // where preprocessed pixels are read from, and whether bad images are fatal, leave the pixels and rows the same
  const { cache: _cache, strict: _strict, ...data } = rest.data;
  // how many threads run a step's chunks leaves every number the same
  if (rest.finetune) {
    const { workers: _workers, ...finetune } = rest.finetune;
    return { ...rest, data, finetune };
  }
  return { ...rest, data };
}

export function configHash(config: TrainConfig): string {
  return sha256(JSON.stringify(trainingPart(config))).slice(0, 16);
}

/** Dotted paths of the training keys whose values differ between two configs. */
export function changedTrainingKeys(before: TrainConfig, after: TrainConfig): string[] {
  return differingKeys(trainingPart(before), trainingPart(after));
}

function differingKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .flatMap((k) => differingKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
}
