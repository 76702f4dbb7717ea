import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  InvalidArgumentError,
  ShapeError,
  augment,
  augmentParams,
  augmentSync,
  halfBitsToFloat32,
  setThreads,
  type AugmentSpec,
  type AugmentViewParams,
  type SourceImage,
} from '../../src/index.js';
import { encodeAugmentSpec } from '../../src/kernels/augment-spec.js';
import { addon } from '../../src/native/addon.js';
import { cuda } from '../helpers/gpu.js';
import { rng } from '../helpers/random.js';
import {
  ksCritical,
  ksStatistic,
  philox,
  renderViewReference,
  resizeReference,
  type ReferenceSettings,
  type SourceArray,
} from '../helpers/reference-augment.js';

// Tolerances. Coordinates are float32 (up to ~1e-5 px off at these sizes) and the float64
// reference sees the same float32 affine map; values are display units in [0, 1]:
const SMOOTH_TOLERANCE = 1e-5; // smooth sources: slope << 1 per pixel
const ROUGH_TOLERANCE = 5e-5; // random pixels: slope up to 1 per pixel, plus pow/log/cos rounding

function randomImage(kind: 'uint8' | 'uint16' | 'float32', height: number, width: number, seed: number): SourceArray {
  const next = rng(seed);
  const n = height * width;
  if (kind === 'uint8') return Uint8Array.from({ length: n }, () => 1 + Math.floor(next() * 254));
  if (kind === 'uint16') return Uint16Array.from({ length: n }, () => 1 + Math.floor(next() * 65534));
  return Float32Array.from({ length: n }, () => 0.05 + 0.9 * next());
}

function smoothImage(height: number, width: number, seed: number): Float32Array {
  const next = rng(seed);
  const [a, b, c] = [next() * 3, next() * 3, next() * 6];
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[y * width + x] = 0.5 + 0.2 * Math.sin((a * x) / width + c) * Math.cos((b * y) / height) + 0.1 * (x / width);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function viewOf(out: Float32Array, row: number, size: number): Float32Array {
  return out.subarray(row * size * size, (row + 1) * size * size);
}

const identity = (size: number, ratio = 1): AugmentSpec => ({ crops: [{ count: 1, size, scale: [1, 1], ratio: [ratio, ratio] }] });

function settingsFor(kind: 'uint8' | 'uint16' | 'float32', spec: AugmentSpec, seed: number, step = 0): ReferenceSettings {
  const window = spec.window && spec.window !== 'none' ? spec.window : undefined;
  const scale = window ? 1 / window.width : kind === 'uint8' ? 1 / 255 : kind === 'uint16' ? 1 / 65535 : 1;
  return {
    valueScale: scale,
    valueOffset: window ? -(window.center - window.width / 2) / window.width : 0,
    clamp: window !== undefined,
    mean: spec.normalize?.mean ?? 0,
    std: spec.normalize?.std ?? 1,
    seed,
    step,
  };
}

describe('augment: geometry', () => {
  it.each([
    [97, 97, 40, 'float32'],
    [300, 300, 37, 'uint16'],
    [50, 50, 80, 'uint8'],
    [80, 120, 33, 'float32'],
  ] as const)('an identity spec reproduces the antialiased resize %ix%i -> %i (%s)', (height, width, size, kind) => {
    const smooth = smoothImage(height, width, height + size);
    const rough = randomImage(kind, height, width, size);
    const spec = identity(size, width / height);
    for (const [image, tolerance] of [[smooth, SMOOTH_TOLERANCE], [rough, ROUGH_TOLERANCE]] as const) {
      const result = augmentSync([{ data: image, height, width }], spec, { seed: 5, backend: 'cpu' });
      const p = result.groups[0]!.params[0]!;
      expect(p.crop).toEqual({ x: 0, y: 0, width, height });
      const scale = image instanceof Uint8Array ? 255 : image instanceof Uint16Array ? 65535 : 1;
      const expected = resizeReference(Array.from(image, (v) => v / scale), height, width, size);
      expect(maxAbsDiff(result.groups[0]!.views as Float32Array, expected)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('a same-size identity view is an exact copy and a flip is an exact mirror', () => {
    const [h, w] = [37, 37];
    const image = randomImage('float32', h, w, 11) as Float32Array;
    const copy = augmentSync([{ data: image, height: h, width: w }], identity(w), { seed: 1, backend: 'cpu' });
    expect(Array.from(copy.groups[0]!.views as Float32Array)).toEqual(Array.from(image));
    const flipped = augmentSync([{ data: image, height: h, width: w }], { ...identity(w), flip: { horizontal: 1, vertical: 1 } }, { seed: 1, backend: 'cpu' });
    const out = flipped.groups[0]!.views as Float32Array;
    expect(flipped.groups[0]!.params[0]!.flipHorizontal && flipped.groups[0]!.params[0]!.flipVertical).toBe(true);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(out[y * w + x]).toBe(image[(h - 1 - y) * w + (w - 1 - x)]);
  });

  it('the rotated (per-pixel) and axis-aligned (tabulated) CPU paths give the same bits', () => {
    // A 180 degree rotation is a flip of both axes up to sin(pi) ~ 1e-16 in the map, which
    // does not change any float32 coordinate, but it sends the view down the general path.
    const batch = images('uint16', [[70, 90], [300, 256]], 21);
    const crops = [{ count: 4, size: 33, scale: [0.05, 1] as const }, { count: 2, size: 16, scale: [0.9, 1] as const }];
    const rotated = augmentSync(batch, { crops, rotate: { degrees: [180, 180] } }, { seed: 4, backend: 'cpu' });
    const flipped = augmentSync(batch, { crops, flip: { horizontal: 1, vertical: 1 } }, { seed: 4, backend: 'cpu' });
    rotated.groups.forEach((g, i) => {
      expect(g.params.some((p) => p.taps[0] > 1)).toBe(true);
      expect(g.params.map((p) => p.affine[1] !== 0)).not.toContain(false);
      expect(Buffer.from((g.views as Float32Array).buffer).equals(Buffer.from((flipped.groups[i]!.views as Float32Array).buffer))).toBe(true);
    });
  });

  it('rotations and shifts put a marker where the affine map says', () => {
    const n = 101;
    const image = Float32Array.from(randomImage('float32', n, n, 3), (v) => 0.1 * v);
    const [my, mx] = [20, 70];
    image[my * n + mx] = 10;
    const centre = (n - 1) / 2;
    for (const degrees of [90, -90, 180]) {
      const r = augmentSync([{ data: image, height: n, width: n }], { ...identity(n), rotate: { degrees: [degrees, degrees] } }, { seed: 2, backend: 'cpu' });
      const out = r.groups[0]!.views as Float32Array;
      // The view rotates the sampling grid by +angle, so content moves by -angle.
      const t = (-degrees * Math.PI) / 180;
      const ex = Math.round(centre + Math.cos(t) * (mx - centre) - Math.sin(t) * (my - centre));
      const ey = Math.round(centre + Math.sin(t) * (mx - centre) + Math.cos(t) * (my - centre));
      expect(out[ey * n + ex]).toBeCloseTo(10, 4);
    }
    const shifted = augmentSync([{ data: image, height: n, width: n }], { ...identity(n), translate: { x: 0.1, y: 0.1 } }, { seed: 9, backend: 'cpu' });
    const p = shifted.groups[0]!.params[0]!;
    expect(Math.abs(p.shift.x) + Math.abs(p.shift.y)).toBeGreaterThan(0);
    const out = shifted.groups[0]!.views as Float32Array;
    let best = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[best]!) best = i;
    expect(Math.abs((best % n) - (mx - p.shift.x))).toBeLessThan(1);
    expect(Math.abs(Math.floor(best / n) - (my - p.shift.y))).toBeLessThan(1);
  });

  it('antialiasing suppresses a pattern above the output Nyquist rate', () => {
    const [n, size] = [96, 32]; // 3x shrink: 2 taps per axis
    const stripes = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) stripes[y * n + x] = x % 2;
    const r = augmentSync([{ data: stripes, height: n, width: n }], identity(size), { seed: 1, backend: 'cpu' });
    expect(r.groups[0]!.params[0]!.taps).toEqual([2, 2]);
    const out = r.groups[0]!.views as Float32Array;
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(std).toBeLessThan(0.3); // point sampling gives 0.5
  });
});

const FULL_SPEC: AugmentSpec = {
  crops: [
    { count: 2, size: 29, scale: [0.3, 1], mask: { patchSize: 1, ratio: [0.2, 0.6], p: 0.7, mode: 'random' } },
    { count: 3, size: 12, scale: [0.05, 0.3] },
  ],
  flip: { horizontal: 0.5, vertical: 0.3 },
  rotate: { degrees: 20, p: 0.6 },
  translate: { x: 0.1, y: 0.05, p: 0.5 },
  intensity: { brightness: 0.3, contrast: 0.3, gamma: [0.7, 1.4], p: 0.8 },
  blur: { sigma: [0.2, 1.5], p: 0.5 },
  noise: { std: [0.01, 0.05], p: 0.5 },
  normalize: { mean: 0.45, std: 0.22 },
  mask: { patchSize: 4, ratio: [0.1, 0.5], p: 0.5 },
};

function images(kind: 'uint8' | 'uint16' | 'float32', shapes: Array<[number, number]>, seed: number): SourceImage[] {
  return shapes.map(([h, w], i) => ({ data: randomImage(kind, h, w, seed + i), height: h, width: w, key: 100 + i }));
}

describe('augment: full pipeline against the float64 reference', () => {
  for (const kind of ['uint8', 'uint16', 'float32'] as const) {
    it(`matches every pixel of every view (${kind} sources, crops, flips, rotation, shift, intensity, blur, noise, masks)`, () => {
      const batch = images(kind, [[63, 70], [41, 33], [90, 90]], 7);
      const spec = kind === 'uint16' ? { ...FULL_SPEC, window: { center: 30000, width: 50000 } } : FULL_SPEC;
      const result = augmentSync({ images: batch }, spec, { seed: 42, step: 3, backend: 'cpu' });
      const settings = settingsFor(kind, spec, 42, 3);
      let blurred = 0;
      let rotated = 0;
      let noisy = 0;
      for (const group of result.groups) {
        expect(group.params.length).toBe(batch.length * group.count);
        group.params.forEach((p, row) => {
          expect(row).toBe(p.image * group.count + (p.view - (p.group === 0 ? 0 : 2)));
          const src = batch[p.image]!;
          const expected = renderViewReference(src.data as SourceArray, src.height, src.width, group.size, p, settings);
          expect(maxAbsDiff(viewOf(group.views as Float32Array, row, group.size), expected)).toBeLessThanOrEqual(ROUGH_TOLERANCE / 0.22);
          blurred += p.blurSigma > 0 ? 1 : 0;
          rotated += p.angle !== 0 ? 1 : 0;
          noisy += p.noiseStd > 0 ? 1 : 0;
        });
      }
      expect(blurred * rotated * noisy).toBeGreaterThan(0);
    });
  }

  it('reads images in place from views into one shared buffer (a cache layout)', () => {
    const shapes: Array<[number, number]> = [[31, 40], [64, 17], [50, 50]];
    const total = shapes.reduce((n, [h, w]) => n + h * w, 0);
    const cache = randomImage('uint16', 1, total + 7, 5) as Uint16Array;
    let offset = 7;
    const views = shapes.map(([h, w], i) => {
      const data = cache.subarray(offset, offset + h * w);
      offset += h * w;
      return { data, height: h, width: w, key: i };
    });
    const copies = views.map((v) => ({ ...v, data: v.data.slice() }));
    const a = augmentSync(views, FULL_SPEC, { seed: 6, backend: 'cpu' });
    const b = augmentSync(copies, FULL_SPEC, { seed: 6, backend: 'cpu' });
    a.groups.forEach((g, i) => expect(Array.from(g.views as Float32Array)).toEqual(Array.from(b.groups[i]!.views as Float32Array)));
  });

  it('writes masks with the drawn ratio, in the declared shapes', () => {
    const batch = images('float32', [[64, 64], [50, 80]], 1);
    const r = augmentSync(batch, FULL_SPEC, { seed: 8, backend: 'cpu' });
    const [g0, g1] = r.groups as [typeof r.groups[0], typeof r.groups[0]];
    expect(g0.masks).toBeInstanceOf(Uint8Array);
    expect((g0.masks as Uint8Array).length).toBe(4 * 29 * 29);
    expect((g1.masks as Uint8Array).length).toBe(6 * 3 * 3);
    for (const g of [g0, g1]) {
      const patches = (g.masks as Uint8Array).length / g.params.length;
      g.params.forEach((p, row) => {
        const m = (g.masks as Uint8Array).subarray(row * patches, (row + 1) * patches);
        const count = m.reduce((a, b) => a + b, 0);
        expect(count).toBe(p.maskedPatches);
        expect(count).toBe(p.maskRatio === 0 ? 0 : Math.min(patches, Math.round(p.maskRatio * patches)));
      });
    }
  });

  it('bfloat16 and float16 outputs are the float32 output rounded to nearest', () => {
    const batch = images('uint16', [[40, 45]], 2);
    const f32 = augmentSync(batch, FULL_SPEC, { seed: 3, backend: 'cpu' }).groups[0]!.views as Float32Array;
    for (const [output, ulp] of [['bfloat16', 2 ** -8], ['float16', 2 ** -11]] as const) {
      const half = augmentSync(batch, { ...FULL_SPEC, output }, { seed: 3, backend: 'cpu' }).groups[0]!;
      expect(half.dtype).toBe(output);
      const decoded = halfBitsToFloat32(half.views as Uint16Array, output);
      for (let i = 0; i < f32.length; i++) expect(Math.abs(decoded[i]! - f32[i]!)).toBeLessThanOrEqual(ulp * Math.abs(f32[i]!) + 1e-7);
    }
  });
});

describe('augment: determinism', () => {
  const batch = images('uint16', [[64, 48], [33, 77], [90, 60], [20, 20]], 4);
  const run = (b: SourceImage[], options = {}) => augmentSync(b, FULL_SPEC, { seed: 77, step: 5, backend: 'cpu', ...options });

  it('is bit-identical across runs, thread counts and the async form', async () => {
    const first = run(batch);
    setThreads(1);
    const single = run(batch);
    setThreads(0);
    const again = await augment(batch, FULL_SPEC, { seed: 77, step: 5, backend: 'cpu' });
    for (const other of [single, again]) {
      other.groups.forEach((g, i) => {
        expect(Buffer.from((g.views as Float32Array).buffer).equals(Buffer.from((first.groups[i]!.views as Float32Array).buffer))).toBe(true);
        expect(g.masks).toEqual(first.groups[i]!.masks);
      });
    }
  });

  it('a view depends on its image key, not on the batch order or the other images', () => {
    const base = run(batch);
    const order = [2, 0, 3, 1];
    const permuted = run([...order.map((i) => batch[i]!), ...images('float32', [[30, 30]], 99)]);
    base.groups.forEach((g, gi) => {
      const pg = permuted.groups[gi]!;
      const per = g.size * g.size;
      order.forEach((src, dst) => {
        for (let v = 0; v < g.count; v++) {
          const a = (g.views as Float32Array).subarray((src * g.count + v) * per, (src * g.count + v + 1) * per);
          const b = (pg.views as Float32Array).subarray((dst * g.count + v) * per, (dst * g.count + v + 1) * per);
          expect(Buffer.from(a.slice().buffer).equals(Buffer.from(b.slice().buffer))).toBe(true);
          expect({ ...pg.params[dst * g.count + v]!, image: 0 }).toEqual({ ...g.params[src * g.count + v]!, image: 0 });
        }
      });
    });
  });

  it('new seeds and steps give new views', () => {
    const a = run(batch).groups[0]!.params[0]!;
    const b = run(batch, { step: 6 }).groups[0]!.params[0]!;
    const c = run(batch, { seed: 78 }).groups[0]!.params[0]!;
    expect(a.crop).not.toEqual(b.crop);
    expect(a.crop).not.toEqual(c.crop);
  });

  it('Philox-4x32-10 matches the reference implementation and the published known-answer vector', () => {
    // Random123 KAT: counter = key = all ones (0xffffffff).
    expect(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], 0xffffffff, 0xffffffff).map((v) => v.toString(16))).toEqual([
      '408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd',
    ]);
  });
});

describe('augment: parameter distributions (Kolmogorov-Smirnov, 10k draws)', () => {
  const n = 10_000;
  const side = 200;
  const spec: AugmentSpec = {
    crops: [{ count: 1, size: 8, scale: [0.1, 0.5], ratio: [3 / 4, 4 / 3], mask: { patchSize: 1, ratio: [0.1, 0.5], p: 1 } }],
    flip: { horizontal: 0.5, vertical: 0.2 },
    rotate: { degrees: 15 },
    translate: { x: 0.1, y: 0.2 },
    intensity: { brightness: 0.4, contrast: 0.2, gamma: [0.8, 1.25] },
    blur: { sigma: [0.1, 2] },
    noise: { std: [0.01, 0.1] },
  };
  const { params } = augmentParams(Array.from({ length: n }, (_, i) => ({ height: side, width: side, key: i })), spec, { seed: 2024, step: 1 });
  const uniform = (lo: number, hi: number) => (x: number) => Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
  const critical = ksCritical(n, 0.001);
  const cases: Array<[string, (p: AugmentViewParams) => number, (x: number) => number]> = [
    ['area fraction', (p) => (p.crop.width * p.crop.height) / side ** 2, uniform(0.1, 0.5)],
    ['log aspect ratio', (p) => Math.log(p.crop.width / p.crop.height), uniform(Math.log(3 / 4), Math.log(4 / 3))],
    ['crop x position', (p) => p.crop.x / (side - p.crop.width), uniform(0, 1)],
    ['crop y position', (p) => p.crop.y / (side - p.crop.height), uniform(0, 1)],
    ['angle', (p) => p.angle, uniform(-15, 15)],
    ['shift x', (p) => p.shift.x / p.crop.width, uniform(-0.1, 0.1)],
    ['brightness', (p) => p.brightness, uniform(0.6, 1.4)],
    ['contrast', (p) => p.contrast, uniform(0.8, 1.2)],
    ['log gamma', (p) => Math.log(p.gamma), uniform(Math.log(0.8), Math.log(1.25))],
    ['blur sigma', (p) => p.blurSigma, uniform(0.1, 2)],
    ['noise std', (p) => p.noiseStd, uniform(0.01, 0.1)],
    ['mask ratio', (p) => p.maskRatio, uniform(0.1, 0.5)],
  ];
  it.each(cases)('%s is uniform on its range', (_, value, cdf) => {
    expect(ksStatistic(params.map(value), cdf)).toBeLessThan(critical);
  });

  it('flips fire at their probabilities and no crop needed the fallback', () => {
    for (const [key, p] of [['flipHorizontal', 0.5], ['flipVertical', 0.2]] as const) {
      const k = params.filter((v) => v[key]).length;
      expect(Math.abs(k - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    }
    expect(params.some((p) => p.cropFallback)).toBe(false);
  });

  it('block masks cover the drawn ratio with blocks', () => {
    const blockSpec: AugmentSpec = { crops: [{ count: 1, size: 224, scale: [0.5, 1], mask: { patchSize: 16, ratio: [0.1, 0.5] } }] };
    const r = augmentParams(Array.from({ length: 200 }, (_, i) => ({ height: 256, width: 256, key: i })), blockSpec, { seed: 1 });
    const masks = r.masks[0]!;
    let neighbours = 0;
    let masked = 0;
    r.params.forEach((p, v) => {
      const m = masks.subarray(v * 196, (v + 1) * 196);
      const count = m.reduce((a, b) => a + b, 0);
      expect(count).toBe(Math.round(p.maskRatio * 196));
      for (let i = 0; i < 196; i++) {
        if (!m[i]) continue;
        masked++;
        const [y, x] = [Math.floor(i / 14), i % 14];
        if ((x > 0 && m[i - 1]) || (x < 13 && m[i + 1]) || (y > 0 && m[i - 14]) || (y < 13 && m[i + 14])) neighbours++;
      }
    });
    // Block masking: almost every masked patch touches another (random masking at these ratios: ~60%).
    expect(neighbours / masked).toBeGreaterThan(0.9);
  });
});

describe('augment: bad input', () => {
  const image = [{ data: new Float32Array(16).fill(0.5).map((v, i) => v + i / 100), height: 4, width: 4 }];
  const bad: Array<[string, AugmentSpec]> = [
    ['scale min 0', { crops: [{ count: 1, size: 4, scale: [0, 1] }] }],
    ['scale above 1', { crops: [{ count: 1, size: 4, scale: [0.5, 1.2] }] }],
    ['scale NaN', { crops: [{ count: 1, size: 4, scale: [Number.NaN, 1] }] }],
    ['scale reversed', { crops: [{ count: 1, size: 4, scale: [0.8, 0.5] }] }],
    ['size 0', { crops: [{ count: 1, size: 0, scale: [0.5, 1] }] }],
    ['count 0', { crops: [{ count: 0, size: 4, scale: [0.5, 1] }] }],
    ['no crops', { crops: [] }],
    ['ratio 0', { crops: [{ count: 1, size: 4, scale: [0.5, 1], ratio: [0, 1] }] }],
    ['flip probability 2', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], flip: { horizontal: 2 } }],
    ['blur sigma 20', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], blur: { sigma: 20 } }],
    ['noise NaN', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], noise: { std: Number.NaN } }],
    ['window width 0', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], window: { center: 1, width: 0 } }],
    ['normalize std 0', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], normalize: { mean: 0, std: 0 } }],
    ['mask patch not dividing', { crops: [{ count: 1, size: 10, scale: [0.5, 1] }], mask: { patchSize: 3, ratio: [0.1, 0.2] } }],
    ['output int8', { crops: [{ count: 1, size: 4, scale: [0.5, 1] }], output: 'int8' as 'float32' }],
  ];
  it.each(bad)('%s -> InvalidArgumentError', (_, spec) => {
    expect(() => augmentSync(image, spec, { seed: 1, backend: 'cpu' })).toThrow(InvalidArgumentError);
  });

  it('the native side refuses a malformed or out-of-bounds spec on its own (ERR_INVALID_ARGUMENT naming the field)', () => {
    const good = encodeAugmentSpec({ crops: [{ count: 1, size: 4, scale: [0.5, 1] }], mask: { patchSize: 2, ratio: [0.1, 0.5] } });
    const params = (spec: unknown) => () => addon().augmentParams({ heights: [4], widths: [4], keys: [0], spec: spec as typeof good, seed: 1, step: 0 });
    expect(params(good)).not.toThrow();
    const crop = good.crops[0]!;
    const refused = (spec: unknown, message: RegExp) => expect(params(spec)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) }));
    refused({ ...good, crops: [{ ...crop, count: 0 }] }, /crops\[0\]\.count must be an integer in \[1, 1024\]/);
    refused({ ...good, crops: [{ ...crop, size: 9000 }] }, /crops\[0\]\.size must be an integer in \[1, 8192\]/);
    refused({ ...good, crops: [{ ...crop, mask: { ...crop.mask!, patchSize: 0 } }] }, /mask\.patchSize must be in \[1, 4\]/);
    refused({ ...good, crops: [] }, /at least one crop group/);
    refused({ ...good, crops: [{ ...crop, scale: [0.5] }] }, /crops\[0\]\.scale must be a \[min, max\] pair/);
    refused({ ...good, flip: { horizontal: 'often', vertical: 0 } }, /flip\.horizontal must be a number/);
    refused({ ...good, rotate: undefined }, /augment spec: rotate must be an object/);
    refused({ ...good, output: 'int8' }, /output must be/);
  });

  it.skipIf(cuda.available)('asking for CUDA without a usable device is a BackendUnavailableError', async () => {
    const spec: AugmentSpec = { crops: [{ count: 1, size: 4, scale: [0.5, 1] }] };
    await expect(augment(image, spec, { seed: 1, backend: 'cuda' })).rejects.toThrow(BackendUnavailableError);
  });

  it('wrong image sizes, types, seeds and NaN pixels give typed errors', () => {
    const spec: AugmentSpec = { crops: [{ count: 1, size: 4, scale: [0.5, 1] }] };
    expect(() => augmentSync([{ data: new Float32Array(15), height: 4, width: 4 }], spec, { seed: 1 })).toThrow(ShapeError);
    expect(() => augmentSync([{ data: new Float64Array(16) as unknown as Float32Array, height: 4, width: 4 }], spec, { seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => augmentSync([{ data: new Float32Array(16), height: 0, width: 4 }], spec, { seed: 1 })).toThrow(ShapeError);
    expect(() => augmentSync(image, spec, { seed: -1 })).toThrow(InvalidArgumentError);
    expect(() => augmentSync(image, spec, { seed: 1, step: 2 ** 32 })).toThrow(InvalidArgumentError);
    expect(() => augmentSync([], spec, { seed: 1 })).toThrow(InvalidArgumentError);
    const nan = new Float32Array(16).fill(0.5);
    nan[7] = Number.NaN;
    expect(() => augmentSync([{ data: nan, height: 4, width: 4 }], spec, { seed: 1, backend: 'cpu' })).toThrow(/images\[0\]\.data\[7\]/);
  });
});
