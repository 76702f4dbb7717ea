import { InvalidArgumentError } from '../../errors.js';

/** Metadata key holding the JSON config a built-in encoder was built from. */
export const ENCODER_METADATA_KEY = 'radlearn.encoder';

export function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError(`${field} must be a positive integer, got ${value}`, { field, value });
  return value;
}

export function positiveInts(values: readonly number[], field: string): number[] {
  if (values.length === 0) throw new InvalidArgumentError(`${field} must not be empty`, { field });
  return values.map((v, i) => positiveInt(v, `${field}[${i}]`));
}

export function divisible(a: number, b: number, what: string): void {
  if (a % b !== 0) throw new InvalidArgumentError(`${what}: ${a} is not divisible by ${b}`, { a, b });
}
