/**
 * Warm start: copy tensors of an earlier run's checkpoint into matching parameters (same name and
 * size), e.g. projection heads trained on frozen encoders before unlocking the encoders
 * (the linear-probe-then-fine-tune recipe; random-init heads on top of trainable encoders tend to
 * collapse the contrastive objective to its uniform solution first).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MissingFileError } from '../../errors.js';
import { readLatestState } from '../checkpoint.js';
import type { FlatParameters } from '../parameters.js';
import { readSafetensors } from '../safetensors.js';

/** `source`: a run folder (its latest checkpoint) or a checkpoint .safetensors file. Returns the names loaded. */
export async function initFromCheckpoint(params: FlatParameters, source: string): Promise<string[]> {
  source = resolve(source);
  if (!existsSync(source)) throw new MissingFileError(source, 'checkpoint to initialise from (config key finetune.initFrom)');
  let file = source;
  if (statSync(source).isDirectory()) {
    const dir = join(source, 'checkpoints');
    file = join(dir, (await readLatestState(dir)).tensors);
  }
  const tensors = (await readSafetensors(file)).tensors;
  const loaded: string[] = [];
  for (const e of params.entries) {
    const t = tensors.get(e.name);
    if (!t || t.dtype !== 'F32' || t.data.length !== e.length) continue;
    params.view(e.name).set(t.data as Float32Array);
    loaded.push(e.name);
  }
  return loaded;
}
