import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ShapeError,
  dinoLoss,
  dinoLossSync,
  emaTeacherUpdate,
  emaTeacherUpdateSync,
  ibotLoss,
  ibotLossSync,
  koleoLoss,
  koleoLossSync,
  sinkhornKnopp,
  sinkhornKnoppSync,
  teacherMomentum,
  teacherTemperature,
  updateCenterSync,
} from '../../src/index.js';
import { expectAllWritten, expectClose, poisoned } from '../helpers/check.js';
import { randomFloats, rng } from '../helpers/random.js';
import {
  dinoLossRef,
  emaRef,
  finiteDifferences,
  ibotLossRef,
  koleoLossRef,
  sinkhornRef,
  updateCenterRef,
  type Normalization,
} from '../helpers/reference-distill.js';

// Tolerances (normwise relative error against float64). The teacher temperature 0.04 scales
// logits by 25, so float32 rounding of t / tau alone is ~1.5e-6 relative in the probabilities;
// the exp16 kernel adds ~2 ulp. Losses and gradients: 1e-4; probabilities and centers: 1e-5.
const LOSS_TOLERANCE = 1e-4;
const GRAD_TOLERANCE = 1e-4;
const PROB_TOLERANCE = 2e-5;

// Losses near zero (teacher and student peaked on the same prototype) are compared against a
// floor of 0.1: float32 rounding of s / tau_s (|z| up to 30) alone is ~4e-6 absolute.
function relClose(actual: number, expected: number, tolerance: number, what: string, floor = 0.1): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);
  if (!(err <= tolerance)) throw new Error(`${what}: ${actual} vs ${expected} (relative error ${err.toExponential(3)})`);
}

function randomMasks(length: number, seed: number, rate: number): Uint8Array {
  const next = rng(seed);
  return Uint8Array.from({ length }, () => (next() < rate ? 1 + Math.floor(next() * 200) : 0));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('dinoLoss (CPU)', () => {
  // [Vs, Vt, B, K]: awkward batch and prototype counts, both teacher normalisations.
  const shapes: Array<[number, number, number, number]> = [
    [2, 1, 1, 1],
    [2, 2, 1, 3],
    [4, 2, 7, 257],
    [3, 1, 129, 3],
    [10, 2, 7, 4099],
    [3, 2, 2, 65536],
  ];
  for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
    for (const [vs, vt, b, k] of shapes) {
      it(`matches float64 (${normalization}) at Vs=${vs} Vt=${vt} B=${b} K=${k}`, async () => {
        const seed = vs * 1000 + b * 10 + k;
        const student = randomFloats(vs * b * k, seed, 3);
        const teacher = randomFloats(vt * b * k, seed + 1, 2);
        const center = randomFloats(k, seed + 2, 0.5);
        const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center, centerMomentum: 0.9 };
        const ref = dinoLossRef(student, teacher, vs, vt, b, k, options);
        const gradOut = poisoned(vs * b * k);
        const centerOut = poisoned(k);
        const result = dinoLossSync(student, teacher, {
          studentViews: vs, teacherViews: vt, batch: b, prototypes: k, ...options, gradOut, centerOut, backend: 'cpu',
        });
        expect(result.grad).toBe(gradOut);
        expect(result.center).toBe(centerOut);
        expectAllWritten(gradOut, 'grad');
        expectAllWritten(centerOut, 'center');
        relClose(result.loss, ref.loss, LOSS_TOLERANCE, 'loss');
        // Floor: 10% of the gradient's natural scale w / tau_s = 1 / (pairs B tau_s). When q - p
        // cancels to ~1e-6 the error is set by float32 rounding of z = s / tau_s (|z| <= 30).
        expectClose(gradOut, ref.grad, GRAD_TOLERANCE, 'grad', 0.1 / (vt * (vs - 1) * b * 0.1));
        expectClose(centerOut, ref.center!, 1e-6, 'center');
        if (k === 1) expect(Math.abs(result.loss)).toBeLessThan(1e-6); // one prototype: p = q = 1
        const again = await dinoLoss(student, teacher, { studentViews: vs, teacherViews: vt, batch: b, prototypes: k, ...options, backend: 'cpu' });
        expect(again.loss).toBe(result.loss);
        expect(Array.from(again.grad)).toEqual(Array.from(gradOut));
      });
    }
  }

  it('updates the center in place when centerOut is the center, after using the old one', () => {
    const [vs, vt, b, k] = [3, 2, 7, 33];
    const student = randomFloats(vs * b * k, 1, 2);
    const teacher = randomFloats(vt * b * k, 2, 2);
    const center = randomFloats(k, 3, 0.3);
    const ref = dinoLossRef(student, teacher, vs, vt, b, k, { studentTemperature: 0.1, teacherTemperature: 0.05, normalization: 'center', center, centerMomentum: 0.7 });
    const result = dinoLossSync(student, teacher, {
      studentViews: vs, teacherViews: vt, batch: b, prototypes: k, teacherTemperature: 0.05, center, centerMomentum: 0.7, centerOut: center, backend: 'cpu',
    });
    expect(result.center).toBe(center);
    relClose(result.loss, ref.loss, LOSS_TOLERANCE, 'loss');
    expectClose(center, ref.center!, 1e-6, 'center in place');
  });

  it('leaves the center alone with updateCenter: false and needs none for Sinkhorn', () => {
    const [vs, vt, b, k] = [3, 2, 4, 17];
    const student = randomFloats(vs * b * k, 4);
    const teacher = randomFloats(vt * b * k, 5);
    const center = randomFloats(k, 6);
    const r1 = dinoLossSync(student, teacher, { studentViews: vs, teacherViews: vt, batch: b, prototypes: k, center, updateCenter: false, backend: 'cpu' });
    expect(r1.center).toBeUndefined();
    const r2 = dinoLossSync(student, teacher, { studentViews: vs, teacherViews: vt, batch: b, prototypes: k, normalization: 'sinkhorn', backend: 'cpu' });
    expect(r2.center).toBeUndefined();
    expect(r2.loss).toBeGreaterThan(0);
  });

  it('float64 reference gradient agrees with central differences (1e-6), both normalisations', () => {
    const [vs, vt, b, k] = [3, 2, 2, 5];
    const student = randomFloats(vs * b * k, 7, 2);
    const teacher = randomFloats(vt * b * k, 8, 2);
    const center = randomFloats(k, 9, 0.3);
    for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
      const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center };
      const ref = dinoLossRef(student, teacher, vs, vt, b, k, options);
      const indices = range(vs * b * k);
      const numeric = finiteDifferences((s) => dinoLossRef(s, teacher, vs, vt, b, k, options).loss, student, indices, 1e-5);
      expectClose(numeric, indices.map((i) => ref.grad[i]!), 1e-6, `fd ${normalization}`);
    }
  });

  it('kernel gradient agrees with central differences of the kernel loss (float32, 1e-3)', () => {
    const [vs, vt, b, k] = [4, 2, 3, 7];
    const student = randomFloats(vs * b * k, 10, 1);
    const teacher = randomFloats(vt * b * k, 11, 1);
    const center = randomFloats(k, 12, 0.3);
    const base = { studentViews: vs, teacherViews: vt, batch: b, prototypes: k, center, updateCenter: false, backend: 'cpu' as const };
    const kernelLoss = (s: Float64Array) => dinoLossSync(Float32Array.from(s), teacher, base).loss;
    const { grad } = dinoLossSync(student, teacher, base);
    const indices = range(vs * b * k);
    const numeric = finiteDifferences(kernelLoss, student, indices, 1e-2);
    expectClose(numeric, indices.map((i) => grad[i]!), 1e-3, 'kernel fd');
  });

  it('rejects bad input with typed errors', () => {
    const s = randomFloats(3 * 2 * 4, 1);
    const t = randomFloats(2 * 2 * 4, 2);
    const c = randomFloats(4, 3);
    const base = { studentViews: 3, teacherViews: 2, batch: 2, prototypes: 4, center: c, backend: 'cpu' as const };
    expect(() => dinoLossSync(s, t, { ...base, batch: 3 })).toThrow(ShapeError);
    expect(() => dinoLossSync(s, t, { ...base, center: randomFloats(5, 1) })).toThrow(/center has 5 elements/);
    expect(() => dinoLossSync(s, t, { ...base, center: undefined })).toThrow(/needs a center/);
    expect(() => dinoLossSync(s, t, { ...base, teacherViews: 4 })).toThrow(InvalidArgumentError);
    expect(() => dinoLossSync(s.subarray(0, 8), t.subarray(0, 8), { ...base, studentViews: 1, teacherViews: 1 })).toThrow(/studentViews >= 2/);
    expect(() => dinoLossSync(s, t, { ...base, teacherTemperature: 0 })).toThrow(/teacherTemperature must be > 0/);
    expect(() => dinoLossSync(s, t, { ...base, centerMomentum: 1.5 })).toThrow(/centerMomentum must be in \[0, 1\]/);
    expect(() => dinoLossSync(s, t, { ...base, normalization: 'softmax' as 'center' })).toThrow(/normalization must be/);
    expect(() => dinoLossSync(s, t, { ...base, sinkhornIterations: 0 })).toThrow(InvalidArgumentError);
    expect(() => dinoLossSync(s, t, { ...base, gradOut: new Float32Array(5) })).toThrow(/gradOut has 5 elements/);
    const bad = Float32Array.from(s);
    bad[7] = Number.POSITIVE_INFINITY;
    expect(() => dinoLossSync(bad, t, base)).toThrow(/student\[7\] is Infinity/);
  });

  it('rejects bad shapes at the native boundary too (typed code, no crash)', async () => {
    const { addon } = await import('../../src/native/addon.js');
    const options = {
      studentViews: 3, teacherViews: 2, batch: 2, prototypes: 4, studentTemperature: 0.1, teacherTemperature: 0.04,
      normalization: 'center' as const, sinkhornIterations: 3, centerMomentum: 0.9, updateCenter: true, backend: 'cpu' as const, async: false,
    };
    const call = () => addon().dinoLoss(new Float32Array(5), new Float32Array(8), { ...options, center: new Float32Array(4) });
    expect(call).toThrow(/student has 5 elements but shape \[Vs, B, K\] = \[3, 2, 4\] needs 24/);
    const noCenter = () => addon().dinoLoss(new Float32Array(24), new Float32Array(16), { ...options, updateCenter: false });
    expect(noCenter).toThrow(/needs a center/);
    const endless = () => addon().dinoLoss(new Float32Array(24), new Float32Array(16), { ...options, normalization: 'sinkhorn', updateCenter: false, sinkhornIterations: 1e9 });
    expect(endless).toThrow(/sinkhornIterations must be in \[1, 1000\]/);
    const noPrototypes = () => addon().dinoLoss(new Float32Array(0), new Float32Array(0), { ...options, prototypes: 0 });
    expect(noPrototypes).toThrow(/prototypes must be at least 1/);
  });
});

describe('ibotLoss (CPU)', () => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [1, 9, 3],
    [7, 5, 257],
    [129, 3, 33],
    [7, 4, 4099],
  ];
  for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
    for (const [b, p, k] of shapes) {
      it(`matches float64 (${normalization}) at B=${b} P=${p} K=${k}`, async () => {
        const seed = b * 100 + p * 10 + k;
        const student = randomFloats(b * p * k, seed, 3);
        const teacher = randomFloats(b * p * k, seed + 1, 2);
        const center = randomFloats(k, seed + 2, 0.4);
        const masks = randomMasks(b * p, seed + 3, 0.4);
        if (b * p > 1) masks[0] = 0; // at least one token unmasked
        masks[b * p - 1] = 1; // and at least one masked
        if (b > 2) masks.fill(0, p, 2 * p); // an image with no masked token
        const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center, centerMomentum: 0.8 };
        const ref = ibotLossRef(student, teacher, masks, b, p, k, options);
        const gradOut = poisoned(b * p * k);
        const centerOut = poisoned(k);
        const result = await ibotLoss(student, teacher, masks, { batch: b, patches: p, prototypes: k, ...options, gradOut, centerOut, backend: 'cpu' });
        expectAllWritten(gradOut, 'grad');
        expectAllWritten(centerOut, 'center');
        relClose(result.loss, ref.loss, LOSS_TOLERANCE, 'loss');
        expectClose(gradOut, ref.grad, GRAD_TOLERANCE, 'grad', 0.1 / (b * 0.1));
        expectClose(centerOut, ref.center!, 1e-6, 'center');
        for (let e = 0; e < b * p; e++) {
          if (masks[e]) continue;
          for (let i = 0; i < k; i++) expect(gradOut[e * k + i]).toBe(0);
        }
      });
    }
  }

  it('gives loss 0, a zero gradient and an unchanged center when nothing is masked', () => {
    const [b, p, k] = [3, 4, 9];
    const center = randomFloats(k, 3);
    const result = ibotLossSync(randomFloats(b * p * k, 1), randomFloats(b * p * k, 2), new Uint8Array(b * p), {
      batch: b, patches: p, prototypes: k, center, gradOut: poisoned(b * p * k), backend: 'cpu',
    });
    expect(result.loss).toBe(0);
    expect(Array.from(result.grad).every((v) => v === 0)).toBe(true);
    expect(Array.from(result.center!)).toEqual(Array.from(center));
  });

  it('float64 reference and kernel gradients agree with central differences', () => {
    const [b, p, k] = [3, 4, 6];
    const student = randomFloats(b * p * k, 21, 1);
    const teacher = randomFloats(b * p * k, 22, 1);
    const center = randomFloats(k, 23, 0.2);
    const masks = Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
      const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center };
      const ref = ibotLossRef(student, teacher, masks, b, p, k, options);
      const indices = range(b * p * k);
      const numeric = finiteDifferences((s) => ibotLossRef(s, teacher, masks, b, p, k, options).loss, student, indices, 1e-5);
      expectClose(numeric, indices.map((i) => ref.grad[i]!), 1e-6, `reference fd ${normalization}`);
      const base = { batch: b, patches: p, prototypes: k, normalization, center, updateCenter: false, backend: 'cpu' as const };
      const { grad } = ibotLossSync(student, teacher, masks, base);
      const kernelNumeric = finiteDifferences((s) => ibotLossSync(Float32Array.from(s), teacher, masks, base).loss, student, indices, 1e-2);
      expectClose(kernelNumeric, indices.map((i) => grad[i]!), 1e-3, `kernel fd ${normalization}`);
    }
  });

  it('rejects bad masks with typed errors', () => {
    const x = randomFloats(2 * 3 * 4, 1);
    const c = randomFloats(4, 2);
    const base = { batch: 2, patches: 3, prototypes: 4, center: c, backend: 'cpu' as const };
    expect(() => ibotLossSync(x, x, new Uint8Array(5), base)).toThrow(ShapeError);
    expect(() => ibotLossSync(x, x, new Float32Array(6) as unknown as Uint8Array, base)).toThrow(/masks must be a Uint8Array/);
    expect(() => ibotLossSync(x, x.subarray(1), new Uint8Array(6), base)).toThrow(/teacher has 23 elements/);
  });
});

describe('sinkhornKnopp and updateCenter (CPU)', () => {
  for (const [rows, k] of [[1, 1], [7, 3], [129, 257], [14, 4099], [3, 65536]] as const) {
    it(`Sinkhorn matches DINOv2's exp-domain form in float64 at rows=${rows} K=${k}`, async () => {
      const logits = randomFloats(rows * k, rows + k, 1.5);
      const out = poisoned(rows * k);
      const probs = await sinkhornKnopp(logits, { rows, prototypes: k, temperature: 0.05, out, backend: 'cpu' });
      expect(probs).toBe(out);
      expectAllWritten(out, 'probs');
      expectClose(out, sinkhornRef(logits, range(rows), k, 0.05, 3), PROB_TOLERANCE, 'sinkhorn');
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += out[r * k + i]!;
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    });
  }

  it('Sinkhorn prototype sums converge to rows / K with more iterations', () => {
    const [rows, k] = [64, 16];
    const logits = randomFloats(rows * k, 3, 0.8);
    const deviation = (iterations: number) => {
      const p = sinkhornKnoppSync(logits, { rows, prototypes: k, temperature: 0.1, iterations, backend: 'cpu' });
      let worst = 0;
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += p[r * k + i]!;
        worst = Math.max(worst, Math.abs(s - rows / k) / (rows / k));
      }
      return worst;
    };
    const three = deviation(3);
    const many = deviation(100);
    expect(three).toBeLessThan(0.5);
    expect(many).toBeLessThan(1e-4);
    expect(many).toBeLessThan(three);
  });

  it('Sinkhorn stays finite for logits whose exp would overflow float32', () => {
    const logits = randomFloats(8 * 5, 4, 40); // t / 0.04 up to 1000
    const p = sinkhornKnoppSync(logits, { rows: 8, prototypes: 5, backend: 'cpu' });
    expectAllWritten(p, 'p');
    expect(Array.from(p).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  });

  it('updateCenter matches float64, also in place', () => {
    const [rows, k] = [129, 257];
    const teacher = randomFloats(rows * k, 8);
    const center = randomFloats(k, 9);
    const expected = updateCenterRef(center, teacher, range(rows), k, 0.9);
    const out = updateCenterSync(center, teacher, { rows, prototypes: k, out: poisoned(k), backend: 'cpu' });
    expectClose(out, expected, 1e-6, 'center');
    updateCenterSync(center, teacher, { rows, prototypes: k, out: center, backend: 'cpu' });
    expectClose(center, expected, 1e-6, 'center in place');
    expect(() => updateCenterSync(center, teacher, { rows, prototypes: k, momentum: -0.1, backend: 'cpu' })).toThrow(InvalidArgumentError);
  });
});

describe('koleoLoss (CPU)', () => {
  for (const [b, d] of [[2, 1], [7, 3], [129, 64], [129, 257], [300, 16]] as const) {
    it(`matches float64 at B=${b} D=${d}`, async () => {
      const x = randomFloats(b * d, b * 7 + d, 2);
      const ref = koleoLossRef(x, b, d);
      const gradOut = poisoned(b * d);
      const result = await koleoLoss(x, { rows: b, dim: d, gradOut, backend: 'cpu' });
      expect(result.grad).toBe(gradOut);
      expectAllWritten(gradOut, 'grad');
      relClose(result.loss, ref.loss, 1e-5, 'loss');
      expectClose(gradOut, ref.grad, GRAD_TOLERANCE, 'grad');
    });
  }

  it('handles exact duplicates: -log(1e-8) each and a zero gradient between them', () => {
    const [b, d] = [6, 5];
    const x = randomFloats(b * d, 31);
    x.copyWithin(2 * d, 0, d); // row 2 = row 0
    x.copyWithin(4 * d, d, 2 * d); // row 4 = row 1
    const ref = koleoLossRef(x, b, d);
    const result = koleoLossSync(x, { rows: b, dim: d, backend: 'cpu' });
    expectAllWritten(result.grad, 'grad');
    relClose(result.loss, ref.loss, 1e-5, 'loss');
    expectClose(result.grad, ref.grad, GRAD_TOLERANCE, 'grad');
    expect(result.loss).toBeGreaterThan((4 * -Math.log(1e-8)) / b - 1); // four rows sit on a duplicate
    // Same direction, different length: float32 normalisation leaves d ~ 1e-8 instead of 0, so
    // the loss term is ill-conditioned there; it must still be finite.
    for (let c = 0; c < d; c++) x[4 * d + c] = 3 * x[1 * d + c]!;
    const scaled = koleoLossSync(x, { rows: b, dim: d, backend: 'cpu' });
    expect(Number.isFinite(scaled.loss)).toBe(true);
    expect(Array.from(scaled.grad).every(Number.isFinite)).toBe(true);
    const single = koleoLossSync(x.subarray(0, 2 * d).map((v, i) => (i < d ? v : x[i - d]!)), { rows: 2, dim: d, backend: 'cpu' });
    expect(single.loss).toBeCloseTo(-Math.log(1e-8), 5);
    expect(Array.from(single.grad).every((v) => v === 0)).toBe(true);
  });

  it('float64 reference and kernel gradients agree with central differences', () => {
    const [b, d] = [9, 4];
    const x = randomFloats(b * d, 41, 1);
    const ref = koleoLossRef(x, b, d);
    const indices = range(b * d);
    const numeric = finiteDifferences((v) => koleoLossRef(v, b, d).loss, x, indices, 1e-6);
    expectClose(numeric, indices.map((i) => ref.grad[i]!), 1e-6, 'reference fd');
    const { grad } = koleoLossSync(x, { rows: b, dim: d, backend: 'cpu' });
    const kernel = finiteDifferences((v) => koleoLossSync(Float32Array.from(v), { rows: b, dim: d, backend: 'cpu' }).loss, x, indices, 1e-3);
    expectClose(kernel, indices.map((i) => grad[i]!), 1e-3, 'kernel fd');
  });

  it('rejects one row, zero dims and wrong lengths', () => {
    expect(() => koleoLossSync(randomFloats(4, 1), { rows: 1, dim: 4, backend: 'cpu' })).toThrow(/at least 2 rows/);
    expect(() => koleoLossSync(new Float32Array(0), { rows: 2, dim: 0, backend: 'cpu' })).toThrow(InvalidArgumentError);
    expect(() => koleoLossSync(randomFloats(7, 1), { rows: 2, dim: 4, backend: 'cpu' })).toThrow(ShapeError);
  });
});

describe('EMA teacher update and schedules', () => {
  it('emaTeacherUpdate matches float64 in place at awkward lengths', async () => {
    for (const n of [1, 7, 129, 4099, 200003]) {
      const teacher = randomFloats(n, n, 2);
      const student = randomFloats(n, n + 1, 2);
      const expected = emaRef(teacher, student, 0.9961);
      const same = await emaTeacherUpdate(teacher, student, { momentum: 0.9961, backend: 'cpu' });
      expect(same).toBe(teacher);
      expectClose(teacher, expected, 1e-6, `ema n=${n}`);
    }
    const t = randomFloats(33, 5);
    const copy = Float32Array.from(t);
    emaTeacherUpdateSync(t, randomFloats(33, 6), { momentum: 1, backend: 'cpu' });
    expect(Array.from(t)).toEqual(Array.from(copy));
    expect(() => emaTeacherUpdateSync(t, randomFloats(32, 6), { momentum: 0.99, backend: 'cpu' })).toThrow(ShapeError);
    expect(() => emaTeacherUpdateSync(t, randomFloats(33, 6), { momentum: 1.01, backend: 'cpu' })).toThrow(InvalidArgumentError);
  });

  it('teacherMomentum is the cosine 0.992 -> 1', () => {
    expect(teacherMomentum(0, 1000)).toBeCloseTo(0.992, 12);
    expect(teacherMomentum(500, 1000)).toBeCloseTo(0.996, 12);
    expect(teacherMomentum(1000, 1000)).toBe(1);
    expect(teacherMomentum(5000, 1000)).toBe(1);
    expect(teacherMomentum(250, 1000)).toBeCloseTo(1 - 0.004 * (1 + Math.SQRT1_2), 12);
    expect(teacherMomentum(10, 100, 0.9, 0.99)).toBeCloseTo(0.99 - 0.045 * (1 + Math.cos(Math.PI / 10)), 12);
    expect(() => teacherMomentum(-1, 10)).toThrow(InvalidArgumentError);
    expect(() => teacherMomentum(1, 0)).toThrow(InvalidArgumentError);
  });

  it('teacherTemperature warms up linearly 0.04 -> 0.07 like np.linspace', () => {
    expect(teacherTemperature(0, { warmupEpochs: 30 })).toBeCloseTo(0.04, 12);
    expect(teacherTemperature(29, { warmupEpochs: 30 })).toBeCloseTo(0.07, 12);
    expect(teacherTemperature(10, { warmupEpochs: 30 })).toBeCloseTo(0.04 + (0.03 * 10) / 29, 12);
    expect(teacherTemperature(100, { warmupEpochs: 30 })).toBe(0.07);
    expect(teacherTemperature(0, { warmupEpochs: 0 })).toBe(0.07);
    expect(teacherTemperature(3, { warmupEpochs: 5, warmupTemperature: 0.02, temperature: 0.06 })).toBeCloseTo(0.05, 12);
    expect(() => teacherTemperature(Number.NaN, { warmupEpochs: 3 })).toThrow(InvalidArgumentError);
  });
});
