/**
 * The RNG family: every random number radlearn draws comes from here, seeded, never from
 * Math.random. Three generators share the seeding core (splitmix32, hash keys) and one
 * stream interface; each keeps the exact streams existing results were made with:
 * - `Rng` (counter.ts): counter-based draws keyed by tuples (seed, epoch, row, ...) for the
 *   phantom, data order, sentence sampling and splits: no state carried between calls;
 * - `Sfc32` (sfc32.ts) with `streamSeed(seed, name)`: one stream per parameter for
 *   initialisation, so adding a layer never changes another's values;
 * - `createEvalRng` (xoshiro.ts): 53-bit doubles for bootstrap CIs and label fractions.
 */
export { Rng, hashKeys, hashString, hashUniform, mix32 } from './counter.js';
export { Sfc32, streamSeed } from './sfc32.js';
export { createEvalRng, seededPermutation, type EvalRng } from './xoshiro.js';
export { splitmix32 } from './splitmix.js';

/** What code that only needs random numbers asks for: any generator of the family fits. */
export interface RandomStream {
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
}
