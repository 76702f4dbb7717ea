import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/random/index.js';
import { ParameterLayoutError } from '../../../src/onnx/errors.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { listParameters } from '../../../src/onnx/parameters.js';
import { TrainConfigError } from '../../../src/train/config.js';
import { dinoSchema } from '../../../src/train/dino/config.js';
import { resolveLocalSize } from '../../../src/train/dino/local-size.js';
import { assertSameLayout, createDinoModel, forwardDino, forwardDinoLocal } from '../../../src/train/dino/model.js';
import { dinoStepLosses } from '../../../src/train/dino/losses.js';
import { resolveTrainOps } from '../../../src/train/ops.js';
import { studentStep } from '../../../src/train/dino/step.js';
import { dinoAugmentSpec, makeDinoViews } from '../../../src/train/dino/views.js';

const ops = resolveTrainOps();
const tiny = (crops: Record<string, unknown> = {}, patchSize = 8) =>
  dinoSchema.parse({
    vit: { patchSize, dim: 16, depth: 1, heads: 2 },
    head: { hidden: 32, bottleneck: 8, prototypes: 64 },
    crops: { localCount: 2, ...crops },
  });

describe('dino.crops.localSize', () => {
  it('defaults to the patch multiple nearest 96/224 of image.size, at least one patch; 0 means image.size', () => {
    expect(resolveLocalSize(tiny({}, 16), 224)).toBe(96);
    expect(resolveLocalSize(tiny({}, 8), 64)).toBe(24);
    expect(resolveLocalSize(tiny({}, 8), 32)).toBe(16);
    expect(resolveLocalSize(tiny({}, 16), 16)).toBe(16);
    expect(resolveLocalSize(tiny({ localSize: 0 }), 32)).toBe(32);
    expect(resolveLocalSize(tiny({ localSize: 24 }), 32)).toBe(24);
  });

  it('rejects sizes that are not patch multiples or exceed image.size, naming the key', () => {
    for (const localSize of [12, 40]) {
      let error: unknown;
      try {
        resolveLocalSize(tiny({ localSize }), 32);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TrainConfigError);
      expect((error as TrainConfigError).code).toBe('ERR_TRAIN_CONFIG');
      expect((error as Error).message).toMatch(
        /dino\.crops\.localSize: \d+ must be a multiple of dino\.vit\.patchSize \(8\) and at most image\.size \(32\)/,
      );
    }
  });
});

describe('DINO local views and graphs', () => {
  const size = 32;
  const B = 4;
  const rng = new Rng(41);
  const pixels = Float32Array.from({ length: 6 * size * size }, () => rng.next());
  const rows = Int32Array.from([0, 2, 3, 5]);
  const normalize = { mean: 0.5, std: 0.25 };

  it('renders the local views at their own size, view-major, next to the global views', () => {
    const cfg = tiny({ localSize: 16 });
    const views = makeDinoViews(pixels, rows, size, dinoAugmentSpec(cfg, size, 16, normalize), cfg, 3, 0);
    expect(views.studentViews).toBe(4);
    expect(views.localSize).toBe(16);
    expect(views.student.length).toBe(2 * B * size * size);
    expect(views.teacher.length).toBe(2 * B * size * size);
    expect(views.local.length).toBe(2 * B * 16 * 16);
    expect(views.local.every(Number.isFinite)).toBe(true);
  });

  it('a layout that differs from the global graph is refused', () => {
    const a = listParameters(buildViTEncoder({ imageSize: 32, patchSize: 8, dim: 16, depth: 1, heads: 2 }).model);
    const b = listParameters(buildViTEncoder({ imageSize: 16, positionImageSize: 24, patchSize: 8, dim: 16, depth: 1, heads: 2 }).model);
    expect(() => assertSameLayout(a, b)).toThrow(ParameterLayoutError);
    expect(() => assertSameLayout(a, b)).toThrow(/pos_embed \[1, 10, 16\].*pos_embed \[1, 17, 16\]/);
  });

  it('the two-session gradient (global step + accumulated local step) equals the single-session one at equal sizes', async () => {
    const cfg = tiny({ localSize: 0 });
    const single = await createDinoModel(cfg, size, 7);
    const split = await createDinoModel(cfg, size, 7, { localSize: size });
    try {
      expect(single.local).toBeUndefined();
      expect(split.local?.size).toBe(size);
      const parameters = single.initial.slice();
      expect(split.initial).toEqual(parameters);
      // a perturbed EMA teacher, so the DINO targets are not the student's own outputs
      const teacherParams = Float32Array.from(parameters, (v) => v + 0.01 * rng.normal());
      const views = makeDinoViews(pixels, rows, size, dinoAugmentSpec(cfg, size, size, normalize), cfg, 3, 1);
      const teacher = await forwardDino(single, teacherParams, views.teacher, 2 * B, size);
      const run = async (m: typeof single): Promise<{ grads: Float32Array; loss: number }> => {
        const grads = new Float32Array(parameters.length).fill(Number.NaN); // the global step must overwrite
        const centers = { dino: new Float32Array(64), ibot: new Float32Array(64) };
        const losses = await studentStep(m, cfg, parameters, grads, { ops, views, teacher, centers, teacherTemperature: 0.04, batch: B });
        return { grads, loss: losses.loss };
      };
      const a = await run(single);
      const b = await run(split);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      // per tensor, relative to its largest entry: the summation order differs, and at
      // initialisation some head gradients reach 1e4 (the bottleneck norm is small)
      let worst = 0;
      for (const p of single.training.layout.parameters) {
        let diff = 0;
        let scale = 0;
        for (let i = p.offset; i < p.offset + p.size; i++) {
          expect(Number.isFinite(b.grads[i]!)).toBe(true);
          diff = Math.max(diff, Math.abs(a.grads[i]! - b.grads[i]!));
          scale = Math.max(scale, Math.abs(a.grads[i]!));
        }
        expect(scale).toBeGreaterThan(0);
        worst = Math.max(worst, diff / Math.max(1, scale));
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    } finally {
      await single.dispose();
      await split.dispose();
    }
  });

  it('with 16 px local crops the step gradient matches finite differences of the combined loss (pos_embed, patch embedding)', async () => {
    const cfg = tiny({ localSize: 16 });
    const m = await createDinoModel(cfg, size, 9, { localSize: 16 });
    try {
      const parameters = m.initial.slice();
      const teacherParams = Float32Array.from(parameters, (v) => v + 0.01 * rng.normal());
      const views = makeDinoViews(pixels, rows, size, dinoAugmentSpec(cfg, size, 16, normalize), cfg, 3, 2);
      const teacher = await forwardDino(m, teacherParams, views.teacher, 2 * B, size);
      const shape = { batch: B, studentViews: 4, patches: m.patches, prototypes: 64, embedDim: m.embedDim };
      const centers = () => ({ dino: new Float32Array(64), ibot: new Float32Array(64) });
      // the combined loss computed independently of studentStep: both forward passes, rows global then local
      const loss = async (p: Float32Array): Promise<number> => {
        const g = await forwardDino(m, p, views.student, 2 * B, size);
        const l = await forwardDinoLocal(m.local!, p, views.local, 2 * B);
        const join = (a: Float32Array, b: Float32Array) => {
          const o = new Float32Array(a.length + b.length);
          o.set(a);
          o.set(b, a.length);
          return o;
        };
        return dinoStepLosses(
          ops,
          { embedding: join(g.embedding, l.embedding), dino: join(g.dino, l.dino), ibot: g.ibot },
          teacher,
          views.masks,
          centers(),
          shape,
          cfg,
          0.04,
        ).loss;
      };
      const grads = new Float32Array(parameters.length);
      await studentStep(m, cfg, parameters, grads, { ops, views, teacher, centers: centers(), teacherTemperature: 0.04, batch: B });
      const byName = new Map(m.training.layout.parameters.map((p) => [p.name, p]));
      const dim = m.embedDim;
      const entries = [
        ...[0, 3, 1 * dim + 2, 5 * dim + 7, 9 * dim + 1, 16 * dim + 15].map((i) => byName.get('pos_embed')!.offset + i),
        ...[0, 5, 11].map((i) => byName.get('patch_embed.proj.bias')!.offset + i),
      ];
      let diff = 0;
      let norm = 0;
      for (const i of entries) {
        const central = async (h: number): Promise<number> => {
          const up = parameters.slice();
          up[i]! += h;
          const down = parameters.slice();
          down[i]! -= h;
          return ((await loss(up)) - (await loss(down))) / (2 * h);
        };
        const coarse = await central(4e-3);
        const fine = await central(2e-3);
        const numeric = (4 * fine - coarse) / 3; // Richardson: cancels the h^2 term
        diff += (grads[i]! - numeric) ** 2;
        norm += numeric ** 2;
      }
      expect(Math.sqrt(norm)).toBeGreaterThan(1e-3);
      expect(Math.sqrt(diff / norm)).toBeLessThan(1e-3); // measured 9e-6
    } finally {
      await m.dispose();
    }
  });
});
