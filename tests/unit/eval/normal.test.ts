import { describe, expect, it } from 'vitest';
import { erfc, normalCdf, normalQuantile, twoSidedPValue } from '../../../src/eval/normal.js';

describe('normal distribution helpers', () => {
  it('match tabulated values', () => {
    // erfc values from Abramowitz & Stegun / high-precision tables.
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 14);
    expect(erfc(1)).toBeCloseTo(0.15729920705028513, 14);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 12);
    expect(erfc(6) / 2.151973671249892e-17).toBeCloseTo(1, 11);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(twoSidedPValue(1.959963984540054)).toBeCloseTo(0.05, 14);
    expect(twoSidedPValue(6) / 1.973175290075e-9).toBeCloseTo(1, 9);
  });

  it('quantile inverts the CDF to float64 precision', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 13);
    for (const p of [1e-12, 1e-6, 0.01, 0.024, 0.3, 0.5, 0.77, 0.976, 0.999999]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 11);
    }
    expect(normalQuantile(0.5)).toBeCloseTo(0, 15);
    expect(normalQuantile(2)).toBeNaN();
  });
});
