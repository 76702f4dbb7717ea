/**
 * The order in which a phase visits its rows in one epoch: a Fisher-Yates shuffle keyed by
 * (seed, phase, epoch), so a resumed run sees exactly the batches an uninterrupted one would.
 */
import { Rng } from '../random/index.js';

export function epochOrder(n: number, seed: number, phase: string, epoch: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed, 'data-order', phase, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
