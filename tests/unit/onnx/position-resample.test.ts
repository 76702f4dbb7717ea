import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { listParameters, readParameters, writeParameters } from '../../../src/onnx/parameters.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { bilinearResampleMatrix, type Grid } from '../../../src/onnx/models/position-resample.js';
import { Sfc32 } from '../../../src/random/index.js';
import { checkModelGradients } from '../autodiff/gradcheck.js';

/**
 * Bilinear resampling written per output pixel, the way torch's upsample_bilinear2d kernel reads
 * (align_corners=False: half-pixel centres, sources below 0 clamped, the far neighbour clamped).
 */
function referenceBilinear(src: Float64Array, from: Grid, to: Grid): Float64Array {
  const out = new Float64Array(to[0] * to[1]);
  const source = (o: number, inSize: number, outSize: number): [number, number, number] => {
    const s = Math.max(0, (inSize / outSize) * (o + 0.5) - 0.5);
    const i0 = Math.floor(s);
    return [i0, i0 < inSize - 1 ? i0 + 1 : i0, s - i0];
  };
  for (let oy = 0; oy < to[0]; oy++) {
    const [y0, y1, ty] = source(oy, from[0], to[0]);
    for (let ox = 0; ox < to[1]; ox++) {
      const [x0, x1, tx] = source(ox, from[1], to[1]);
      const at = (y: number, x: number): number => src[y * from[1] + x]!;
      out[oy * to[1] + ox] = (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x1)) + ty * ((1 - tx) * at(y1, x0) + tx * at(y1, x1));
    }
  }
  return out;
}

function apply(m: Float64Array, rows: number, cols: number, v: Float64Array): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r] += m[r * cols + c]! * v[c]!;
  return out;
}

function randomGrid(rng: Sfc32, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

describe('bilinear position resampling matrix', () => {
  const cases: Array<[Grid, Grid]> = [
    [
      [7, 7],
      [3, 3],
    ],
    [
      [8, 8],
      [4, 4],
    ],
    [
      [8, 8],
      [5, 5],
    ],
    [
      [4, 6],
      [3, 2],
    ],
    [
      [3, 3],
      [5, 5],
    ],
    [
      [2, 2],
      [2, 2],
    ],
  ];
  it.each(cases)('%j -> %j matches per-pixel bilinear resampling in float64', (from, to) => {
    const rng = new Sfc32(from[0] * 31 + to[1]);
    const m = bilinearResampleMatrix(from, to);
    const rows = to[0] * to[1];
    const cols = from[0] * from[1];
    expect(m.length).toBe(rows * cols);
    for (let trial = 0; trial < 3; trial++) {
      const grid = randomGrid(rng, cols);
      const got = apply(m, rows, cols, grid);
      const want = referenceBilinear(grid, from, to);
      for (let i = 0; i < rows; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-12);
    }
    // every row is a convex combination: a constant embedding stays constant
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        expect(m[r * cols + c]!).toBeGreaterThanOrEqual(0);
        sum += m[r * cols + c]!;
      }
      expect(sum).toBeCloseTo(1, 12);
    }
  });

  it('halving averages 2x2 blocks, and equal grids give the identity', () => {
    const grid = Float64Array.from({ length: 64 }, (_, i) => i * i);
    const half = apply(bilinearResampleMatrix([8, 8], [4, 4]), 16, 64, grid);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const block = [
          grid[2 * y * 8 + 2 * x]!,
          grid[2 * y * 8 + 2 * x + 1]!,
          grid[(2 * y + 1) * 8 + 2 * x]!,
          grid[(2 * y + 1) * 8 + 2 * x + 1]!,
        ];
        expect(half[y * 4 + x]).toBeCloseTo(block.reduce((a, b) => a + b) / 4, 10);
      }
    }
    const id = bilinearResampleMatrix([3, 5], [3, 5]);
    for (let r = 0; r < 15; r++) for (let c = 0; c < 15; c++) expect(id[r * 15 + c]).toBe(r === c ? 1 : 0);
  });
});

describe('ViT at another input size with resampled position embeddings', () => {
  const base = { patchSize: 8, dim: 16, depth: 1, heads: 2, mlpRatio: 2, inChannels: 1, seed: 5, patchTokens: true } as const;
  const rng = new Sfc32(77);
  const images = (n: number, size: number): ort.Tensor =>
    new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * size * size }, () => rng.normal()),
      [n, 1, size, size],
    );
  const run = async (model: Parameters<typeof serializeModel>[0], image: ort.Tensor): Promise<Record<string, Float32Array>> => {
    const out = await (await ort.InferenceSession.create(serializeModel(model))).run({ image });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  };

  it("shares the reference graph's parameter layout (names, shapes, offsets) and values", () => {
    const reference = buildViTEncoder({ ...base, imageSize: 32 }).model;
    const small = buildViTEncoder({ ...base, imageSize: 16, positionImageSize: 32 }).model;
    const a = listParameters(reference);
    const b = listParameters(small);
    expect(b.size).toBe(a.size);
    expect(b.parameters.map((p) => [p.name, [...p.shape], p.offset])).toEqual(a.parameters.map((p) => [p.name, [...p.shape], p.offset]));
    expect(readParameters(small, b)).toEqual(readParameters(reference, a));
  });

  it('at the reference size the resampled graph computes the plain ViT (identity matrix)', async () => {
    const image = images(3, 24);
    const plain = await run(buildViTEncoder({ ...base, imageSize: 24 }).model, image);
    const same = await run(buildViTEncoder({ ...base, imageSize: 24, positionImageSize: 24 }).model, image);
    for (const name of ['embedding', 'patch_tokens']) {
      const x = plain[name]!;
      const y = same[name]!;
      expect(y.length).toBe(x.length);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-6);
    }
  });

  it('at 16 px equals a plain 16 px ViT fed the interpolated pos_embed', async () => {
    const small = buildViTEncoder({ ...base, imageSize: 16, positionImageSize: 40 }).model; // 5x5 -> 2x2
    const plain = buildViTEncoder({ ...base, imageSize: 16 }).model;
    const smallLayout = listParameters(small);
    const values = readParameters(small, smallLayout);
    const plainLayout = listParameters(plain);
    const plainValues = new Float32Array(plainLayout.size);
    const m = bilinearResampleMatrix([5, 5], [2, 2]);
    for (const p of plainLayout.parameters) {
      const src = smallLayout.parameters.find((q) => q.name === p.name)!;
      const from = values.subarray(src.offset, src.offset + src.size);
      if (p.name !== 'pos_embed') {
        plainValues.set(from, p.offset);
        continue;
      }
      const dim = base.dim;
      plainValues.set(from.subarray(0, dim), p.offset); // CLS position unchanged
      for (let d = 0; d < dim; d++) {
        const column = Float64Array.from({ length: 25 }, (_, k) => from[(1 + k) * dim + d]!);
        apply(m, 4, 25, column).forEach((v, r) => {
          plainValues[p.offset + (1 + r) * dim + d] = v;
        });
      }
    }
    const image = images(2, 16);
    const got = await run(small, image);
    const want = await run(writeParameters(plain, plainLayout, plainValues), image);
    for (const name of ['embedding', 'patch_tokens']) {
      const x = want[name]!;
      const y = got[name]!;
      expect(y.length).toBe(x.length);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-5);
    }
  });

  it('the gradient reaches pos_embed through the resampling MatMul (finite differences)', async () => {
    const small = buildViTEncoder({ ...base, imageSize: 16, positionImageSize: 24 }).model; // 3x3 -> 2x2
    const image = Float32Array.from({ length: 2 * 256 }, () => rng.normal());
    const r = await checkModelGradients(
      small,
      { image: { data: image, dims: [2, 1, 16, 16] } },
      {
        parameters: ['pos_embed'],
        maxEntries: 40,
        seed: 9,
        outputs: ['embedding', 'patch_tokens'],
      },
    );
    expect(r.checked).toBe(40);
    expect(r.numericNorm).toBeGreaterThan(0);
    expect(r.relativeError).toBeLessThanOrEqual(2e-3);
  });
});
