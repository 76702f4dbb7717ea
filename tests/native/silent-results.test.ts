// No silent wrong results: outputs that alias inputs are refused, optimizer state that is
// already broken is refused before anything is written, and float32 overflow from finite
// arguments is an error rather than NaN or Infinity in the result.
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  NonFiniteResultError,
  adamwStepSync,
  contrastiveLossSync,
  geluSync,
  linearForwardSync,
  similarity,
  similaritySync,
  sinkhornKnoppSync,
  updateCenterSync,
} from '../../src/index.js';
import { randomFloats } from '../helpers/random.js';

describe('aliasing', () => {
  it('similarity refuses an output that is, or overlaps, an input', async () => {
    const [n, d] = [6, 6];
    const a = randomFloats(n * d, 1);
    const b = randomFloats(n * d, 2);
    expect(() => similaritySync(a, b, { n, m: n, d, out: a, backend: 'cpu' })).toThrow(/a and out share memory, and the op writes out/);
    await expect(similarity(a, b, { n, m: n, d, out: b, backend: 'cpu' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const flat = new Float32Array(3 * n * d);
    flat.set(a);
    const shifted = flat.subarray(1, 1 + n * n);
    expect(() => similaritySync(flat.subarray(0, n * d), b, { n, m: n, d, out: shifted, backend: 'cpu' })).toThrow(/share memory/);
  });

  it('reading one array twice is fine, and an in-place center update is allowed where the kernel supports it', () => {
    const a = randomFloats(4 * 8, 3);
    const s = similaritySync(a, a, { n: 4, m: 4, d: 8, backend: 'cpu' });
    expect(s[0]).toBeCloseTo(a.subarray(0, 8).reduce((sum, x) => sum + x * x, 0), 5);
    const center = randomFloats(5, 4);
    const expected = updateCenterSync(center, randomFloats(3 * 5, 5), { rows: 3, prototypes: 5, momentum: 0.9, backend: 'cpu' });
    const same = center.slice();
    expect(updateCenterSync(same, randomFloats(3 * 5, 5), { rows: 3, prototypes: 5, momentum: 0.9, out: same, backend: 'cpu' })).toBe(same);
    expect(Array.from(same)).toEqual(Array.from(expected));
  });
});

describe('AdamW refuses a step it cannot apply whole', () => {
  const setup = () => ({ params: randomFloats(100, 6), grads: randomFloats(100, 7), m: randomFloats(100, 8), v: randomFloats(100, 9).map(Math.abs) });

  for (const [name, breakIt] of [
    ['NaN in params', (s: ReturnType<typeof setup>) => { s.params[17] = Number.NaN; }],
    ['Infinity in m', (s: ReturnType<typeof setup>) => { s.m[3] = Infinity; }],
    ['a negative second moment v', (s: ReturnType<typeof setup>) => { s.v[50] = -0.25; }],
  ] as const) {
    it(`${name}: ERR_INVALID_ARGUMENT and nothing written`, () => {
      const s = setup();
      breakIt(s);
      const before = [s.params.slice(), s.m.slice(), s.v.slice()];
      expect(() => adamwStepSync(s.params, s.grads, { m: s.m, v: s.v }, { lr: 1e-3, step: 3, backend: 'cpu' })).toThrow(/already hold NaN or Infinity/);
      expect([s.params, s.m, s.v].map((x) => Array.from(x))).toEqual(before.map((x) => Array.from(x)));
    });
  }

  it('a step that could overflow float32 (huge lr): ERR_NONFINITE_RESULT and nothing written', () => {
    const s = setup();
    const before = s.params.slice();
    expect(() => adamwStepSync(s.params, s.grads, { m: s.m, v: s.v }, { lr: 1e36, step: 1, eps: 1e-8, backend: 'cpu' })).toThrow(
      expect.objectContaining({ code: 'ERR_NONFINITE_RESULT' }),
    );
    expect(Array.from(s.params)).toEqual(Array.from(before));
  });

  it('gradients whose square overflows float32 are refused, not turned into v = Infinity', () => {
    const s = setup();
    s.grads.fill(1e20);
    expect(() => adamwStepSync(s.params, s.grads, { m: s.m, v: s.v }, { lr: 1e-3, step: 1, backend: 'cpu' })).toThrow(/could overflow float32/);
    expect(s.v.every(Number.isFinite)).toBe(true);
    // The same gradients clipped first are fine.
    adamwStepSync(s.params, s.grads, { m: s.m, v: s.v }, { lr: 1e-3, step: 1, maxGradNorm: 1, backend: 'cpu' });
    expect(s.v.every(Number.isFinite) && s.params.every(Number.isFinite)).toBe(true);
  });

  it('AdamW.loadState refuses a broken state with a typed error', () => {
    const optimizer = new AdamW(4);
    expect(() => optimizer.loadState(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const state = { step: 2, numParams: 4, m: new Float32Array(4), v: Float32Array.of(0, 1, -1, 0), hyperparameters: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } };
    expect(() => optimizer.loadState(state)).toThrow(/never negative/);
  });
});

describe('float32 overflow from finite arguments is an error', () => {
  it('similarity with huge inputs or a scale beyond float32', () => {
    const a = randomFloats(8, 10).map((x) => x * 1e30);
    expect(() => similaritySync(a, a, { n: 2, m: 2, d: 4, backend: 'cpu' })).toThrow(NonFiniteResultError);
    expect(() => similaritySync(randomFloats(8, 11), randomFloats(8, 12), { n: 2, m: 2, d: 4, scale: 1e39, backend: 'cpu' })).toThrow(/scale must fit in float32/);
  });

  it('an eps that is zero in float32 (AdamW would divide by it)', () => {
    const p = new Float32Array(4);
    expect(() => adamwStepSync(p, Float32Array.of(1, 2, 3, 4), { m: new Float32Array(4), v: new Float32Array(4) }, { lr: 1e-3, step: 1, eps: 1e-46, backend: 'cpu' }))
      .toThrow(/eps must be > 0 and at least 1.4e-45 \(float32\)/);
    expect(p.every((x) => x === 0)).toBe(true);
  });

  it('a logitScale that is zero in float32', () => {
    expect(() => contrastiveLossSync(randomFloats(8, 15), randomFloats(8, 16), { batch: 2, dim: 4, logitScale: 1e-46, backend: 'cpu' }))
      .toThrow(/logitScale must be > 0 \(and representable in float32\)/);
  });

  it('a temperature that is zero in float32', () => {
    expect(() => sinkhornKnoppSync(randomFloats(12, 13), { rows: 3, prototypes: 4, temperature: 1e-46, backend: 'cpu' })).toThrow(/temperature must be in \[1.2e-38/);
  });

  it('linear layers and SigLIP whose results overflow', () => {
    const x = new Float32Array(6).fill(3e37);
    expect(() => linearForwardSync(x, Float32Array.of(10, 10, 10), undefined, { rows: 2, inFeatures: 3, outFeatures: 1, backend: 'cpu' })).toThrow(NonFiniteResultError);
    expect(() => contrastiveLossSync(randomFloats(8, 15), randomFloats(8, 16), { batch: 2, dim: 4, kind: 'siglip', logitScale: 1, bias: 1e39, backend: 'cpu' })).toThrow(/bias must fit in float32/);
    // checkFinite: false is the caller's opt-out (the trainer's hot path), as for inputs.
    expect(geluSync(Float32Array.of(Number.NaN), { checkFinite: false, backend: 'cpu' })[0]).toBeNaN();
  });
});
