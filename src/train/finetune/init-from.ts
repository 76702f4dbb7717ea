/**
 * Warm start: copy tensors of an earlier run's checkpoint into matching parameters (same name and
 * size), e.g. projection heads trained on frozen encoders before unlocking the encoders
 * (the linear-probe-then-fine-tune recipe; random-init heads on top of trainable encoders tend to
 * collapse the contrastive objective to its uniform solution first).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MissingFileError } from '../../errors.js';
import { TRAINER_CHECKPOINTS, loadCheckpointFile, type CheckpointState } from '../checkpoint.js';
import { loadNewestIntact } from '../checkpoint-store.js';
import type { FlatParameters } from '../parameters.js';
import { readSafetensors } from '../safetensors.js';

/**
 * `source`: a run folder (its newest intact checkpoint), a run's checkpoint .safetensors file
 * (verified against its state file, as on resume), or any other .safetensors file (loaded as it
 * is: it carries no digests). Returns the names loaded.
 */
export async function initFromCheckpoint(params: FlatParameters, source: string): Promise<string[]> {
  source = resolve(source);
  if (!existsSync(source)) throw new MissingFileError(source, 'checkpoint to initialise from (config key finetune.initFrom)');
  const tensors = statSync(source).isDirectory()
    ? (await loadNewestIntact<CheckpointState>(join(source, 'checkpoints'), TRAINER_CHECKPOINTS)).file.tensors
    : ((await loadCheckpointFile(source))?.file ?? (await readSafetensors(source))).tensors;
  const loaded: string[] = [];
  for (const e of params.entries) {
    const t = tensors.get(e.name);
    if (!t || t.dtype !== 'F32' || t.data.length !== e.length) continue;
    params.view(e.name).set(t.data as Float32Array);
    loaded.push(e.name);
  }
  return loaded;
}
