import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, contrastiveLoss, contrastiveLossSync, setThreads, type ContrastiveOptions } from '../../src/index.js';
import { expectAllWritten, expectClose } from '../helpers/check.js';
import { randomFloats, rng } from '../helpers/random.js';
import { contrastiveRef, type ContrastiveRefOptions } from '../helpers/reference-contrastive.js';

// float32 kernels against the float64 reference: relative error <= 1e-5 for the loss, dL/da,
// dL/dbias, and normwise for the gradients (floored at their natural scale, see the helper).
const FLOAT32_TOLERANCE = 1e-5;

type Variant = Omit<ContrastiveOptions, 'batch' | 'dim'>;

function groupsFor(batch: number, seed: number, distinct: number): Int32Array {
  const next = rng(seed);
  const groups = new Int32Array(batch);
  // Non-contiguous, negative and large ids: the kernels must compare ids, not assume ranges.
  for (let i = 0; i < batch; i++) groups[i] = Math.floor(next() * distinct) * 7919 - 50_000;
  return groups;
}

function check(batch: number, dim: number, variant: Variant, seed: number): void {
  const image = randomFloats(batch * dim, seed, 1.3);
  const text = randomFloats(batch * dim, seed + 1000, 0.7);
  const options = { batch, dim, backend: 'cpu' as const, ...variant };
  const got = contrastiveLossSync(image, text, options);
  const ref = contrastiveRef(image, text, options as ContrastiveRefOptions);
  const what = `${variant.kind ?? 'infonce'} B=${batch} D=${dim}`;
  expectAllWritten(got.gradImage, 'gradImage');
  expectAllWritten(got.gradText, 'gradText');
  expect(got.gradImage.length).toBe(batch * dim);
  expectClose([got.loss], [ref.loss], FLOAT32_TOLERANCE, `${what} loss`, 1e-6);
  expectClose(got.gradImage, ref.gradImage, FLOAT32_TOLERANCE, `${what} gradImage`, Math.max(ref.gradFloor, 1e-30));
  expectClose(got.gradText, ref.gradText, FLOAT32_TOLERANCE, `${what} gradText`, Math.max(ref.gradFloor, 1e-30));
  expectClose([got.gradLogitScale], [ref.gradLogitScale], FLOAT32_TOLERANCE, `${what} gradLogitScale`, Math.max(ref.gradLogitScaleFloor, 1e-30));
  if (variant.kind === 'siglip') {
    expect(got.gradBias).toBeTypeOf('number');
    expectClose([got.gradBias!], [ref.gradBias!], FLOAT32_TOLERANCE, `${what} gradBias`, 1e-6);
  } else {
    expect(got.gradBias).toBeUndefined();
  }
}

describe('contrastiveLoss (CPU) against the float64 reference', () => {
  // Plain InfoNCE on the full grid B x D (the float64 reference costs ~2 s at B = 1000, D = 257).
  for (const batch of [1, 2, 7, 129, 1000])
    for (const dim of [1, 3, 64, 257]) {
      it(`infonce B=${batch} D=${dim}`, () => check(batch, dim, { logitScale: 14.3 }, batch * 13 + dim));
    }

  const variants: Array<[string, (batch: number) => Variant]> = [
    ['infonce, no normalisation', () => ({ logitScale: 2.5, normalize: false })],
    ['infonce with groups', (b) => ({ logitScale: 10, groups: groupsFor(b, b + 3, Math.max(1, Math.floor(b / 3))) })],
    ['infonce relaxed', () => ({ logitScale: 20, relaxThreshold: 0.05 })],
    ['infonce relaxed with groups', (b) => ({ logitScale: 7, relaxThreshold: -0.02, groups: groupsFor(b, b + 5, Math.max(1, Math.floor(b / 4))) })],
    ['siglip', () => ({ kind: 'siglip', logitScale: 10, bias: -3 })],
    ['siglip with groups, no normalisation', (b) => ({ kind: 'siglip', logitScale: 0.8, bias: 0.5, normalize: false, groups: groupsFor(b, b + 7, Math.max(1, Math.floor(b / 2))) })],
  ];
  for (const [name, make] of variants)
    for (const [batch, dim] of [[1, 3], [2, 1], [7, 257], [129, 64], [1000, 64]] as const) {
      it(`${name} B=${batch} D=${dim}`, () => check(batch, dim, make(batch), batch + dim * 31));
    }
  // B >= 2048 switches to 256-row tiles; 2053 = 8 x 256 + 5 leaves a 5-row last block
  for (const [name, make] of [variants[3]!, variants[4]!])
    it(`${name} B=2053 D=40 (256-row tiles)`, () => check(2053, 40, make(2053), 2053 + name.length));
});

describe('contrastiveLoss (CPU) semantics', () => {
  it('groups where every sample is its own group equal the plain loss', () => {
    for (const kind of ['infonce', 'siglip'] as const) {
      const [batch, dim] = [45, 19];
      const image = randomFloats(batch * dim, 1);
      const text = randomFloats(batch * dim, 2);
      const groups = new Int32Array(batch).map((_, i) => 1000 - 3 * i);
      const plain = contrastiveLossSync(image, text, { batch, dim, kind, logitScale: 9, backend: 'cpu' });
      const grouped = contrastiveLossSync(image, text, { batch, dim, kind, logitScale: 9, groups, backend: 'cpu' });
      expect(grouped.loss).toBe(plain.loss);
      expect(Array.from(grouped.gradImage)).toEqual(Array.from(plain.gradImage));
      expect(Array.from(grouped.gradText)).toEqual(Array.from(plain.gradText));
      expect(grouped.gradLogitScale).toBe(plain.gradLogitScale);
    }
  });

  it('a relaxation threshold above every similarity changes nothing', () => {
    const [batch, dim] = [33, 8];
    const image = randomFloats(batch * dim, 3);
    const text = randomFloats(batch * dim, 4);
    const plain = contrastiveLossSync(image, text, { batch, dim, logitScale: 5, backend: 'cpu' });
    const relaxed = contrastiveLossSync(image, text, { batch, dim, logitScale: 5, relaxThreshold: 1.5, backend: 'cpu' });
    expect(relaxed.loss).toBe(plain.loss);
    expect(Array.from(relaxed.gradImage)).toEqual(Array.from(plain.gradImage));
  });

  it('is bitwise reproducible across thread counts, and the Promise form agrees with the sync form', async () => {
    const [batch, dim] = [300, 40];
    const image = randomFloats(batch * dim, 5);
    const text = randomFloats(batch * dim, 6);
    const groups = groupsFor(batch, 9, 100);
    const options: ContrastiveOptions = { batch, dim, logitScale: 12, groups, relaxThreshold: 0.1, backend: 'cpu' };
    const many = contrastiveLossSync(image, text, options);
    const previous = setThreads(1);
    let one;
    try {
      one = contrastiveLossSync(image, text, options);
    } finally {
      setThreads(previous);
    }
    const async = await contrastiveLoss(image, text, options);
    for (const other of [one, async]) {
      expect(other.loss).toBe(many.loss);
      expect(other.gradLogitScale).toBe(many.gradLogitScale);
      expect(Array.from(other.gradImage)).toEqual(Array.from(many.gradImage));
      expect(Array.from(other.gradText)).toEqual(Array.from(many.gradText));
    }
  });

  it('stays finite with a large logit scale', () => {
    const [batch, dim] = [64, 16];
    const image = randomFloats(batch * dim, 7);
    const text = randomFloats(batch * dim, 8);
    for (const kind of ['infonce', 'siglip'] as const) {
      const got = contrastiveLossSync(image, text, { batch, dim, kind, logitScale: 500, backend: 'cpu' });
      const ref = contrastiveRef(image, text, { batch, dim, kind, logitScale: 500 });
      expectClose([got.loss], [ref.loss], 1e-5, `${kind} loss at a = 500`, 1e-3);
      expectClose(got.gradImage, ref.gradImage, 1e-4, `${kind} gradImage at a = 500`, Math.max(ref.gradFloor, 1e-30));
    }
  });
});

describe('contrastiveLoss gradients against finite differences', () => {
  // Central differences of the float64 reference loss (h = 1e-6); the float32 kernel's analytic
  // gradients must agree to 1e-4 relative (finite differences are good to ~1e-8 here).
  const [batch, dim] = [6, 5];
  const cases: Array<[string, Variant]> = [
    ['infonce', { logitScale: 3.5 }],
    ['infonce, unnormalised', { logitScale: 0.9, normalize: false }],
    ['infonce with groups', { logitScale: 4, groups: Int32Array.from([3, 1, 3, 2, 1, 3]) }],
    ['infonce relaxed with groups', { logitScale: 6, groups: Int32Array.from([3, 1, 3, 2, 1, 3]), relaxThreshold: 0 }],
    ['siglip', { kind: 'siglip', logitScale: 2.5, bias: -1.2 }],
    ['siglip with groups', { kind: 'siglip', logitScale: 1.5, bias: 0.3, groups: Int32Array.from([0, 0, 4, 4, 4, 9]) }],
  ];
  for (const [name, variant] of cases) {
    it(name, () => {
      const image = randomFloats(batch * dim, 21);
      const text = randomFloats(batch * dim, 22);
      const options = { batch, dim, ...variant } as ContrastiveRefOptions;
      const got = contrastiveLossSync(image, text, { batch, dim, backend: 'cpu', ...variant });
      const ref = contrastiveRef(image, text, options);
      const loss = (x: Float64Array, t: Float64Array, o: ContrastiveRefOptions) => contrastiveRef(x, t, o).loss;
      const h = 1e-6;
      const x = Float64Array.from(image);
      const t = Float64Array.from(text);
      if (variant.relaxThreshold !== undefined) {
        // Differences must not straddle the kink of min(cos, theta): positive cosines stay > 1e-3 away.
        const g = variant.groups!;
        for (let i = 0; i < batch; i++)
          for (let j = 0; j < batch; j++) {
            if (g[i] !== g[j]) continue;
            let dot = 0, nx = 0, nt = 0;
            for (let k = 0; k < dim; k++) {
              dot += x[i * dim + k]! * t[j * dim + k]!;
              nx += x[i * dim + k]! ** 2;
              nt += t[j * dim + k]! ** 2;
            }
            expect(Math.abs(dot / Math.sqrt(nx * nt) - variant.relaxThreshold)).toBeGreaterThan(1e-3);
          }
      }
      const fdImage = new Float64Array(batch * dim);
      const fdText = new Float64Array(batch * dim);
      for (let k = 0; k < batch * dim; k++) {
        for (const [v, out] of [[x, fdImage], [t, fdText]] as const) {
          const keep = v[k]!;
          v[k] = keep + h;
          const up = loss(x, t, options);
          v[k] = keep - h;
          const down = loss(x, t, options);
          v[k] = keep;
          out[k] = (up - down) / (2 * h);
        }
      }
      expectClose(ref.gradImage, fdImage, 1e-6, `${name} reference gradImage vs finite differences`, Math.max(ref.gradFloor, 1e-30));
      expectClose(ref.gradText, fdText, 1e-6, `${name} reference gradText vs finite differences`, Math.max(ref.gradFloor, 1e-30));
      expectClose(got.gradImage, fdImage, 1e-4, `${name} kernel gradImage vs finite differences`, Math.max(ref.gradFloor, 1e-30));
      expectClose(got.gradText, fdText, 1e-4, `${name} kernel gradText vs finite differences`, Math.max(ref.gradFloor, 1e-30));
      const a = variant.logitScale;
      const fdScale = (loss(x, t, { ...options, logitScale: a + h }) - loss(x, t, { ...options, logitScale: a - h })) / (2 * h);
      expectClose([got.gradLogitScale], [fdScale], 1e-4, `${name} gradLogitScale vs finite differences`, Math.max(ref.gradLogitScaleFloor, 1e-30));
      if (variant.kind === 'siglip') {
        const b = variant.bias ?? 0;
        const fdBias = (loss(x, t, { ...options, bias: b + h }) - loss(x, t, { ...options, bias: b - h })) / (2 * h);
        expectClose([got.gradBias!], [fdBias], 1e-4, `${name} gradBias vs finite differences`, 1e-6);
      }
    });
  }
});

describe('contrastiveLoss bad input', () => {
  const [batch, dim] = [4, 3];
  const image = randomFloats(batch * dim, 31);
  const text = randomFloats(batch * dim, 32);
  const base: ContrastiveOptions = { batch, dim, logitScale: 10, backend: 'cpu' };

  it('rejects B * D != length with a ShapeError naming the shape', () => {
    expect(() => contrastiveLossSync(image.subarray(1), text, base)).toThrow(ShapeError);
    expect(() => contrastiveLossSync(image, text, { ...base, dim: 4 })).toThrow(/image has 12 elements, but \[batch, dim\] = \[4, 4\] needs 16/);
    expect(() => contrastiveLossSync(image, text.subarray(0, 9), base)).toThrow(/text has 9 elements/);
  });

  it('rejects a non-positive or non-finite logit scale', () => {
    for (const logitScale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e-50]) {
      expect(() => contrastiveLossSync(image, text, { ...base, logitScale })).toThrow(InvalidArgumentError);
    }
  });

  it('rejects groups of the wrong length or type', () => {
    expect(() => contrastiveLossSync(image, text, { ...base, groups: new Int32Array(3) })).toThrow(ShapeError);
    expect(() => contrastiveLossSync(image, text, { ...base, groups: new Int32Array(5) })).toThrow(/groups has 5 elements, but batch is 4/);
    expect(() => contrastiveLossSync(image, text, { ...base, groups: [0, 1, 2, 3] as unknown as Int32Array })).toThrow(InvalidArgumentError);
  });

  it('rejects NaN or infinite embeddings, naming the element', () => {
    const bad = Float32Array.from(image);
    bad[7] = Number.NaN;
    expect(() => contrastiveLossSync(bad, text, base)).toThrow(/image\[7\] is NaN/);
    const inf = Float32Array.from(text);
    inf[2] = Number.NEGATIVE_INFINITY;
    expect(() => contrastiveLossSync(image, inf, base)).toThrow(/text\[2\] is -Infinity/);
  });

  it('rejects options that do not belong to the kind, unknown kinds and bad sizes', async () => {
    expect(() => contrastiveLossSync(image, text, { ...base, bias: 1 })).toThrow(/bias applies to kind 'siglip' only/);
    expect(() => contrastiveLossSync(image, text, { ...base, kind: 'siglip', relaxThreshold: 0.5 })).toThrow(/relaxThreshold applies/);
    expect(() => contrastiveLossSync(image, text, { ...base, kind: 'clip' as 'infonce' })).toThrow(InvalidArgumentError);
    expect(() => contrastiveLossSync(image, text, { ...base, relaxThreshold: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => contrastiveLossSync(image, text, { ...base, batch: 0 })).toThrow(InvalidArgumentError);
    expect(() => contrastiveLossSync(image, text, { ...base, dim: 1.5 })).toThrow(InvalidArgumentError);
    await expect(contrastiveLoss(image, text, { ...base, logitScale: -2 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('reports float32 overflow of the logits instead of returning NaN', async () => {
    const huge = Float32Array.from(image, (v) => v * 1e20);
    expect(() => contrastiveLossSync(huge, huge, { ...base, normalize: false })).toThrow(/overflowed float32/);
    await expect(contrastiveLoss(huge, huge, { ...base, normalize: false, kind: 'siglip' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('rejects what would touch memory wrongly at the native boundary too (typed code, no crash)', async () => {
    const { addon } = await import('../../src/native/addon.js');
    const good = { batch: 4, dim: 3, kind: 'infonce', logitScale: 1, bias: 0, normalize: true, backend: 'cpu', async: false };
    const call = (options: unknown) => () => (addon().contrastive as (...a: unknown[]) => unknown)(image, text, options);
    expect(call(good)).not.toThrow();
    expect(call({ ...good, dim: 4 })).toThrow(/image has 12 elements but shape/);
    expect(call({ ...good, groups: new Int32Array(2) })).toThrow(/groups has 2 elements/);
    expect(call({ ...good, groups: [0, 0, 1, 1] })).toThrow(/groups must be an Int32Array/);
    expect(call({ ...good, batch: 0, dim: 0 })).toThrow(/batch and dim must be >= 1/);
    expect(call({ ...good, kind: 'nope' })).toThrow(/kind must be/);
    expect(call({ ...good, logitScale: '1' })).toThrow(/logitScale must be a number/);
    expect(call(null)).toThrow(/options must be an object/);
  });
});
