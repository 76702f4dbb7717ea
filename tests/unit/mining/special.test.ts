import { describe, expect, it } from 'vitest';
import { digamma, expDigamma, logGamma } from '../../../src/mining/special.js';

// scipy.special.digamma and gammaln (double precision) at these points
const REFERENCE: Array<[number, number, number]> = [
  [0.001, -1000.5755719318103, 6.907178885383853],
  [0.05, -20.49784499129987, 2.968879201051731],
  [0.5, -1.9635100260214235, 0.5723649429247],
  [1, -0.5772156649015329, 0],
  [2.5, 0.7031566406452432, 0.2846828704729192],
  [5.99, 1.704302797413849, 4.770439637715405],
  [6, 1.7061176684318005, 4.787491742782046],
  [10, 2.251752589066721, 12.801827480081469],
  [123.4, 4.8113737751162775, 469.3360974421906],
  [1e6, 13.81551005796419, 12815504.569147611],
];

describe('digamma, exp(digamma), log-gamma', () => {
  it.each(REFERENCE)('at %d they match scipy to 1e-12 relative', (x, psi, lgamma) => {
    expect(Math.abs(digamma(x) - psi)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(psi)));
    expect(Math.abs(expDigamma(x) - Math.exp(psi))).toBeLessThanOrEqual(1e-12 * Math.exp(psi));
    expect(Math.abs(logGamma(x) - lgamma)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(lgamma)));
  });

  it('satisfies the recurrences across the switch to the asymptotic series', () => {
    for (let x = 0.01; x < 20; x += 0.173) {
      expect(digamma(x + 1) - digamma(x)).toBeCloseTo(1 / x, 10);
      expect(logGamma(x + 1) - logGamma(x)).toBeCloseTo(Math.log(x), 10);
    }
  });
});
