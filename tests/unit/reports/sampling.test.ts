import { describe, expect, it } from 'vitest';
import { hashKeys, Rng } from '../../../src/random/index.js';
import { parseReport } from '../../../src/data/reports/parse.js';
import { candidateSentences, sampleSentences } from '../../../src/data/sampling/sentences.js';

const REPORT = `INDICATION: Cough.

FINDINGS: Alpha one. Bravo two. Charlie three. Delta four. Echo five.

IMPRESSION: 1. Foxtrot six. 2. Golf seven.`;
const ALL = ['Alpha one.', 'Bravo two.', 'Charlie three.', 'Delta four.', 'Echo five.', 'Foxtrot six.', 'Golf seven.'];

describe('Rng and hashKeys', () => {
  it('are deterministic, order-sensitive and well spread', () => {
    expect(hashKeys(1, 2, 3)).toBe(hashKeys(1, 2, 3));
    expect(hashKeys(1, 2, 3)).not.toBe(hashKeys(3, 2, 1));
    expect(hashKeys('a', 1)).not.toBe(hashKeys('b', 1));
    expect(hashKeys(2 ** 40 + 5)).not.toBe(hashKeys(5));
    const a = new Rng(7, 'x');
    const b = new Rng(7, 'x');
    const draws = Array.from({ length: 1000 }, () => a.next());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.next()));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });

  it('draws normals with the right moments and integers in range', () => {
    const rng = new Rng(3);
    const z = Array.from({ length: 20000 }, () => rng.normal(2, 3));
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const sd = Math.sqrt(z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length);
    expect(mean).toBeCloseTo(2, 1);
    expect(sd).toBeGreaterThan(2.9);
    expect(sd).toBeLessThan(3.1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});

describe('sampleSentences', () => {
  it('draws from FINDINGS + IMPRESSION by default, in report order', () => {
    expect(candidateSentences(REPORT)).toEqual(ALL);
    for (let index = 0; index < 50; index++) {
      const text = sampleSentences(REPORT, { seed: 1, epoch: 0, index });
      const picked = ALL.filter((s) => text.includes(s));
      expect(picked.join(' ')).toBe(text); // a subsequence, order kept, nothing else
      expect(picked.length).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('Cough');
    }
  });

  it('is deterministic in (seed, epoch, index) and varies with each', () => {
    const at = (seed: number, epoch: number, index: number): string => sampleSentences(REPORT, { seed, epoch, index, min: 2, max: 5 });
    expect(at(1, 2, 3)).toBe(at(1, 2, 3));
    const variants = new Set<string>();
    for (let e = 0; e < 20; e++) variants.add(at(1, e, 3));
    expect(variants.size).toBeGreaterThan(5);
    expect(new Set([at(1, 0, 0), at(2, 0, 0), at(3, 0, 0), at(4, 0, 0), at(5, 0, 0)]).size).toBeGreaterThan(1);
  });

  it('draws counts uniformly in [min, max], clipped to the sentences available', () => {
    const counts = new Map<number, number>();
    const parsed = parseReport(REPORT);
    for (let index = 0; index < 3000; index++) {
      const n = ALL.filter((s) => sampleSentences(parsed, { seed: 9, epoch: 1, index, min: 2, max: 4 }).includes(s)).length;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([2, 3, 4]);
    for (const c of counts.values()) expect(c).toBeGreaterThan(850);
    expect(sampleSentences(REPORT, { seed: 1, epoch: 0, index: 0, min: 20, max: 30 })).toBe(ALL.join(' '));
  });

  it('honours sections and falls back to the whole report when they are empty', () => {
    const onlyImpression = sampleSentences(REPORT, { seed: 1, epoch: 0, index: 0, sections: ['IMPRESSION'], min: 2, max: 2 });
    expect(onlyImpression).toBe('Foxtrot six. Golf seven.');
    const noHeaders = 'Heart normal. Lungs clear. No effusion.';
    expect(sampleSentences(noHeaders, { seed: 1, epoch: 0, index: 0, min: 3 })).toBe(noHeaders);
    expect(sampleSentences('', { seed: 1, epoch: 0, index: 0 })).toBe('');
  });

  it('rejects invalid options with a clear error', () => {
    expect(() => sampleSentences(REPORT, { seed: Number.NaN, epoch: 0, index: 0 })).toThrow(/seed must be a finite number/);
    expect(() => sampleSentences(REPORT, { seed: 1, epoch: 0, index: 0, min: 3, max: 2 })).toThrow(/max must be an integer >= min/);
    expect(() => sampleSentences(REPORT, { seed: 1, epoch: 0, index: 0, min: -1 })).toThrow(/min must be a non-negative integer/);
  });
});
