import { InvalidArgumentError, describeValue } from '../errors.js';
import { optionsObject } from './operands.js';

/** Options of the teacher temperature warm-up (DINO: 0.04 -> 0.07 over the first epochs). */
export interface TeacherTemperatureOptions {
  /** Epochs of linear warm-up (0: the final temperature from the start). */
  warmupEpochs: number;
  /** Temperature at epoch 0 (default 0.04). */
  warmupTemperature?: number;
  /** Temperature from epoch warmupEpochs - 1 on (default 0.07). */
  temperature?: number;
}

function finite(value: unknown, name: string, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Teacher temperature at `epoch` (fractional epochs interpolate): linear from
 * warmupTemperature at epoch 0 to temperature at epoch warmupEpochs - 1, constant after, as
 * DINO's np.linspace(warmup, final, warmupEpochs) followed by the final value.
 */
export function teacherTemperature(epoch: number, options: TeacherTemperatureOptions): number {
  optionsObject(options, 'teacherTemperature');
  const e = finite(epoch, 'epoch', 0);
  const warmup = finite(options.warmupEpochs, 'warmupEpochs', 0);
  const start = finite(options.warmupTemperature ?? 0.04, 'warmupTemperature');
  const end = finite(options.temperature ?? 0.07, 'temperature');
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
  const s = finite(step, 'step', 0);
  const total = finite(totalSteps, 'totalSteps', 0);
  if (total <= 0) throw new InvalidArgumentError(`totalSteps must be > 0, got ${total}`);
  finite(base, 'base');
  finite(final, 'final');
  if (base < 0 || base > 1 || final < 0 || final > 1) throw new InvalidArgumentError('momentum values must lie in [0, 1]');
  const t = Math.min(s, total) / total;
  return final + 0.5 * (base - final) * (1 + Math.cos(Math.PI * t));
}
