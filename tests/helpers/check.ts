import { expect } from 'vitest';

/** A destination filled with NaN, so any element a kernel fails to write is caught. */
export function poisoned(length: number): Float32Array {
  return new Float32Array(length).fill(Number.NaN);
}

/** Every element was written (no NaN left from the poison). */
export function expectAllWritten(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) throw new Error(`${what}[${i}] was not written`);
  }
}

/**
 * Normwise relative error max|x - ref| / max(max|ref|, floor). The floor is the scale of the
 * quantity when the reference itself can vanish (e.g. a gradient that cancels exactly).
 */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>, floor = 1e-30): number {
  expect(actual.length).toBe(reference.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - reference[i]!));
    maxRef = Math.max(maxRef, Math.abs(reference[i]!));
  }
  return maxDiff / Math.max(maxRef, floor);
}

export function expectClose(actual: ArrayLike<number>, reference: ArrayLike<number>, tolerance: number, what: string, floor = 1e-30): void {
  const error = relativeError(actual, reference, floor);
  if (!(error <= tolerance)) throw new Error(`${what}: relative error ${error.toExponential(3)} > ${tolerance}`);
}
