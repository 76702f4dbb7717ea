/**
 * Which rows each global step trains on: the phases run one after another, each epoch of a phase
 * is a permutation of its rows keyed by (seed, phase, epoch) with the last partial batch dropped.
 * On resume the permutation the checkpoint saved must be the one this data gives again, or the
 * run would silently continue on other batches.
 */
import { epochOrder } from './data-order.js';
import { ResumeMismatchError } from './errors.js';
import type { Phase } from './task.js';

/** The data order a checkpoint records: the epoch it was in and that epoch's permutation. */
export interface SavedDataOrder {
  phase: string;
  epoch: number;
  position: number;
  permutation: number[];
}

export interface StepPosition {
  phase: Phase;
  epoch: number;
  /** Batch index within the epoch. */
  position: number;
  /** Step index within the phase. */
  local: number;
}

export class BatchSchedule {
  readonly totalSteps: number;
  private cached: { key: string; order: Int32Array } | undefined;
  private resumed: { phase: string; epoch: number; order: Int32Array } | undefined;

  constructor(
    private readonly phases: readonly Phase[],
    private readonly seed: number,
  ) {
    this.totalSteps = phases.reduce((a, p) => a + p.steps, 0);
  }

  /** The order the next use of (phase, epoch) must reproduce. */
  expect(saved: SavedDataOrder): void {
    this.resumed = { phase: saved.phase, epoch: saved.epoch, order: Int32Array.from(saved.permutation) };
  }

  /** Where global step `step` (0-based) falls; past the end: the last phase's end. */
  position(step: number): StepPosition {
    let start = 0;
    let index = this.phases.length - 1;
    let local = this.phases[index]!.steps;
    for (let p = 0; p < this.phases.length; p++) {
      if (step < start + this.phases[p]!.steps) {
        index = p;
        local = step - start;
        break;
      }
      start += this.phases[p]!.steps;
    }
    const phase = this.phases[index]!;
    const perEpoch = Math.max(1, Math.floor(phase.rows.length / phase.batchSize));
    return { phase, epoch: Math.floor(local / perEpoch), position: local % perEpoch, local };
  }

  /** The permutation of the phase's rows for `epoch` (indices into phase.rows). */
  order(phase: Phase, epoch: number): Int32Array {
    const key = `${phase.name}:${epoch}`;
    if (this.cached?.key === key) return this.cached.order;
    const order = epochOrder(phase.rows.length, this.seed, phase.name, epoch);
    const resumed = this.resumed;
    if (resumed && resumed.phase === phase.name && resumed.epoch === epoch) {
      if (resumed.order.length !== order.length || resumed.order.some((v, i) => v !== order[i])) {
        throw new ResumeMismatchError(
          `cannot resume: the data order saved in the checkpoint (phase ${phase.name}, epoch ${epoch}) differs from the one this data gives; the manifest or splits changed`,
        );
      }
    }
    this.cached = { key, order };
    return order;
  }

  /** The dataset rows of step `step`'s batch. */
  batch(at: StepPosition): Int32Array {
    const { phase, position } = at;
    return Int32Array.from(
      this.order(phase, at.epoch).subarray(position * phase.batchSize, (position + 1) * phase.batchSize),
      (i) => phase.rows[i]!,
    );
  }

  /** The data order to record in a checkpoint written after `step` steps. */
  saved(step: number): SavedDataOrder {
    const at = this.position(Math.min(step, this.totalSteps - 1));
    return { phase: at.phase.name, epoch: at.epoch, position: at.position, permutation: Array.from(this.order(at.phase, at.epoch)) };
  }
}
