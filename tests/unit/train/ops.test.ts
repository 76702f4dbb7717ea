import { describe, expect, it } from 'vitest';
import { referenceOps as ref } from '../../helpers/train-reference-ops.js';
import { resolveTrainOps } from '../../../src/train/ops.js';
import type { ContrastiveOptions } from '../../../src/train/ops.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** Central differences of the loss in float64 around float32 inputs. */
function numericGrad(f: (x: Float32Array) => number, x: Float32Array, indices: number[], h = 1e-3): number[] {
  return indices.map((i) => {
    const old = x[i]!;
    x[i] = old + h;
    const up = f(x);
    x[i] = old - h;
    const down = f(x);
    x[i] = old;
    return (up - down) / (2 * h);
  });
}

describe('reference training ops', () => {
  const cases: Array<[string, Partial<ContrastiveOptions>]> = [
    ['infonce', { kind: 'infonce' }],
    ['infonce + groups', { kind: 'infonce', groups: Int32Array.from([0, 1, 0, 2, 1, 3, 0]) }],
    ['infonce + relaxation', { kind: 'infonce', relaxThreshold: 0.2 }],
    ['siglip', { kind: 'siglip', bias: -1.5 }],
  ];
  for (const [name, extra] of cases) {
    it(`contrastive ${name}: gradients match finite differences (B=7, D=5)`, () => {
      const r = rng(name.length * 31);
      const B = 7;
      const D = 5;
      const image = Float32Array.from({ length: B * D }, r);
      const text = Float32Array.from({ length: B * D }, r);
      const options = { batch: B, dim: D, logitScale: 4.5, kind: 'infonce' as const, ...extra };
      const out = ref.contrastive(image, text, options);
      expect(Number.isFinite(out.loss)).toBe(true);
      const probe = [0, 6, 13, 22, 34];
      const fdImage = numericGrad((x) => ref.contrastive(x, text, options).loss, image, probe);
      const fdText = numericGrad((x) => ref.contrastive(image, x, options).loss, text, probe);
      probe.forEach((i, k) => {
        expect(out.gradImage[i]).toBeCloseTo(fdImage[k]!, 3);
        expect(out.gradText[i]).toBeCloseTo(fdText[k]!, 3);
      });
      const h = 1e-4;
      const da =
        (ref.contrastive(image, text, { ...options, logitScale: 4.5 + h }).loss -
          ref.contrastive(image, text, { ...options, logitScale: 4.5 - h }).loss) /
        (2 * h);
      expect(out.gradLogitScale).toBeCloseTo(da, 4);
      if (options.kind === 'siglip') {
        const db =
          (ref.contrastive(image, text, { ...options, bias: -1.5 + h }).loss -
            ref.contrastive(image, text, { ...options, bias: -1.5 - h }).loss) /
          (2 * h);
        expect(out.gradBias).toBeCloseTo(db, 4);
      }
    });
  }

  it('linear + GELU backward match finite differences; BCE masks missing and uncertain labels', () => {
    const r = rng(5);
    const rows = 3,
      inDim = 4,
      outDim = 2;
    const x = Float32Array.from({ length: rows * inDim }, r);
    const w = Float32Array.from({ length: outDim * inDim }, r);
    const b = Float32Array.from({ length: outDim }, r);
    const targets = Float32Array.from([1, 0, -1, 1, 0, 0.3]);
    const mask = Float32Array.from([1, 1, 1, 0, 1, 1]);
    const lossOf = (wv: Float32Array): number => {
      const y = new Float32Array(rows * outDim);
      ref.linearForward(x, wv, b, y, rows, inDim, outDim);
      const h = new Float32Array(y.length);
      ref.geluForward(y, h);
      return ref.bceWithLogits(h, targets, mask, new Float32Array(h.length), rows, outDim, 'ignore').loss;
    };
    const y = new Float32Array(rows * outDim);
    ref.linearForward(x, w, b, y, rows, inDim, outDim);
    const h = new Float32Array(y.length);
    ref.geluForward(y, h);
    const gh = new Float32Array(h.length);
    const result = ref.bceWithLogits(h, targets, mask, gh, rows, outDim, 'ignore');
    expect(result.valid).toBe(4); // one uncertain (ignored), one masked
    expect(gh[2]).toBe(0);
    expect(gh[3]).toBe(0);
    const gy = new Float32Array(y.length);
    ref.geluBackward(y, gh, gy);
    const dw = new Float32Array(w.length);
    ref.linearBackward(x, w, gy, null, dw, null, rows, inDim, outDim);
    const fd = numericGrad(lossOf, w, [0, 3, 5, 7]);
    [0, 3, 5, 7].forEach((i, k) => expect(dw[i]).toBeCloseTo(fd[k]!, 3));
  });

  it('AdamW leaves everything untouched on a non-finite gradient', () => {
    const params = Float32Array.from([0.5, -0.25, 2]);
    const opt = ref.createOptimizer(params, null);
    const norm = opt.update(Float32Array.from([1, NaN, 0]), {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.1,
      maxGradNorm: 1,
    });
    expect(Number.isNaN(norm)).toBe(true);
    expect(Array.from(params)).toEqual([0.5, -0.25, 2]);
    expect(opt.step).toBe(0);
  });

  it('resolveTrainOps: the native operations agree with the float64 reference', () => {
    const ops = resolveTrainOps();
    expect(['cpu', 'cuda']).toContain(ops.backend);
    const r = rng(11);
    const image = Float32Array.from({ length: 9 * 8 }, r);
    const text = Float32Array.from({ length: 9 * 8 }, r);
    for (const extra of [
      { kind: 'infonce' as const, groups: Int32Array.from([0, 1, 2, 0, 1, 5, 6, 7, 8]) },
      { kind: 'infonce' as const, relaxThreshold: 0.1 },
      { kind: 'siglip' as const, bias: -2 },
    ]) {
      const o = { batch: 9, dim: 8, logitScale: 7, ...extra };
      const a = ops.contrastive(image, text, o);
      const b = ref.contrastive(image, text, o);
      expect(a.loss).toBeCloseTo(b.loss, 5);
      expect(a.gradLogitScale).toBeCloseTo(b.gradLogitScale, 5);
      expect(a.gradBias).toBeCloseTo(b.gradBias, 5);
      for (let i = 0; i < a.gradImage.length; i++) {
        expect(a.gradImage[i]).toBeCloseTo(b.gradImage[i]!, 5);
        expect(a.gradText[i]).toBeCloseTo(b.gradText[i]!, 5);
      }
    }
    const rows = 7,
      inDim = 13,
      outDim = 5;
    const x = Float32Array.from({ length: rows * inDim }, r);
    const w = Float32Array.from({ length: outDim * inDim }, r);
    const bias = Float32Array.from({ length: outDim }, r);
    const dy = Float32Array.from({ length: rows * outDim }, r);
    const y1 = new Float32Array(rows * outDim);
    const y2 = new Float32Array(rows * outDim);
    ops.linearForward(x, w, bias, y1, rows, inDim, outDim);
    ref.linearForward(x, w, bias, y2, rows, inDim, outDim);
    y1.forEach((v, i) => expect(v).toBeCloseTo(y2[i]!, 5));
    const g1 = { dx: new Float32Array(rows * inDim), dw: Float32Array.from(w), db: Float32Array.from(bias) };
    const g2 = { dx: new Float32Array(rows * inDim), dw: Float32Array.from(w), db: Float32Array.from(bias) };
    ops.linearBackward(x, w, dy, g1.dx, g1.dw, g1.db, rows, inDim, outDim);
    ref.linearBackward(x, w, dy, g2.dx, g2.dw, g2.db, rows, inDim, outDim);
    for (const key of ['dx', 'dw', 'db'] as const) g1[key].forEach((v, i) => expect(v).toBeCloseTo(g2[key][i]!, 5));
  });

  it("a decay mask given with one update replaces the optimizer's for that update only", () => {
    for (const ops of [resolveTrainOps(), ref]) {
      const start = Float32Array.from([1, 2, 3, 4]);
      const masked = ops.createOptimizer(start.slice(), Uint8Array.from([1, 1, 1, 1]));
      const plain = ops.createOptimizer(start.slice(), Uint8Array.from([0, 0, 1, 1]));
      const hyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5, maxGradNorm: 0 };
      const grads = Float32Array.from([0.5, -0.5, 0.25, 1]);
      masked.update(grads.slice(), { ...hyper, decayMask: Uint8Array.from([0, 0, 1, 1]) });
      plain.update(grads.slice(), hyper);
      expect(Array.from(masked.params)).toEqual(Array.from(plain.params));
      masked.update(grads.slice(), hyper);
      plain.update(grads.slice(), hyper);
      expect(masked.params[0]).not.toBe(plain.params[0]); // the optimizer's own mask applies again
    }
  });

  it('resolveTrainOps: the self-distillation losses agree with the float64 reference, centers updated in place', () => {
    const ops = resolveTrainOps();
    const r = rng(12);
    const [Vs, B, K, P] = [3, 4, 6, 5];
    const student = Float32Array.from({ length: Vs * B * K }, r);
    const teacher = Float32Array.from({ length: 2 * B * K }, r);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>): void => {
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    };
    for (const normalization of ['center', 'sinkhorn'] as const) {
      const targets = () => ({
        studentTemperature: 0.1,
        teacherTemperature: 0.07,
        normalization,
        centerMomentum: 0.8,
        ...(normalization === 'center' ? { center: Float32Array.from({ length: K }, (_, i) => i / 10) } : {}),
      });
      const [ta, tb] = [targets(), targets()];
      const a = ops.dinoLoss(student, teacher, { studentViews: Vs, teacherViews: 2, batch: B, prototypes: K }, ta);
      const b = ref.dinoLoss(student, teacher, { studentViews: Vs, teacherViews: 2, batch: B, prototypes: K }, tb);
      expect(a.loss).toBeCloseTo(b.loss, 5);
      close(a.grad, b.grad);
      if (ta.center) {
        close(ta.center, tb.center!);
        expect(ta.center[0]).not.toBe(0); // moved towards the teacher mean
      }
    }
    const patches = Float32Array.from({ length: B * P * K }, r);
    const teacherPatches = Float32Array.from({ length: B * P * K }, r);
    const masks = Uint8Array.from({ length: B * P }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const targets = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization: 'sinkhorn' as const, centerMomentum: 0.9 };
    const ia = ops.ibotLoss(patches, teacherPatches, masks, { batch: B, patches: P, prototypes: K }, targets);
    const ib = ref.ibotLoss(patches, teacherPatches, masks, { batch: B, patches: P, prototypes: K }, targets);
    expect(ia.loss).toBeCloseTo(ib.loss, 5);
    close(ia.grad, ib.grad);
    const x = Float32Array.from({ length: 5 * 7 }, r);
    const ka = ops.koleoLoss(x, 5, 7);
    const kb = ref.koleoLoss(x, 5, 7);
    expect(ka.loss).toBeCloseTo(kb.loss, 5);
    close(ka.grad, kb.grad);
  });
});
