/**
 * Study cells: one (pre-training, downstream, label fraction, seed) each, its result saved
 * atomically as cells/<id>.json so an interrupted study skips finished cells on the next run.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from '../../io/atomic.js';
import { DOWNSTREAM_PLANS, PRETRAINING_PLANS } from './arms.js';
import type { DownstreamArm, PretrainingArm, StudyConfig } from './config.js';

export interface StudyCell {
  id: string;
  pretraining: PretrainingArm;
  downstream: DownstreamArm;
  fraction: number;
  seed: number;
}

/**
 * What a cell's numbers depend on besides its id: the shared settings and the arms' plans. A saved
 * cell with another fingerprint is redone (adding arms, fractions or seeds keeps finished cells).
 */
export function cellFingerprint(config: StudyConfig, cell: StudyCell): string {
  const { out: _o, name: _n, pretraining: _p, downstream: _d, fractions: _f, seeds: _s, ...shared } = config;
  return createHash('sha256')
    .update(JSON.stringify({ shared, pre: PRETRAINING_PLANS[cell.pretraining], down: DOWNSTREAM_PLANS[cell.downstream] }))
    .digest('hex')
    .slice(0, 16);
  // (src/train/study/pretrain.ts keys the encoders' folders by the same shared settings)
}

export interface CellResult extends StudyCell {
  fingerprint: string;
  /** Evaluation the scores come from (see DOWNSTREAM_PLANS). */
  evaluation: string;
  /** In-site test AUROCs (with external validation: the test rows of the sites trained on). */
  perLabel: Array<{ label: string; auroc: number; ci: [number, number] }>;
  /** With external validation: each other site's AUROCs, the model trained in-site only. */
  external?: Array<{ site: string; perLabel: Array<{ label: string; auroc: number; ci: [number, number] }> }>;
  seconds: number;
  cpuSeconds: number;
  finishedAt: string;
}

/** Every cell, in run order (pre-training arm outermost so each encoder is made once). */
export function studyCells(config: StudyConfig): StudyCell[] {
  const cells: StudyCell[] = [];
  for (let seed = 0; seed < config.seeds; seed++) {
    for (const pretraining of config.pretraining) {
      for (const downstream of config.downstream) {
        for (const fraction of config.fractions) {
          cells.push({ id: `${pretraining}__${downstream}__f${fraction}__s${seed}`, pretraining, downstream, fraction, seed });
        }
      }
    }
  }
  return cells;
}

export const cellPath = (dir: string, cell: StudyCell): string => join(dir, 'cells', `${cell.id}.json`);

/** A finished cell's result, or undefined (missing or unreadable files count as not done). */
export async function readCell(dir: string, cell: StudyCell, fingerprint?: string): Promise<CellResult | undefined> {
  const path = cellPath(dir, cell);
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as CellResult;
    return r.id === cell.id && Array.isArray(r.perLabel) && (fingerprint === undefined || r.fingerprint === fingerprint) ? r : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCell(dir: string, result: CellResult): Promise<void> {
  await writeJsonAtomic(cellPath(dir, result), result);
}

/** Remaining-time estimate from the cells finished in this session (seconds), or undefined before the first. */
export function remainingSeconds(finishedSeconds: readonly number[], remainingCells: number): number | undefined {
  if (finishedSeconds.length === 0) return undefined;
  const mean = finishedSeconds.reduce((a, b) => a + b, 0) / finishedSeconds.length;
  return mean * remainingCells;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
