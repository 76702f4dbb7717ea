/**
 * The text pipeline is linear on every input shape: a hostile text of n characters may cost a
 * constant factor more than ordinary prose of n characters, never a factor that grows with n.
 * Times are CPU times of this process (the machine is shared), the minimum of a few runs.
 */
import { describe, expect, it } from 'vitest';
import { labelReport, labelSentence } from '../../../src/data/labeler/label.js';
import { HOSTILE_SHAPES, normalReport } from './hostile-shapes.js';

/** Sizes in characters, small first so a superlinear path fails before it gets slow. */
const SIZES = [16_000, 128_000, 512_000];
/** How many times ordinary prose's cost a hostile shape may take. */
const MAX_FACTOR = 20;
/** Allowance for timer and garbage-collector noise, in ms. */
const NOISE_MS = 25;

function cpuMs(work: () => void, runs: number): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const start = process.cpuUsage();
    work();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

const pipeline = (text: string) => (): void => {
  labelReport(text);
  labelSentence(text);
};

const referenceMs = new Map<number, number>();
function reference(n: number): number {
  let ms = referenceMs.get(n);
  if (ms === undefined) {
    cpuMs(pipeline(normalReport(n)), 1); // warm up the JIT
    ms = cpuMs(pipeline(normalReport(n)), 3);
    referenceMs.set(n, ms);
  }
  return ms;
}

describe('labelReport and labelSentence scale linearly', () => {
  for (const [shape, build] of Object.entries(HOSTILE_SHAPES)) {
    it(shape, () => {
      for (const n of SIZES) {
        const budget = MAX_FACTOR * reference(n) + NOISE_MS;
        const ms = cpuMs(pipeline(build(n)), 2);
        expect(ms, `${shape} at ${n} characters: ${ms.toFixed(1)} ms CPU, budget ${budget.toFixed(1)} ms`).toBeLessThan(budget);
      }
    });
  }
});
