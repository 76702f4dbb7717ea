/**
 * Fused AdamW over one flat buffer: radlearn's CPU kernel (norm pass + fused update) against
 * a plain TypeScript loop doing the same work (norm, clipping, masked decay, moments, update)
 * in the same process; CUDA timed with events on device-resident buffers.
 * GB/s counts the logical traffic of one step, 28 bytes per parameter: read params, grads,
 * m, v (16) and write params, m, v (12). The kernel's real traffic is 44 B (its pre-pass reads
 * grads, params, m and v once more to check the state and bound the step); the TypeScript
 * loop's is 32 B (norm pass).
 */
import { adamwStep, adamwStepSync, emaUpdateSync } from '../../src/index.js';
import { addon } from '../../src/native/addon.js';
import { backendInfo } from '../../src/index.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, randomArray } from '../harness.js';

const BYTES_PER_PARAM = 28;

function row(op: string, backend: string, n: number, t: { medianMs: number; p90Ms: number }, bytesPerParam = BYTES_PER_PARAM): BenchRow {
  return {
    op,
    backend,
    shape: `${n / 1e6}M params`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    itemsPerSec: n / (t.medianMs / 1e3),
    itemName: 'params',
    gbPerSec: (n * bytesPerParam) / (t.medianMs * 1e6),
  };
}

/** The same step, written the obvious way in TypeScript (float64 arithmetic, float32 storage). */
function tsAdamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, mask: Uint8Array, step: number): void {
  const lr = 1e-3,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8,
    wd = 0.01,
    maxNorm = 1;
  let sq = 0;
  for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const coef = Math.min(1, maxNorm / (Math.sqrt(sq) + 1e-6));
  const bc1 = 1 - b1 ** step,
    bc2 = Math.sqrt(1 - b2 ** step);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]! * coef;
    let pi = p[i]!;
    if (mask[i]) pi *= 1 - lr * wd;
    const mi = (m[i] = b1 * m[i]! + (1 - b1) * gi);
    const vi = (v[i] = b2 * v[i]! + (1 - b2) * gi * gi);
    p[i] = pi - (lr / bc1) * (mi / (Math.sqrt(vi) / bc2 + eps));
  }
}

export const cases: BenchCase[] = [
  {
    name: 'adamw',
    async run({ quick }) {
      const rows: BenchRow[] = [];
      const device = backendInfo().device !== undefined;
      for (const n of quick ? [1_000_000] : [1_000_000, 10_000_000]) {
        const params = randomArray(n, 1);
        const grads = randomArray(n, 2, 0.1);
        const m = new Float32Array(n);
        const v = new Float32Array(n);
        const mask = new Uint8Array(n).fill(1);
        let step = 0;
        const opts = { minRuns: 5, minTimeMs: 500 };
        const ts = row(
          'typescript loop (norm + clip + AdamW)',
          'cpu',
          n,
          await time(() => tsAdamW(params, grads, m, v, mask, ++step), { ...opts, minRuns: 3 }),
        );
        rows.push(ts);
        step = 0;
        const state = { m, v };
        // The kernel itself: the sync form works on the caller's arrays.
        const fused = row(
          'adamwStepSync (clip + decay mask)',
          'cpu',
          n,
          await time(
            () => adamwStepSync(params, grads, state, { lr: 1e-3, step: ++step, maxGradNorm: 1, decayMask: mask, backend: 'cpu' }),
            opts,
          ),
        );
        rows.push(withRatio(fused, ts));
        const plain = row(
          'adamwStepSync (no mask, no clip)',
          'cpu',
          n,
          await time(() => adamwStepSync(params, grads, state, { lr: 1e-3, step: ++step, backend: 'cpu' }), opts),
        );
        rows.push(withRatio(plain, ts));
        // The Promise form also copies the four buffers in and the three it writes back out.
        const async = row(
          'adamwStep (async, clip + decay mask)',
          'cpu',
          n,
          await time(
            () => adamwStep(params, grads, state, { lr: 1e-3, step: ++step, maxGradNorm: 1, decayMask: mask, backend: 'cpu' }),
            opts,
          ),
        );
        rows.push({ ...withRatio(async, fused), note: 'ratio against the sync form: the cost of owning the host operands' });
        const ema = row(
          'emaUpdateSync',
          'cpu',
          n,
          await time(() => emaUpdateSync(m, params, 0.999, { backend: 'cpu', checkFinite: false }), opts),
          12,
        );
        rows.push({ ...ema, note: 'GB/s on 12 B/param (read ema, params; write ema)' });
        if (device) {
          const samples = Array.from(addon().benchAdamwCuda({ length: n, iterations: 30 }));
          rows.push({
            ...row('adamwStep (clip)', 'cuda (events)', n, summarize(samples)),
            note: 'device-resident; includes the 8-byte norm read-back',
          });
        }
      }
      return rows;
    },
  },
];
