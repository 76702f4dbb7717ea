/**
 * DINO checkpoints: student, teacher, AdamW moments and centers in one safetensors file per
 * checkpoint, with a state file (step, config hash, last loss) and dino-latest.json naming the
 * newest. Files, digests, pruning and the fallback to an older intact checkpoint are the shared
 * checkpoint store's.
 */
import { hasCheckpointFiles, loadForResume, loadNewestIntact, writeCheckpoint, type CheckpointLayout, type LoadedCheckpoint } from '../checkpoint-store.js';
import { CheckpointError } from '../errors.js';
import { tensor } from '../safetensors.js';

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

export const DINO_CHECKPOINTS: CheckpointLayout = {
  prefix: 'dino-step-', digits: 8, pointer: 'dino-latest.json',
  format: 'radlearn-dino-checkpoint-v2', pointerFormat: 'radlearn-dino-checkpoint-pointer-v2', label: 'DINO checkpoint',
};

const TENSORS = ['student', 'teacher', 'm', 'v', 'dinoCenter', 'ibotCenter'] as const;

interface DinoStateFile {
  configHash: string;
  lastLoss: number | null;
}

export function hasDinoCheckpoint(dir: string): boolean {
  return hasCheckpointFiles(dir, DINO_CHECKPOINTS);
}

export async function writeDinoCheckpoint(dir: string, s: DinoCheckpointState, keep: number): Promise<string> {
  const tensors = Object.fromEntries(TENSORS.map((k) => [k, tensor(s[k], [s[k].length])]));
  const state: DinoStateFile = { configHash: s.configHash, lastLoss: Number.isFinite(s.lastLoss) ? s.lastLoss : null };
  return writeCheckpoint(dir, DINO_CHECKPOINTS, s.step, tensors, { step: s.step, ...state }, keep, { configHash: s.configHash });
}

function toDinoState(loaded: LoadedCheckpoint<DinoStateFile>): DinoCheckpointState & { path: string } {
  const path = loaded.tensorsPath;
  const get = (k: string): Float32Array => {
    const t = loaded.file.tensors.get(k);
    if (!t || !(t.data instanceof Float32Array)) throw new CheckpointError(`${path}: DINO checkpoint tensor ${k} is missing or not F32`, { path, name: k });
    return t.data;
  };
  const { step, configHash, lastLoss } = loaded.state;
  return {
    path, step, configHash, lastLoss: lastLoss ?? NaN,
    student: get('student'), teacher: get('teacher'), m: get('m'), v: get('v'), dinoCenter: get('dinoCenter'), ibotCenter: get('ibotCenter'),
  };
}

/** The newest DINO checkpoint that verifies completely (read-only). */
export async function readDinoCheckpoint(dir: string): Promise<DinoCheckpointState & { path: string }> {
  return toDinoState(await loadNewestIntact<DinoStateFile>(dir, DINO_CHECKPOINTS));
}

/** The newest intact DINO checkpoint for a resume; `warning` is set when newer ones were damaged. */
export async function loadDinoCheckpointForResume(dir: string): Promise<DinoCheckpointState & { path: string; warning?: string }> {
  const loaded = await loadForResume<DinoStateFile>(dir, DINO_CHECKPOINTS);
  return { ...toDinoState(loaded), ...(loaded.warning ? { warning: loaded.warning } : {}) };
}
