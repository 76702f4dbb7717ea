/**
 * The one checkpoint format of every mode: parameters (one tensor per named view), optimizer
 * moments, the parameter average (`ema`: optim.ema, or the DINO teacher) and the task's own
 * buffers (`state.<name>`, e.g. the DINO centers) in a safetensors file, plus a JSON state with
 * everything else needed to continue exactly: the step, phase, RNG description (all randomness
 * is counter-based), the current epoch's data order and each optimizer's step count. Files,
 * digests, the pointer (latest.json) and the fallback to an older intact checkpoint are the
 * checkpoint store's.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CheckpointError } from './errors.js';
import {
  hasCheckpointFiles,
  loadForResume,
  loadNewestIntact,
  loadVerified,
  writeCheckpoint,
  type CheckpointLayout,
  type LoadedCheckpoint,
} from './checkpoint-store.js';
import type { TensorsIntegrity } from './checkpoint-integrity.js';
import type { FlatOptimizer } from './ops.js';
import type { FlatParameters } from './parameters.js';
import { tensor, type SafetensorsTensor } from './safetensors.js';

export { CheckpointError };

const FORMAT = 'radlearn-checkpoint-v2';

export const TRAINER_CHECKPOINTS: CheckpointLayout = {
  prefix: 'step-',
  digits: 7,
  pointer: 'latest.json',
  format: FORMAT,
  pointerFormat: 'radlearn-checkpoint-pointer-v2',
  label: 'checkpoint',
};

export interface CheckpointState {
  format: typeof FORMAT;
  /** Global steps completed. */
  step: number;
  totalSteps: number;
  phase: string;
  configHash: string;
  rng: { kind: 'counter'; seed: number; streams: string[] };
  dataOrder: { phase: string; epoch: number; position: number; permutation: number[] };
  optimizer: { kind: 'adamw'; groups: Record<string, { step: number; range: [number, number] }> };
  ema: boolean;
  tensors: string;
  lastLoss: number;
  /** Size and SHA-256 of the tensors file and of each tensor in it. */
  integrity: TensorsIntegrity;
}

export interface CheckpointContents {
  params: FlatParameters;
  optimizers: Map<string, FlatOptimizer>;
  ema?: Float32Array;
  /** The task's own buffers, stored as `state.<name>`. */
  state?: Readonly<Record<string, Float32Array>>;
}

const stateTensor = (name: string): string => `state.${name}`;

export type LoadedTrainerCheckpoint = LoadedCheckpoint<CheckpointState> & { warning?: string };

export async function saveCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'tensors' | 'format' | 'integrity'>,
  contents: CheckpointContents,
  keep: number,
): Promise<string> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of contents.params.entries) tensors[e.name] = tensor(contents.params.view(e.name).slice(), e.shape);
  for (const [group, opt] of contents.optimizers) {
    tensors[`optimizer.${group}.exp_avg`] = tensor(opt.m.slice(), [opt.m.length]);
    tensors[`optimizer.${group}.exp_avg_sq`] = tensor(opt.v.slice(), [opt.v.length]);
  }
  if (contents.ema) tensors.ema = tensor(contents.ema.slice(), [contents.ema.length]);
  for (const [name, buffer] of Object.entries(contents.state ?? {})) tensors[stateTensor(name)] = tensor(buffer.slice(), [buffer.length]);
  return writeCheckpoint(dir, TRAINER_CHECKPOINTS, state.step, tensors, { ...state }, keep);
}

/** Whether `dir` holds a checkpoint pointer or any checkpoint file (intact or not). */
export function hasCheckpoint(dir: string): boolean {
  return hasCheckpointFiles(dir, TRAINER_CHECKPOINTS);
}

/** The state of the newest checkpoint that verifies completely (tensors included). */
export async function readLatestState(dir: string): Promise<CheckpointState> {
  return (await loadNewestIntact<CheckpointState>(dir, TRAINER_CHECKPOINTS)).state;
}

/**
 * The checkpoint whose tensors file is `path` (a `step-NNNNNNN.safetensors` written by a run),
 * verified against its state file like a resume; undefined when the name is not a checkpoint's.
 */
export async function loadCheckpointFile(path: string): Promise<LoadedTrainerCheckpoint | undefined> {
  const match = /^step-(\d{7})\.safetensors$/.exec(basename(path));
  if (!match) return undefined;
  return loadVerified<CheckpointState>(dirname(path), TRAINER_CHECKPOINTS, Number(match[1]));
}

/** The newest intact checkpoint for a resume; `warning` is set when newer ones were damaged. */
export async function loadLatestCheckpoint(dir: string): Promise<LoadedTrainerCheckpoint> {
  return loadForResume<CheckpointState>(dir, TRAINER_CHECKPOINTS);
}

/** Loads a verified checkpoint's tensors into the live buffers (shapes must match the run's layout exactly). */
export function restoreCheckpoint(loaded: LoadedTrainerCheckpoint, contents: CheckpointContents): void {
  const { state, file, tensorsPath: path } = loaded;
  const take = (name: string, into: Float32Array): void => {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing`, { path, name });
    if (t.dtype !== 'F32' || t.data.length !== into.length)
      throw new CheckpointError(
        `${path}: tensor ${name} is ${t.dtype} ${JSON.stringify(t.shape)}, the run expects F32 with ${into.length} values`,
        { path, name },
      );
    into.set(t.data as Float32Array);
  };
  for (const e of contents.params.entries) take(e.name, contents.params.view(e.name));
  for (const [group, opt] of contents.optimizers) {
    take(`optimizer.${group}.exp_avg`, opt.m);
    take(`optimizer.${group}.exp_avg_sq`, opt.v);
    const saved = state.optimizer.groups[group];
    if (!saved) throw new CheckpointError(`${path}: no optimizer state for parameter group ${group}`, { path, group });
    opt.step = saved.step;
  }
  if (contents.ema) take('ema', contents.ema);
  for (const [name, buffer] of Object.entries(contents.state ?? {})) take(stateTensor(name), buffer);
}

/** Files an older radlearn wrote for the dino mode (`dino-latest.json`, `dino-step-NNNNNNNN.*`): a layout this version does not read. */
const OUTDATED_DINO_FILE = /^dino-(latest\.json|step-\d{8}\.(json|safetensors))$/;

/** Files of `dir` in a checkpoint layout this version no longer reads (written by an older radlearn). */
export function outdatedCheckpointFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => OUTDATED_DINO_FILE.test(name))
      .sort();
  } catch {
    return [];
  }
}
