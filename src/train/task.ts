/**
 * What a mode brings to the training loop (loop.ts): its parameters, its phases, the step that
 * computes one batch's loss and gradients, the settings of the update after it, and what a
 * checkpoint must carry besides parameters and optimizer moments. The loop owns everything else
 * (run folder, resume, data order, schedule, optimizer, averaging, divergence guard, metrics,
 * checkpoints, abort), the same for every mode.
 */
import type { DataParallel } from '../distributed/data-parallel.js';
import type { Head } from './heads.js';
import type { AdamWHyper, FlatOptimizer } from './ops.js';
import type { FlatParameters } from './parameters.js';

export interface Phase {
  name: string;
  steps: number;
  /** The parameter group the phase updates (one optimizer per group). */
  group: string;
  /** Dataset rows the phase draws batches from. */
  rows: Int32Array;
  batchSize: number;
}

/** A step's batch across the ranks of a data-parallel job (in one process: the batch itself). */
export interface StepShard {
  /** Every rank's rows, rank by rank; the step's `batch` is this rank's slice of them. */
  readonly global: Int32Array;
  readonly parallel: DataParallel;
}

export interface StepOutput {
  loss: number;
  metrics: Record<string, number>;
  /** Something the user should know about after this step (emitted as a 'warning' stage event). */
  warning?: string;
}

/** Averaged parameters that the task itself reads (the DINO teacher), with their momentum schedule. */
export interface ParameterAverage {
  readonly buffer: Float32Array;
  /** The momentum of the update after global step `step` (0-based). */
  momentum(step: number): number;
}

export interface Task {
  readonly params: FlatParameters;
  readonly phases: readonly Phase[];
  /**
   * Forward + backward for one batch of dataset rows; gradients are accumulated into params.grad
   * (zeroed by the loop). `step`: the run's global step index (0-based), to key per-step
   * randomness so a resumed run repeats it. In a data-parallel job `batch` is this rank's rows of
   * `shard.global`: the task returns the loss and metrics of the global batch (the same on every
   * rank) and accumulates this rank's share of its gradient (the loop sums the shares).
   */
  step(phase: Phase, batch: Int32Array, epoch: number, step: number, shard: StepShard): StepOutput | Promise<StepOutput>;
  /** true: step() computes the global batch's loss from a shard; else (or why not) the task runs in one process only. */
  readonly dataParallel?: true | { reason: string };
  /**
   * Starts preparing step `step`'s inputs (e.g. its augmented views) while the step before it
   * runs; step() then uses them. What it prepares must be what step() would compute itself.
   */
  prefetch?(phase: Phase, batch: Int32Array, epoch: number, step: number): void;
  /** The optimizer of a parameter group when the task needs its own (per-group learning rates). */
  createOptimizer?(group: string): FlatOptimizer;
  /** This update's AdamW settings, given the run's (optim.* with the scheduled learning rate). */
  updateSettings?(step: number, settings: AdamWHyper): AdamWHyper;
  /** Projections after an optimizer update (e.g. clipping the logit scale). */
  afterUpdate?(phase: Phase): void;
  /** Averaged parameters the task reads itself; without it the loop keeps one when optim.ema is set. */
  readonly average?: ParameterAverage;
  /** Buffers besides parameters, moments and the average that a checkpoint carries (restored in place). */
  readonly state?: Readonly<Record<string, Float32Array>>;
  /** The counter-based random streams the task draws from, recorded in every checkpoint. */
  readonly randomStreams: readonly string[];
  /** The image-only classifier head, if the mode trains one. */
  readonly classifier?: { head: Head; labels: string[] };
  /** The image and text projection heads, if the mode trains them (zero-shot evaluation). */
  readonly projections?: { imageHead: Head; textHead: Head };
}

/** The random streams the image-report modes record (not every one of them draws from each). */
export const REPORT_MODE_STREAMS: readonly string[] = ['data-order/<phase>/<epoch>', 'sentences/<epoch>/<row>', 'param-init/<name>'];

/** Rows per batch: the configured size, at most the phase's rows, at least one. */
export function batchSizeFor(configured: number, rows: number): number {
  return Math.max(1, Math.min(configured, rows));
}
