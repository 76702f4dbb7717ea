/** Command-line flag values (strings) read as numbers or choices, with typed errors naming the flag. */
import { InvalidArgumentError } from '../index.js';

/** An integer flag, at least `min`. */
export function integerFlag(name: string, value: string, min = -Infinity): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(`--${name} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got '${value}'`);
  }
  return n;
}

/** A number flag greater than 0. */
export function positiveFlag(name: string, value: string): number {
  const x = Number(value);
  if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`--${name} must be a positive number, got '${value}'`);
  return x;
}

/** One of `allowed`. */
export function choiceFlag<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}
