import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  InvalidArgumentError,
  NonFiniteGradientError,
  ShapeError,
  adamwStep,
  adamwStepSync,
  cosineSchedule,
  emaUpdate,
  emaUpdateSync,
  gradNorm,
  gradNormSync,
} from '../../src/index.js';
import { expectClose } from '../helpers/check.js';
import { randomFloats, rng } from '../helpers/random.js';
import { adamwRef, gradNormRef, type RefAdamWOptions } from '../helpers/reference-optim.js';

// float32 state vs the float64 reference: the update is elementwise, so each parameter
// carries only a few float32 roundings per step; after 10 steps the normwise relative error
// of params stays < 1e-6 (params are O(1), updates O(lr)).
const PARAM_TOL = 1e-6;
const MOMENT_TOL = 1e-5;

function randomMask(length: number, seed: number): Uint8Array {
  const next = rng(seed);
  return Uint8Array.from({ length }, () => (next() < 0.7 ? 1 : 0));
}

function runBoth(length: number, steps: number, options: Omit<RefAdamWOptions, 'step' | 'lr' | 'decayMask'> & { lrs: number[]; decayMask?: Uint8Array }, seed: number) {
  const params = randomFloats(length, seed);
  const m = new Float32Array(length);
  const v = new Float32Array(length);
  const ref = { params: Float64Array.from(params), m: new Float64Array(length), v: new Float64Array(length) };
  const norms: Array<[number, number]> = [];
  for (let t = 1; t <= steps; t++) {
    // Gradients vary in scale across steps so clipping is sometimes active, sometimes not.
    const grads = randomFloats(length, seed * 100 + t, t % 2 ? 3 : 0.01);
    const lr = options.lrs[(t - 1) % options.lrs.length]!;
    const { lrs: _lrs, ...rest } = options;
    const norm = adamwStepSync(params, grads, { m, v }, { ...rest, lr, step: t, backend: 'cpu' });
    const refNorm = adamwRef(ref, grads, { ...rest, lr, step: t });
    norms.push([norm, refNorm]);
  }
  return { params, m, v, ref, norms };
}

describe('adamwStep (CPU) against a float64 torch.optim.AdamW', () => {
  for (const length of [1, 7, 129, 1000, 100_003]) {
    it(`10 steps at length ${length}: decay mask, clipping, changing lr`, () => {
      const decayMask = randomMask(length, length);
      const { params, m, v, ref, norms } = runBoth(length, 10, { weightDecay: 0.05, maxGradNorm: 0.5 * Math.sqrt(length), decayMask, lrs: [1e-2, 3e-3, 5e-2] }, length + 1);
      expectClose(params, ref.params, PARAM_TOL, 'params');
      expectClose(m, ref.m, MOMENT_TOL, 'm');
      expectClose(v, ref.v, MOMENT_TOL, 'v');
      for (const [got, want] of norms) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * want);
    });
  }

  it('default hyperparameters (no clipping, decay everywhere), non-default betas and eps', () => {
    for (const opts of [{}, { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 }]) {
      const { params, m, v, ref } = runBoth(333, 7, { ...opts, lrs: [1e-3] }, 5);
      expectClose(params, ref.params, PARAM_TOL, 'params');
      expectClose(m, ref.m, MOMENT_TOL, 'm');
      expectClose(v, ref.v, MOMENT_TOL, 'v');
    }
  });

  it('clipping: the step equals an unclipped step on pre-scaled gradients, and reports the pre-clip norm', () => {
    const length = 257;
    const grads = randomFloats(length, 1, 5);
    const norm = gradNormRef(grads);
    const maxGradNorm = norm / 4;
    const a = randomFloats(length, 2);
    const b = a.slice();
    const sa = { m: new Float32Array(length), v: new Float32Array(length) };
    const sb = { m: new Float32Array(length), v: new Float32Array(length) };
    const reported = adamwStepSync(a, grads, sa, { lr: 0.01, step: 1, maxGradNorm, backend: 'cpu' });
    expect(reported).toBeCloseTo(norm, 10);
    const coef = maxGradNorm / (norm + 1e-6);
    adamwStepSync(b, Float32Array.from(grads, (g) => g * coef), sb, { lr: 0.01, step: 1, backend: 'cpu' });
    expectClose(sa.m, sb.m, 1e-6, 'm clipped vs pre-scaled');
    expectClose(a, b, 1e-6, 'params clipped vs pre-scaled');
    // A norm below the threshold is not touched: coefficient clamps at 1.
    const c = randomFloats(length, 2);
    const sc = { m: new Float32Array(length), v: new Float32Array(length) };
    adamwStepSync(c, grads, sc, { lr: 0.01, step: 1, maxGradNorm: norm * 10, backend: 'cpu' });
    const d = randomFloats(length, 2);
    adamwStepSync(d, grads, { m: new Float32Array(length), v: new Float32Array(length) }, { lr: 0.01, step: 1, backend: 'cpu' });
    expect(Array.from(c)).toEqual(Array.from(d));
  });

  it('the decay mask: masked-out parameters with zero gradient do not move, decayed ones shrink by exactly lr * wd', () => {
    const params = Float32Array.of(1, -2, 3, -4);
    const grads = new Float32Array(4);
    adamwStepSync(params, grads, { m: new Float32Array(4), v: new Float32Array(4) }, { lr: 0.1, step: 1, weightDecay: 0.5, decayMask: Uint8Array.of(1, 0, 1, 0), backend: 'cpu' });
    expect(Array.from(params)).toEqual([0.949999988079071, -2, 2.8499999046325684, -4].map((x) => Math.fround(x)));
  });

  it('a non-finite gradient leaves everything untouched and returns the non-finite norm', async () => {
    const params = randomFloats(100, 1);
    const m = randomFloats(100, 2);
    const v = Float32Array.from(randomFloats(100, 3), Math.abs);
    const before = [params.slice(), m.slice(), v.slice()];
    const grads = randomFloats(100, 4);
    grads[37] = Number.NaN;
    const norm = await adamwStep(params, grads, { m, v }, { lr: 0.1, step: 3, backend: 'cpu' });
    expect(Number.isNaN(norm)).toBe(true);
    expect([params, m, v].map((a) => Array.from(a))).toEqual(before.map((a) => Array.from(a)));
    grads[37] = Number.POSITIVE_INFINITY;
    expect(adamwStepSync(params, grads, { m, v }, { lr: 0.1, step: 3, backend: 'cpu' })).toBe(Number.POSITIVE_INFINITY);
  });

  it('async and sync give identical bits; results do not depend on the thread count', async () => {
    const length = 200_003;
    const grads = randomFloats(length, 9);
    const a = randomFloats(length, 8);
    const b = a.slice();
    const sa = { m: new Float32Array(length), v: new Float32Array(length) };
    const sb = { m: new Float32Array(length), v: new Float32Array(length) };
    const n1 = adamwStepSync(a, grads, sa, { lr: 1e-3, step: 1, maxGradNorm: 1, backend: 'cpu' });
    const { addon } = await import('../../src/native/addon.js');
    const threads = addon().setThreads(1);
    try {
      const n2 = await adamwStep(b, grads, sb, { lr: 1e-3, step: 1, maxGradNorm: 1, backend: 'cpu' });
      expect(n2).toBe(n1);
    } finally {
      addon().setThreads(threads);
    }
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('rejects bad input with typed errors', () => {
    const p = randomFloats(10, 1);
    const s = { m: new Float32Array(10), v: new Float32Array(10) };
    const o = { lr: 0.1, step: 1, backend: 'cpu' as const };
    expect(() => adamwStepSync(p, randomFloats(9, 2), s, o)).toThrow(ShapeError);
    expect(() => adamwStepSync(p, randomFloats(10, 2), { m: s.m, v: new Float32Array(11) }, o)).toThrow(/v has 11 elements/);
    expect(() => adamwStepSync(p, randomFloats(10, 2), s, { ...o, step: 0 })).toThrow(InvalidArgumentError);
    expect(() => adamwStepSync(p, randomFloats(10, 2), s, { ...o, lr: Number.NaN })).toThrow(/lr must be a finite number/);
    expect(() => adamwStepSync(p, randomFloats(10, 2), s, { ...o, beta1: 1 })).toThrow(/beta1/);
    expect(() => adamwStepSync(p, randomFloats(10, 2), s, { ...o, maxGradNorm: 0 })).toThrow(/maxGradNorm/);
    expect(() => adamwStepSync(p, randomFloats(10, 2), s, { ...o, decayMask: new Uint8Array(9) })).toThrow(/decayMask has 9 elements/);
    expect(() => adamwStepSync(p, p, s, o)).toThrow(/params and grads share memory/);
  });
});

describe('AdamW class, EMA, gradient norm and cosine schedule', () => {
  it('AdamW.step tracks the step count and matches the functional form; state()/loadState() resumes exactly through a file', async () => {
    const length = 1001;
    const decayMask = randomMask(length, 3);
    const opt = new AdamW(length, { weightDecay: 0.02, maxGradNorm: 5, decayMask });
    const params = randomFloats(length, 4);
    const ref = { params: Float64Array.from(params), m: new Float64Array(length), v: new Float64Array(length) };
    const schedule = cosineSchedule({ base: 0.01, warmupSteps: 2, totalSteps: 8, final: 0.001 });
    for (let t = 0; t < 4; t++) {
      const grads = randomFloats(length, 10 + t, 0.5);
      const r = await opt.step(params, grads, { lr: schedule(t) });
      expect(r.step).toBe(t + 1);
      expect(r.skipped).toBe(false);
      adamwRef(ref, grads, { lr: schedule(t), step: t + 1, weightDecay: 0.02, maxGradNorm: 5, decayMask });
    }
    expectClose(params, ref.params, PARAM_TOL, 'class vs reference');
    // Checkpoint through a file (atomic write: tmp then rename), resume in a fresh optimizer.
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-adamw-'));
    const state = opt.state();
    expect(state.step).toBe(4);
    const file = join(dir, 'optim.json');
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...state, m: Array.from(state.m), v: Array.from(state.v) }));
    renameSync(`${file}.tmp`, file);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    const resumed = new AdamW(length, { weightDecay: 0.02, maxGradNorm: 5, decayMask });
    resumed.loadState({ ...saved, m: Float32Array.from(saved.m), v: Float32Array.from(saved.v) });
    const p1 = params.slice();
    const p2 = params.slice();
    for (let t = 4; t < 8; t++) {
      const grads = randomFloats(length, 10 + t, 0.5);
      opt.stepSync(p1, grads, { lr: schedule(t) });
      resumed.stepSync(p2, grads, { lr: schedule(t) });
    }
    expect(Buffer.from(p1.buffer).equals(Buffer.from(p2.buffer))).toBe(true);
    expect(resumed.stepCount).toBe(8);
    expect(() => resumed.loadState({ ...state, numParams: 5 })).toThrow(ShapeError);
  });

  it('AdamW: non-finite gradients throw NonFiniteGradientError (or skip) and leave state and step unchanged', () => {
    const params = randomFloats(10, 1);
    const opt = new AdamW(10);
    opt.stepSync(params, randomFloats(10, 2), { lr: 0.01 });
    const before = params.slice();
    const bad = randomFloats(10, 3);
    bad[4] = Number.NaN;
    expect(() => opt.stepSync(params, bad, { lr: 0.01 })).toThrow(NonFiniteGradientError);
    expect(opt.stepCount).toBe(1);
    expect(Array.from(params)).toEqual(Array.from(before));
    const skipping = new AdamW(10, { onNonFinite: 'skip' });
    expect(skipping.stepSync(params, bad, { lr: 0.01 })).toMatchObject({ skipped: true, step: 0 });
    expect(() => new AdamW(10, { decayMask: new Uint8Array(3) })).toThrow(ShapeError);
    expect(() => new AdamW(-1)).toThrow(InvalidArgumentError);
  });

  for (const length of [1, 7, 129, 1000, 100_003]) {
    it(`emaUpdate and gradNorm match float64 at length ${length}`, async () => {
      const ema = randomFloats(length, 1);
      const params = randomFloats(length, 2);
      const want = Float64Array.from(ema, (e, i) => 0.996 * e + 0.004 * params[i]!);
      await emaUpdate(ema, params, 0.996, { backend: 'cpu' });
      expectClose(ema, want, 1e-7, 'ema');
      const g = randomFloats(length, 3, 7);
      expect(Math.abs(gradNormSync(g, { backend: 'cpu' }) - gradNormRef(g))).toBeLessThanOrEqual(1e-12 * gradNormRef(g));
      expect(await gradNorm(g, { backend: 'cpu' })).toBe(gradNormSync(g, { backend: 'cpu' }));
    });
  }

  it('emaUpdate edge momenta and bad input', () => {
    const ema = randomFloats(5, 1);
    const params = randomFloats(5, 2);
    const copy = ema.slice();
    emaUpdateSync(ema, params, 1, { backend: 'cpu' });
    expect(Array.from(ema)).toEqual(Array.from(copy));
    emaUpdateSync(ema, params, 0, { backend: 'cpu' });
    expect(Array.from(ema)).toEqual(Array.from(params));
    expect(() => emaUpdateSync(ema, params, 1.5)).toThrow(/momentum must be in \[0, 1\]/);
    expect(() => emaUpdateSync(ema, randomFloats(4, 1), 0.9)).toThrow(ShapeError);
    expect(gradNormSync(new Float32Array(0), { backend: 'cpu' })).toBe(0);
  });

  it('cosineSchedule: linear warmup to base, half cosine to final, then flat', () => {
    const f = cosineSchedule({ base: 1, warmupSteps: 4, totalSteps: 14, final: 0.1 });
    expect([0, 1, 2, 3].map(f)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(f(4)).toBe(1);
    expect(f(9)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(f(14)).toBeCloseTo(0.1, 12);
    expect(f(100)).toBeCloseTo(0.1, 12);
    for (let s = 4; s < 14; s++) expect(f(s + 1)).toBeLessThan(f(s));
    const noWarm = cosineSchedule({ base: 0.5, totalSteps: 10 });
    expect(noWarm(0)).toBe(0.5);
    expect(noWarm(10)).toBeCloseTo(0, 12);
    expect(() => cosineSchedule({ base: 1, warmupSteps: 20, totalSteps: 10 })).toThrow(InvalidArgumentError);
    expect(() => f(-1)).toThrow(InvalidArgumentError);
    expect(() => cosineSchedule({ base: Number.NaN, totalSteps: 10 })).toThrow(/base/);
  });
});
