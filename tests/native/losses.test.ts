import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ShapeError,
  bceWithLogits,
  bceWithLogitsSync,
  ordinalLoss,
  ordinalLossSync,
  ordinalPredict,
  softmaxCrossEntropy,
  softmaxCrossEntropySync,
} from '../../src/index.js';
import { expectAllWritten, expectClose, poisoned } from '../helpers/check.js';
import { randomFloats, rng } from '../helpers/random.js';
import { bceRef, ordinalRef, softmaxCeRef, type Policy, type RefLoss } from '../helpers/reference-losses.js';

// Losses accumulate in float64 (CPU), gradients are float32: relative 1e-6 on the loss,
// normwise 1e-5 on the gradient.
const LOSS_TOL = 1e-6;
const GRAD_TOL = 1e-5;

function labelsFor(rows: number, classes: number, seed: number, missing = 0.2): { targets: Float32Array; mask: Float32Array } {
  const next = rng(seed);
  const targets = new Float32Array(rows * classes);
  const mask = new Float32Array(rows * classes);
  for (let i = 0; i < targets.length; i++) {
    const u = next();
    targets[i] = u < 0.15 ? -1 : u < 0.55 ? 1 : u < 0.6 ? 0.3 : 0; // uncertain, positive, soft, negative
    mask[i] = next() < missing ? 0 : 1;
  }
  return { targets, mask };
}

function expectLoss(actual: { loss: number; valid: number; grad: Float32Array }, ref: RefLoss, what: string): void {
  expect(actual.valid).toBe(ref.valid);
  expect(Math.abs(actual.loss - ref.loss)).toBeLessThanOrEqual(LOSS_TOL * Math.max(1, Math.abs(ref.loss)));
  expectAllWritten(actual.grad, `${what} grad`);
  expectClose(actual.grad, ref.grad, GRAD_TOL, `${what} grad`, 1e-12);
}

/** Central differences of a float64 loss function at every coordinate. */
function finiteDifferences(f: (z: number[]) => number, z: number[], h = 1e-6): number[] {
  return z.map((_, i) => {
    const plus = z.slice(); plus[i]! += h;
    const minus = z.slice(); minus[i]! -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

const shapes: Array<[number, number]> = [[1, 1], [7, 1], [1, 7], [129, 14], [1000, 7], [3, 129], [129, 1000]];

describe('bceWithLogits (CPU)', () => {
  for (const [rows, classes] of shapes) {
    for (const policy of ['ignore', 'ones', 'zeros'] as Policy[]) {
      it(`matches float64 at ${rows}x${classes}, uncertain=${policy}, with mask and posWeight`, async () => {
        const logits = randomFloats(rows * classes, rows + classes, 6);
        const { targets, mask } = labelsFor(rows, classes, rows * classes);
        const posWeight = Float32Array.from(randomFloats(classes, 9), (v) => 1 + 2 * Math.abs(v));
        const out = bceWithLogitsSync(logits, targets, { rows, classes, mask, posWeight, uncertain: policy, grad: poisoned(rows * classes), backend: 'cpu' });
        expectLoss(out, bceRef(logits, targets, rows, classes, { mask, posWeight, policy }), 'bce');
        const plain = await bceWithLogits(logits, targets, { rows, classes, uncertain: policy, backend: 'cpu' });
        expectLoss(plain, bceRef(logits, targets, rows, classes, { policy }), 'bce (no mask)');
      });
    }
  }

  it('gradient = finite differences of the loss, masked entries get exactly 0', () => {
    const [rows, classes] = [4, 5];
    const logits = Array.from(randomFloats(rows * classes, 1, 3));
    const { targets, mask } = labelsFor(rows, classes, 2, 0.3);
    const posWeight = [0.5, 1, 2, 3, 1.5];
    const f = (z: number[]) => bceRef(z, targets, rows, classes, { mask, posWeight }).loss;
    const fd = finiteDifferences(f, logits);
    const out = bceWithLogitsSync(Float32Array.from(logits), targets, { rows, classes, mask, posWeight: Float32Array.from(posWeight), backend: 'cpu' });
    expectClose(out.grad, fd, 1e-6, 'bce vs finite differences');
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0 || targets[i] === -1) expect(out.grad[i]).toBe(0);
  });

  it('is stable for huge logits (softplus form) and accepts a Uint8Array mask', () => {
    const logits = Float32Array.of(80, -80, 1e4, -1e4);
    const targets = Float32Array.of(0, 1, 1, 0);
    const out = bceWithLogitsSync(logits, targets, { rows: 1, classes: 4, mask: Uint8Array.of(1, 1, 1, 1), backend: 'cpu' });
    expect(out.loss).toBeCloseTo(40, 4); // per entry 80, 80, ~0, ~0; mean 40
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(Array.from(out.grad).every(Number.isFinite)).toBe(true);
  });

  it('with nothing valid: loss 0, zero gradient, valid 0', () => {
    const logits = randomFloats(6, 3);
    const targets = Float32Array.of(-1, 1, 0, -1, 1, 0);
    const out = bceWithLogitsSync(logits, targets, { rows: 2, classes: 3, mask: Float32Array.of(1, 0, 0, 1, 0, 0), grad: poisoned(6), backend: 'cpu' });
    expect(out).toMatchObject({ loss: 0, valid: 0 });
    expect(Array.from(out.grad)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects bad targets, shapes and policies', () => {
    const logits = randomFloats(6, 3);
    expect(() => bceWithLogitsSync(logits, Float32Array.of(0, 1, 2, 0, 1, 0), { rows: 2, classes: 3, backend: 'cpu' })).toThrow(/^bceWithLogits: targets\[2\] is 2; expected a value in \[0, 1\] or -1/);
    expect(() => bceWithLogitsSync(logits, new Float32Array(5), { rows: 2, classes: 3, backend: 'cpu' })).toThrow(ShapeError);
    expect(() => bceWithLogitsSync(logits, new Float32Array(6), { rows: 2, classes: 3, posWeight: new Float32Array(2), backend: 'cpu' })).toThrow(/posWeight has 2/);
    expect(() => bceWithLogitsSync(logits, new Float32Array(6), { rows: 2, classes: 3, uncertain: 'maybe' as 'ignore', backend: 'cpu' })).toThrow(InvalidArgumentError);
    const nan = logits.slice();
    nan[1] = Number.NaN;
    expect(() => bceWithLogitsSync(nan, new Float32Array(6), { rows: 2, classes: 3, backend: 'cpu' })).toThrow(/logits\[1\] is NaN/);
  });
});

describe('softmaxCrossEntropy (CPU)', () => {
  for (const [rows, classes] of shapes.filter(([, c]) => c > 1)) {
    it(`hard labels with ignored rows and smoothing at ${rows}x${classes}`, async () => {
      const logits = randomFloats(rows * classes, rows * 3 + classes, 5);
      const next = rng(rows + classes);
      const labels = Int32Array.from({ length: rows }, () => (next() < 0.1 ? -1 : Math.floor(next() * classes)));
      const out = softmaxCrossEntropySync(logits, { rows, classes, labels, grad: poisoned(rows * classes), backend: 'cpu' });
      expectLoss(out, softmaxCeRef(logits, rows, classes, { labels }), 'ce');
      const smooth = await softmaxCrossEntropy(logits, { rows, classes, labels, labelSmoothing: 0.1, backend: 'cpu' });
      expectLoss(smooth, softmaxCeRef(logits, rows, classes, { labels, smoothing: 0.1 }), 'ce smoothed');
    });
    it(`soft targets with temperature at ${rows}x${classes}`, () => {
      const logits = randomFloats(rows * classes, rows + 5 * classes, 5);
      const targets = softTargets(rows, classes, rows * 11 + classes);
      for (const temperature of [1, 2.5]) {
        const out = softmaxCrossEntropySync(logits, { rows, classes, targets, temperature, labelSmoothing: 0.05, grad: poisoned(rows * classes), backend: 'cpu' });
        expectLoss(out, softmaxCeRef(logits, rows, classes, { targets, temperature, smoothing: 0.05 }), `ce tau=${temperature}`);
      }
    });
  }

  it('gradients = finite differences (hard, smoothed, soft + temperature), ignored rows get 0', () => {
    const [rows, classes] = [4, 5];
    const logits = Array.from(randomFloats(rows * classes, 7, 3));
    const labels = Float32Array.of(2, -1, 0, 4);
    const targets = softTargets(rows, classes, 8);
    targets.fill(0, 5, 10); // row 1 ignored
    for (const opts of [{ labels }, { labels, smoothing: 0.2 }, { targets, temperature: 3 }, { targets, temperature: 0.5, smoothing: 0.1 }]) {
      const fd = finiteDifferences((z) => softmaxCeRef(z, rows, classes, opts).loss, logits);
      const out = softmaxCrossEntropySync(Float32Array.from(logits), {
        rows, classes, backend: 'cpu',
        ...(opts.labels ? { labels: opts.labels } : { targets: opts.targets! }),
        ...('temperature' in opts ? { temperature: opts.temperature } : {}),
        ...('smoothing' in opts ? { labelSmoothing: opts.smoothing } : {}),
      });
      expectClose(out.grad, fd, 1e-6, `ce vs finite differences ${JSON.stringify(Object.keys(opts))}`);
      for (let c = 0; c < classes; c++) expect(out.grad[5 + c]).toBe(0);
    }
  });

  it('tau^2 convention: gradient scale does not shrink with temperature; matches plain CE at tau = 1', () => {
    const [rows, classes] = [64, 10];
    const logits = randomFloats(rows * classes, 1, 4);
    const targets = softTargets(rows, classes, 2);
    const norm = (g: Float32Array) => Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    const g1 = norm(softmaxCrossEntropySync(logits, { rows, classes, targets, backend: 'cpu' }).grad);
    const g4 = norm(softmaxCrossEntropySync(logits, { rows, classes, targets, temperature: 4, backend: 'cpu' }).grad);
    expect(g4 / g1).toBeGreaterThan(0.25); // without the tau^2 factor it would be ~1/16 of g1 or less
    const onehot = new Float32Array(rows * classes);
    const labels = Int32Array.from({ length: rows }, (_, r) => r % classes);
    labels.forEach((c, r) => (onehot[r * classes + c] = 1));
    const hard = softmaxCrossEntropySync(logits, { rows, classes, labels, backend: 'cpu' });
    const soft = softmaxCrossEntropySync(logits, { rows, classes, targets: onehot, backend: 'cpu' });
    expect(soft.loss).toBeCloseTo(hard.loss, 12);
    expect(Array.from(soft.grad)).toEqual(Array.from(hard.grad));
  });

  it('is stable for huge logits and gives 0 with nothing valid', () => {
    const out = softmaxCrossEntropySync(Float32Array.of(1e4, -1e4, 0), { rows: 1, classes: 3, labels: Int32Array.of(1), backend: 'cpu' });
    expect(out.loss).toBeCloseTo(2e4, 0);
    expect(Array.from(out.grad).every(Number.isFinite)).toBe(true);
    const none = softmaxCrossEntropySync(randomFloats(6, 1), { rows: 2, classes: 3, labels: Int32Array.of(-1, -1), grad: poisoned(6), backend: 'cpu' });
    expect(none).toMatchObject({ loss: 0, valid: 0 });
    expect(Array.from(none.grad)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects bad labels, both/neither target kinds, bad smoothing and temperature', () => {
    const logits = randomFloats(6, 3);
    const o = { rows: 2, classes: 3, backend: 'cpu' as const };
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0, 3) })).toThrow(/labels\[1\] is 3\.0+; expected -1 \(ignore\) or an integer in \[0, 2\]/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Float32Array.of(0, 1.5) })).toThrow(InvalidArgumentError);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0, -2) })).toThrow(InvalidArgumentError);
    expect(() => softmaxCrossEntropySync(logits, o)).toThrow(/exactly one of labels/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0, 1), targets: new Float32Array(6) })).toThrow(/exactly one/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0, 1), labelSmoothing: 1 })).toThrow(/labelSmoothing/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0, 1), temperature: 0 })).toThrow(/temperature/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, targets: Float32Array.of(0.5, 0.5, 0, -0.1, 1, 0.1) })).toThrow(/targets\[3\]/);
    expect(() => softmaxCrossEntropySync(logits, { ...o, labels: Int32Array.of(0) })).toThrow(ShapeError);
  });
});

describe('ordinalLoss (CPU)', () => {
  for (const [rows, count] of [[1, 2], [7, 5], [129, 5], [1000, 7], [3, 130]] as const) {
    it(`matches float64 at rows=${rows}, levels=${count}`, async () => {
      const logits = randomFloats(rows * (count - 1), rows + count, 4);
      const next = rng(rows * count);
      const levels = Int32Array.from({ length: rows }, () => (next() < 0.1 ? -1 : Math.floor(next() * count)));
      const out = ordinalLossSync(logits, levels, { rows, levels: count, grad: poisoned(rows * (count - 1)), backend: 'cpu' });
      expectLoss(out, ordinalRef(logits, levels, rows, count), 'ordinal');
      expectLoss(await ordinalLoss(logits, levels, { rows, levels: count, backend: 'cpu' }), ordinalRef(logits, levels, rows, count), 'ordinal async');
    });
  }

  it('gradient = finite differences; predictions count positive thresholds; bad levels rejected', () => {
    const [rows, count] = [5, 5]; // Kellgren-Lawrence 0..4
    const logits = Array.from(randomFloats(rows * 4, 3, 3));
    const levels = Float32Array.of(0, 4, -1, 2, 3);
    const fd = finiteDifferences((z) => ordinalRef(z, levels, rows, count).loss, logits);
    const out = ordinalLossSync(Float32Array.from(logits), levels, { rows, levels: count, backend: 'cpu' });
    expectClose(out.grad, fd, 1e-6, 'ordinal vs finite differences');
    expect(Array.from(out.grad.subarray(8, 12))).toEqual([0, 0, 0, 0]);
    expect(Array.from(ordinalPredict(Float32Array.of(3, 2, -1, -4, -1, -2, -3, -4), 2, 5))).toEqual([2, 0]);
    expect(() => ordinalLossSync(Float32Array.from(logits), Float32Array.of(0, 5, 1, 2, 3), { rows, levels: count, backend: 'cpu' })).toThrow(/levels\[1\] is 5/);
    expect(() => ordinalLossSync(Float32Array.from(logits), levels, { rows, levels: 1, backend: 'cpu' })).toThrow(/levels must be >= 2/);
    expect(() => ordinalLossSync(Float32Array.from(logits), levels, { rows, levels: 4, backend: 'cpu' })).toThrow(ShapeError);
  });
});

function softTargets(rows: number, classes: number, seed: number): Float32Array {
  const next = rng(seed);
  const t = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += t[r * classes + c] = next() ** 2 + 1e-3;
    for (let c = 0; c < classes; c++) t[r * classes + c]! /= sum;
  }
  return t;
}
