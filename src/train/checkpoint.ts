/**
 * Checkpoints: parameters (one tensor per named view), optimizer moments and the EMA in a
 * safetensors file, plus a JSON state with everything else needed to continue exactly: the
 * step, phase, RNG description (all randomness is counter-based, keyed by seed/epoch/row),
 * the current epoch's data order and each optimizer's step count. latest.json points to the
 * newest complete checkpoint; every file is written atomically, tensors before state before
 * pointer, so a crash at any moment leaves the previous checkpoint usable.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingFileError, RadlearnError } from '../errors.js';
import { writeJsonAtomic } from './atomic.js';
import type { FlatOptimizer } from './ops.js';
import type { FlatParameters } from './parameters.js';
import { readSafetensors, tensor, writeSafetensors, type SafetensorsTensor } from './safetensors.js';

export class CheckpointError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_CHECKPOINT', message, details);
  }
}

export interface CheckpointState {
  format: 'radlearn-checkpoint-v1';
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
}

export interface CheckpointContents {
  params: FlatParameters;
  optimizers: Map<string, FlatOptimizer>;
  ema?: Float32Array;
}

const stem = (step: number): string => `step-${String(step).padStart(7, '0')}`;

export async function saveCheckpoint(dir: string, state: Omit<CheckpointState, 'tensors' | 'format'>, contents: CheckpointContents, keep: number): Promise<string> {
  const name = stem(state.step);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of contents.params.entries) tensors[e.name] = tensor(contents.params.view(e.name).slice(), e.shape);
  for (const [group, opt] of contents.optimizers) {
    tensors[`optimizer.${group}.exp_avg`] = tensor(opt.m.slice(), [opt.m.length]);
    tensors[`optimizer.${group}.exp_avg_sq`] = tensor(opt.v.slice(), [opt.v.length]);
  }
  if (contents.ema) tensors.ema = tensor(contents.ema.slice(), [contents.ema.length]);
  const tensorsFile = `${name}.safetensors`;
  await writeSafetensors(join(dir, tensorsFile), tensors, { format: 'radlearn-checkpoint-v1', step: String(state.step) });
  const full: CheckpointState = { format: 'radlearn-checkpoint-v1', ...state, tensors: tensorsFile };
  const statePath = join(dir, `${name}.json`);
  await writeJsonAtomic(statePath, full);
  await writeJsonAtomic(join(dir, 'latest.json'), { step: state.step, state: `${name}.json` });
  await prune(dir, keep);
  return join(dir, tensorsFile);
}

async function prune(dir: string, keep: number): Promise<void> {
  const steps = (await readdir(dir)).filter((f) => /^step-\d+\.json$/.test(f)).sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) {
    const base = old.slice(0, -'.json'.length);
    await rm(join(dir, `${base}.safetensors`), { force: true });
    await rm(join(dir, old), { force: true });
  }
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'latest.json'));
}

export async function readLatestState(dir: string): Promise<CheckpointState> {
  const pointer = join(dir, 'latest.json');
  if (!existsSync(pointer)) throw new MissingFileError(pointer, 'checkpoint pointer (nothing to resume)');
  const { state } = JSON.parse(await readFile(pointer, 'utf8')) as { state: string };
  const path = join(dir, state);
  if (!existsSync(path)) throw new MissingFileError(path, 'checkpoint state');
  const parsed = JSON.parse(await readFile(path, 'utf8')) as CheckpointState;
  if (parsed.format !== 'radlearn-checkpoint-v1') throw new CheckpointError(`${path}: unknown checkpoint format ${String(parsed.format)}`, { path });
  return parsed;
}

/** Loads tensors of `state` into the live buffers (shapes must match the run's layout exactly). */
export async function restoreCheckpoint(dir: string, state: CheckpointState, contents: CheckpointContents): Promise<void> {
  const path = join(dir, state.tensors);
  const file = await readSafetensors(path);
  const take = (name: string, into: Float32Array): void => {
    const t = file.tensors.get(name);
    if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing`, { path, name });
    if (t.dtype !== 'F32' || t.data.length !== into.length) throw new CheckpointError(`${path}: tensor ${name} is ${t.dtype} ${JSON.stringify(t.shape)}, the run expects F32 with ${into.length} values`, { path, name });
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
}
