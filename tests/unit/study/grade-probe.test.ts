import { describe, expect, it } from 'vitest';
import { quadraticWeightedKappa } from '../../../src/eval/multiclass.js';
import { Rng } from '../../../src/random/index.js';
import { fitGradeProbe } from '../../../src/train/study/grade-probe.js';

/** Features [n, 12] whose first two coordinates carry a latent severity; grades 0-4 cut from it with noise. */
function data(n: number, seed: number): { features: Float32Array; grades: Float32Array } {
  const rng = new Rng(seed, 'grade-probe');
  const features = new Float32Array(n * 12);
  const grades = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const severity = rng.uniform(0, 5);
    for (let d = 0; d < 12; d++) features[i * 12 + d] = rng.normal(0, 1) + (d === 0 ? 2 * severity : d === 1 ? -severity : 0) + 7;
    grades[i] = Math.min(4, Math.floor(severity + rng.normal(0, 0.15)));
    grades[i] = Math.max(0, grades[i]!);
  }
  return { features, grades };
}

describe('the ordinal grade probe', () => {
  it('recovers ordered grades from features that carry them (QWK > 0.9, accuracy well above chance)', () => {
    const { features, grades } = data(900, 1);
    const train = Int32Array.from({ length: 600 }, (_, i) => i);
    const test = Int32Array.from({ length: 300 }, (_, i) => 600 + i);
    const probe = fitGradeProbe(features, 12, train, grades, { levels: 5, steps: 400 });
    const predicted = probe.predict(features, test);
    const truth = Array.from(test, (r) => grades[r]!);
    const accuracy = truth.filter((t, i) => t === predicted[i]).length / test.length;
    expect(accuracy).toBeGreaterThan(0.6);
    expect(quadraticWeightedKappa(truth, Array.from(predicted), { numClasses: 5 }).kappa).toBeGreaterThan(0.9);
    expect(Math.min(...predicted)).toBe(0);
    expect(Math.max(...predicted)).toBe(4);
  });

  it('finds nothing in features that carry nothing (QWK near 0)', () => {
    const { features } = data(900, 2);
    const shuffled = data(900, 3).grades;
    const train = Int32Array.from({ length: 600 }, (_, i) => i);
    const test = Int32Array.from({ length: 300 }, (_, i) => 600 + i);
    const predicted = fitGradeProbe(features, 12, train, shuffled, { levels: 5, steps: 400 }).predict(features, test);
    const kappa = quadraticWeightedKappa(
      Array.from(test, (r) => shuffled[r]!),
      Array.from(predicted),
      { numClasses: 5 },
    ).kappa;
    expect(Math.abs(kappa)).toBeLessThan(0.2);
  });
});
