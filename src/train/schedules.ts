/**
 * Every schedule of a run: learning rate and weight decay (cosine with linear warmup), the DINO
 * teacher's temperature warm-up and EMA momentum. One half-cosine core serves them all; each
 * entry point keeps the exact arithmetic its results were made with.
 */
import { InvalidArgumentError, describeValue } from '../errors.js';
import { finiteInRange, finiteNumber, optionsObject, positiveSize } from '../kernels/operands.js';

/** The half cosine from `from` (progress 0) to `to` (progress 1). */
function cosineBetween(from: number, to: number, progress: number): number {
  return to + (from - to) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Learning rate at 0-based step `step` of `total`: linear warmup, then cosine decay to minRatio * lr. */
export function cosineLr(step: number, total: number, lr: number, warmup: number, minRatio: number): number {
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  return lr * cosineBetween(1, minRatio, Math.min(1, Math.max(0, (step - warmup) / span)));
}

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of warmup. */
  base: number;
  /** Steps of linear warmup from base / warmupSteps up to base (default 0). */
  warmupSteps?: number;
  /** Total steps; after warmup the rate follows a half cosine from base to final, then stays at final. */
  totalSteps: number;
  /** Final learning rate (default 0). */
  final?: number;
}

/**
 * Cosine schedule with linear warmup, as a function of the 0-based step index:
 *   step < warmup:  base * (step + 1) / warmup
 *   otherwise:      final + (base - final) * 0.5 * (1 + cos(pi * min(1, (step - warmup) / max(1, total - warmup))))
 */
export function cosineSchedule(options: CosineScheduleOptions): (step: number) => number {
  optionsObject(options, 'cosineSchedule');
  const base = finiteNumber(options.base, 'base');
  const final = finiteNumber(options.final ?? 0, 'final');
  const warmup = positiveSize(options.warmupSteps ?? 0, 'warmupSteps');
  const total = positiveSize(options.totalSteps, 'totalSteps');
  if (base < 0 || final < 0) throw new InvalidArgumentError(`learning rates must be >= 0 (base ${base}, final ${final})`);
  if (warmup > total) throw new InvalidArgumentError(`warmupSteps (${warmup}) must not exceed totalSteps (${total})`);
  const decaySteps = Math.max(1, total - warmup);
  return (step: number): number => {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new InvalidArgumentError(`step must be a non-negative integer, got ${describeValue(step)}`);
    if (step < warmup) return (base * (step + 1)) / warmup;
    return cosineBetween(base, final, Math.min(1, (step - warmup) / decaySteps));
  };
}

/** Options of the teacher temperature warm-up (DINO: 0.04 -> 0.07 over the first epochs). */
export interface TeacherTemperatureOptions {
  /** Epochs of linear warm-up (0: the final temperature from the start). */
  warmupEpochs: number;
  /** Temperature at epoch 0 (default 0.04). */
  warmupTemperature?: number;
  /** Temperature from epoch warmupEpochs - 1 on (default 0.07). */
  temperature?: number;
}

/**
 * Teacher temperature at `epoch` (fractional epochs interpolate): linear from
 * warmupTemperature at epoch 0 to temperature at epoch warmupEpochs - 1, constant after, as
 * DINO's np.linspace(warmup, final, warmupEpochs) followed by the final value.
 */
export function teacherTemperature(epoch: number, options: TeacherTemperatureOptions): number {
  optionsObject(options, 'teacherTemperature');
  const e = finiteInRange(epoch, 'epoch', 0);
  const warmup = finiteInRange(options.warmupEpochs, 'warmupEpochs', 0);
  const start = finiteNumber(options.warmupTemperature ?? 0.04, 'warmupTemperature');
  const end = finiteNumber(options.temperature ?? 0.07, 'temperature');
  if (start <= 0 || end <= 0) throw new InvalidArgumentError('temperatures must be > 0');
  if (e >= warmup) return end;
  if (warmup <= 1) return start;
  return start + ((end - start) * e) / (warmup - 1);
}

/**
 * EMA teacher momentum at `step` of `totalSteps`: cosine from `base` (step 0) to `final`
 * (step totalSteps), m = final - (final - base) (1 + cos(pi step / totalSteps)) / 2, as
 * DINO's cosine_scheduler. Steps past the end give `final`.
 */
export function teacherMomentum(step: number, totalSteps: number, base = 0.992, final = 1): number {
  const s = finiteInRange(step, 'step', 0);
  const total = finiteInRange(totalSteps, 'totalSteps', 0);
  if (total <= 0) throw new InvalidArgumentError(`totalSteps must be > 0, got ${total}`);
  finiteInRange(base, 'base', 0, 1);
  finiteInRange(final, 'final', 0, 1);
  return cosineBetween(base, final, Math.min(s, total) / total);
}
