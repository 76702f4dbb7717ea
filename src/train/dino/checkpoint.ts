/**
 * DINO checkpoints: one safetensors file per checkpoint (student, teacher, AdamW moments,
 * centers) plus dino-latest.json naming the newest; both written atomically, older files pruned.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingFileError } from '../../errors.js';
import { writeJsonAtomic } from '../atomic.js';
import { readSafetensors, tensor, writeSafetensors } from '../safetensors.js';

export interface DinoCheckpointState {
  step: number;
  configHash: string;
  lastLoss: number;
  student: Float32Array;
  teacher: Float32Array;
  m: Float32Array;
  v: Float32Array;
  dinoCenter: Float32Array;
  ibotCenter: Float32Array;
}

const POINTER = 'dino-latest.json';
const TENSORS = ['student', 'teacher', 'm', 'v', 'dinoCenter', 'ibotCenter'] as const;

export function hasDinoCheckpoint(dir: string): boolean {
  return existsSync(join(dir, POINTER));
}

export async function writeDinoCheckpoint(dir: string, s: DinoCheckpointState, keep: number): Promise<string> {
  const file = `dino-step-${String(s.step).padStart(8, '0')}.safetensors`;
  const path = join(dir, file);
  const tensors = Object.fromEntries(TENSORS.map((k) => [k, tensor(s[k], [s[k].length])]));
  await writeSafetensors(path, tensors, { format: 'radlearn-dino-checkpoint-v1', step: String(s.step), configHash: s.configHash });
  await writeJsonAtomic(join(dir, POINTER), { step: s.step, file, configHash: s.configHash, lastLoss: Number.isFinite(s.lastLoss) ? s.lastLoss : null });
  const old = (await readdir(dir)).filter((f) => /^dino-step-\d+\.safetensors$/.test(f)).sort();
  for (const f of old.slice(0, Math.max(0, old.length - keep))) if (f !== file) await rm(join(dir, f), { force: true });
  return path;
}

export async function readDinoCheckpoint(dir: string): Promise<DinoCheckpointState & { path: string }> {
  const pointer = join(dir, POINTER);
  if (!existsSync(pointer)) throw new MissingFileError(pointer, 'DINO checkpoint pointer (nothing to resume)');
  const p = JSON.parse(await readFile(pointer, 'utf8')) as { step: number; file: string; configHash: string; lastLoss: number | null };
  const path = join(dir, p.file);
  if (!existsSync(path)) throw new MissingFileError(path, 'DINO checkpoint tensors');
  const file = await readSafetensors(path);
  const get = (k: string): Float32Array => {
    const t = file.tensors.get(k);
    if (!t || !(t.data instanceof Float32Array)) throw new MissingFileError(path, `DINO checkpoint tensor ${k}`);
    return t.data;
  };
  return {
    path, step: p.step, configHash: p.configHash, lastLoss: p.lastLoss ?? NaN,
    student: get('student'), teacher: get('teacher'), m: get('m'), v: get('v'), dinoCenter: get('dinoCenter'), ibotCenter: get('ibotCenter'),
  };
}
