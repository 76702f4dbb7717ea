/**
 * One checkpoint mechanism for every training loop. A checkpoint is `<prefix><step>.safetensors`
 * plus a sealed `<prefix><step>.json` state recording the tensors file's digests; a sealed pointer
 * names the newest. Files are written tensors, state, pointer, each atomically, so a crash leaves
 * the previous checkpoint whole. Loading trusts no file unverified and the pointer only as a hint:
 * it scans the folder newest first and takes the first checkpoint that verifies completely.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingFileError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeWithIntegrity, parseIntegrity, verifyTensors, type TensorsIntegrity } from './checkpoint-integrity.js';
import { CheckpointDamagedError, type CheckpointRejection } from './errors.js';
import type { SafetensorsFile, SafetensorsTensor } from './safetensors.js';
import { openSealedJson, sealJson } from './sealed-json.js';

export interface CheckpointLayout {
  /** File names are `<prefix><step zero-padded to digits>.{safetensors,json}`. */
  prefix: string;
  digits: number;
  pointer: string;
  /** Format string of the state files (also in the safetensors metadata). */
  format: string;
  pointerFormat: string;
  /** What the messages call one checkpoint, e.g. 'DINO checkpoint'. */
  label: string;
}

/** The keys the store itself puts in every state file. */
export interface StateEnvelope {
  format: string;
  step: number;
  tensors: string;
  integrity: TensorsIntegrity;
}

export interface LoadedCheckpoint<S> {
  state: S & StateEnvelope;
  file: SafetensorsFile;
  statePath: string;
  tensorsPath: string;
  /** Newer checkpoints that failed verification, newest first. */
  rejected: Array<CheckpointRejection & { step: number }>;
  /** Set when the pointer is damaged or names a checkpoint that does not exist. */
  pointerProblem?: CheckpointRejection;
}

export const stemOf = (layout: CheckpointLayout, step: number): string => `${layout.prefix}${String(step).padStart(layout.digits, '0')}`;

/** Steps that have a state or tensors file in `names`, newest first. */
function checkpointSteps(layout: CheckpointLayout, names: readonly string[]): number[] {
  const steps = new Set<number>();
  for (const name of names) {
    const match = /^(.*)\.(json|safetensors)$/.exec(name);
    if (!match || !match[1]!.startsWith(layout.prefix)) continue;
    const digits = match[1]!.slice(layout.prefix.length);
    // only names this store writes: exactly the padded step, nothing else
    if (/^\d+$/.test(digits) && stemOf(layout, Number(digits)) === match[1]) steps.add(Number(digits));
  }
  return [...steps].sort((a, b) => b - a);
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Whether `dir` holds the pointer or any checkpoint file, intact or not. */
export function hasCheckpointFiles(dir: string, layout: CheckpointLayout): boolean {
  if (existsSync(join(dir, layout.pointer))) return true;
  try {
    return checkpointSteps(layout, readdirSync(dir)).length > 0;
  } catch {
    return false;
  }
}

function pointerText(layout: CheckpointLayout, step: number): string {
  return sealJson({ format: layout.pointerFormat, step, state: `${stemOf(layout, step)}.json` });
}

/** Writes one checkpoint (tensors, state, pointer) and prunes all but the newest `keep`; returns the tensors path. */
export async function writeCheckpoint(
  dir: string,
  layout: CheckpointLayout,
  step: number,
  tensors: Record<string, SafetensorsTensor>,
  state: Record<string, unknown>,
  keep: number,
  metadata: Record<string, string> = {},
): Promise<string> {
  const stem = stemOf(layout, step);
  const tensorsFile = `${stem}.safetensors`;
  const { bytes, integrity } = encodeWithIntegrity(tensors, { format: layout.format, step: String(step), ...metadata });
  await writeFileAtomic(join(dir, tensorsFile), bytes);
  await writeFileAtomic(join(dir, `${stem}.json`), sealJson({ format: layout.format, ...state, step, tensors: tensorsFile, integrity }));
  await writeFileAtomic(join(dir, layout.pointer), pointerText(layout, step));
  const steps = checkpointSteps(layout, await listNames(dir));
  for (const old of steps.slice(Math.max(0, keep))) {
    if (old === step) continue;
    await rm(join(dir, `${stemOf(layout, old)}.safetensors`), { force: true });
    await rm(join(dir, `${stemOf(layout, old)}.json`), { force: true });
  }
  return join(dir, tensorsFile);
}

async function readBytes(path: string, what: string): Promise<Uint8Array | CheckpointRejection> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { path, reason: code === 'ENOENT' ? `is missing (${what})` : `cannot be read (${code ?? (error as Error).message})` };
  }
}

type Verified<S> =
  | { ok: true; state: S & StateEnvelope; file: SafetensorsFile; statePath: string; tensorsPath: string }
  | { ok: false; rejection: CheckpointRejection };

async function verifyCheckpoint<S>(dir: string, layout: CheckpointLayout, step: number): Promise<Verified<S>> {
  const stem = stemOf(layout, step);
  const statePath = join(dir, `${stem}.json`);
  const tensorsPath = join(dir, `${stem}.safetensors`);
  const reject = (rejection: CheckpointRejection): Verified<S> => ({ ok: false, rejection });
  const stateBytes = await readBytes(statePath, 'its tensors were written but the checkpoint was never completed');
  if (!(stateBytes instanceof Uint8Array)) return reject(stateBytes);
  const opened = openSealedJson(stateBytes, statePath, layout.format);
  if (!opened.ok) return reject(opened.rejection);
  const state = opened.value;
  if (state.step !== step)
    return reject({
      path: statePath,
      reason: `records step ${String(state.step)}, its name says ${step}`,
      part: 'step',
      expected: String(step),
      found: String(state.step),
    });
  if (state.tensors !== `${stem}.safetensors`)
    return reject({
      path: statePath,
      reason: `names tensors file ${JSON.stringify(state.tensors)}, expected ${stem}.safetensors`,
      part: 'tensors',
    });
  const integrity = parseIntegrity(state.integrity);
  if (typeof integrity === 'string') return reject({ path: statePath, reason: integrity, part: 'integrity' });
  const tensorBytes = await readBytes(tensorsPath, 'the state names it');
  if (!(tensorBytes instanceof Uint8Array)) return reject(tensorBytes);
  const verified = verifyTensors(tensorBytes, integrity, tensorsPath);
  if (!verified.ok) return reject(verified.rejection);
  return { ok: true, state: state as S & StateEnvelope, file: verified.file, statePath, tensorsPath };
}

/** What the pointer says, or why it cannot be believed; absent pointer: `exists: false`. */
async function readPointer(
  dir: string,
  layout: CheckpointLayout,
  present: ReadonlySet<number>,
): Promise<{ exists: boolean; problem?: CheckpointRejection }> {
  const path = join(dir, layout.pointer);
  if (!existsSync(path)) return { exists: false };
  const bytes = await readBytes(path, 'checkpoint pointer');
  if (!(bytes instanceof Uint8Array)) return { exists: true, problem: bytes };
  const opened = openSealedJson(bytes, path, layout.pointerFormat);
  if (!opened.ok) return { exists: true, problem: opened.rejection };
  const { step, state } = opened.value;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0 || state !== `${stemOf(layout, step)}.json`) {
    return {
      exists: true,
      problem: {
        path,
        reason: `names ${JSON.stringify(state)} for step ${JSON.stringify(step)}, which is not a checkpoint of this folder`,
        part: 'state',
      },
    };
  }
  if (!present.has(step)) return { exists: true, problem: { path, reason: `names ${state}, which does not exist`, part: 'state' } };
  return { exists: true };
}

/** One named checkpoint, verified completely; CheckpointDamagedError says why when it is not. */
export async function loadVerified<S>(dir: string, layout: CheckpointLayout, step: number): Promise<LoadedCheckpoint<S>> {
  const verified = await verifyCheckpoint<S>(dir, layout, step);
  if (!verified.ok) throw new CheckpointDamagedError(dir, [verified.rejection]);
  const { ok: _ok, ...found } = verified;
  return { ...found, rejected: [] };
}

/**
 * The newest checkpoint in `dir` that verifies completely (read-only). Throws MissingFileError
 * when there is nothing at all, CheckpointDamagedError listing every rejection when nothing verifies.
 */
export async function loadNewestIntact<S>(dir: string, layout: CheckpointLayout): Promise<LoadedCheckpoint<S>> {
  const steps = checkpointSteps(layout, await listNames(dir));
  const pointer = await readPointer(dir, layout, new Set(steps));
  if (steps.length === 0) {
    const pointerPath = join(dir, layout.pointer);
    if (!pointer.exists) throw new MissingFileError(pointerPath, `${layout.label} pointer (nothing to resume)`);
    throw new CheckpointDamagedError(dir, [
      pointer.problem ?? { path: pointerPath, reason: 'names a checkpoint, but the folder holds none' },
    ]);
  }
  const rejected: LoadedCheckpoint<S>['rejected'] = [];
  for (const step of steps) {
    const verified = await verifyCheckpoint<S>(dir, layout, step);
    if (verified.ok) {
      const { ok: _ok, ...found } = verified;
      return { ...found, rejected, ...(pointer.problem ? { pointerProblem: pointer.problem } : {}) };
    }
    rejected.push({ ...verified.rejection, step });
  }
  throw new CheckpointDamagedError(dir, pointer.problem ? [pointer.problem, ...rejected] : rejected);
}

/**
 * loadNewestIntact for a resume. After a fallback the rejected newer checkpoints are renamed to
 * `*.damaged` (kept for inspection, but out of the rotation: pruning by step would otherwise keep
 * them over intact older ones) and the pointer is rewritten; `warning` says what was found.
 */
export async function loadForResume<S>(dir: string, layout: CheckpointLayout): Promise<LoadedCheckpoint<S> & { warning?: string }> {
  const loaded = await loadNewestIntact<S>(dir, layout);
  const problems = [...(loaded.pointerProblem ? [loaded.pointerProblem] : []), ...loaded.rejected];
  if (problems.length === 0) return loaded;
  for (const { step } of loaded.rejected) {
    for (const ext of ['json', 'safetensors']) {
      const path = join(dir, `${stemOf(layout, step)}.${ext}`);
      if (existsSync(path)) await rename(path, `${path}.damaged`);
    }
  }
  await writeFileAtomic(join(dir, layout.pointer), pointerText(layout, loaded.state.step));
  const moved = loaded.rejected.length > 0 ? ` (the rejected files were renamed to *.damaged)` : '';
  const warning =
    `${layout.label} damage found: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}. ` +
    `Resuming from the newest intact ${layout.label}, ${loaded.statePath} (step ${loaded.state.step})${moved}`;
  return { ...loaded, warning };
}
