import { afterAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  DeviceTensor,
  adamwStep,
  adamwStepSync,
  bceWithLogits,
  bceWithLogitsSync,
  emaUpdate,
  geluBackwardSync,
  geluSync,
  gradNorm,
  linearBackward,
  linearBackwardSync,
  linearForward,
  linearForwardSync,
  ordinalLossSync,
  softmaxCrossEntropy,
  softmaxCrossEntropySync,
  InvalidArgumentError,
} from '../../src/index.js';
import { expectAllWritten, expectClose } from '../helpers/check.js';
import { cuda } from '../helpers/gpu.js';
import { randomFloats, rng } from '../helpers/random.js';
import { geluGradRef, geluRef, linearBackwardRef, linearForwardRef } from '../helpers/reference-heads.js';
import { bceRef, ordinalRef, softmaxCeRef } from '../helpers/reference-losses.js';
import { adamwRef } from '../helpers/reference-optim.js';

// CUDA float32 against float64 references and the CPU kernels. GEMMs: FFMA with another
// summation order, 1e-5 normwise. GELU: erff/expf (<= 2 ulp), 1e-6. Losses: float32
// accumulation per thread, float64 across blocks: 1e-5 relative on the value, 1e-5 on the
// gradient. AdamW: elementwise float32 with the same formula as the CPU, 1e-6 on params.
const GEMM_TOL = 1e-5;

const upload = (tensors: DeviceTensor[], a: Float32Array, dims: number[]) => {
  const t = DeviceTensor.upload(a, dims);
  tensors.push(t);
  return t;
};

describe.skipIf(!cuda.available)('linear and GELU on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  afterAll(() => tensors.forEach((t) => t.dispose()));

  for (const [rows, inF, outF] of [
    [1, 1, 1],
    [7, 129, 1],
    [129, 7, 3],
    [1000, 257, 14],
    [65, 1000, 129],
    [3, 64, 1000],
  ] as const) {
    it(`forward/backward match float64 and CPU at rows=${rows} in=${inF} out=${outF}`, async () => {
      const x = randomFloats(rows * inF, rows + inF);
      const w = randomFloats(outF * inF, outF + 3 * inF, 0.5);
      const b = randomFloats(outF, outF);
      const dy = randomFloats(rows * outF, rows * 5 + outF);
      const shape = { rows, inFeatures: inF, outFeatures: outF };
      const ref = linearBackwardRef(x, w, dy, rows, inF, outF);
      const dx = upload(tensors, x, [rows, inF]);
      const dw = upload(tensors, w, [outF, inF]);
      const dbias = upload(tensors, b, [outF]);
      const ddy = upload(tensors, dy, [rows, outF]);
      const yOut = upload(tensors, new Float32Array(rows * outF).fill(Number.NaN), [rows, outF]);
      await linearForward(dx, dw, dbias, { ...shape, out: yOut });
      const y = yOut.download() as Float32Array;
      expectAllWritten(y, 'y');
      expectClose(y, linearForwardRef(x, w, b, rows, inF, outF), GEMM_TOL, 'Y');
      const gdx = upload(tensors, new Float32Array(rows * inF).fill(Number.NaN), [rows, inF]);
      const gdw = upload(tensors, new Float32Array(outF * inF).fill(Number.NaN), [outF, inF]);
      const gdb = upload(tensors, new Float32Array(outF).fill(Number.NaN), [outF]);
      await linearBackward(dx, dw, ddy, { ...shape, dx: gdx, dw: gdw, db: gdb });
      for (const [name, t, want] of [
        ['dx', gdx, ref.dx],
        ['dw', gdw, ref.dw],
        ['db', gdb, ref.db],
      ] as const) {
        const got = t.download() as Float32Array;
        expectAllWritten(got, name);
        expectClose(got, want, GEMM_TOL, name);
      }
      // accumulate on the device adds to what is there
      linearBackwardSync(dx, dw, ddy, { ...shape, dw: gdw, db: gdb, accumulate: true });
      expectClose(
        gdw.download() as Float32Array,
        ref.dw.map((v) => 2 * v),
        GEMM_TOL,
        'dw accumulated',
      );
      expectClose(
        gdb.download() as Float32Array,
        ref.db.map((v) => 2 * v),
        GEMM_TOL,
        'db accumulated',
      );
      // staged host arrays give the CPU's answer within tolerance
      const staged = linearForwardSync(x, w, b, { ...shape, backend: 'cuda' });
      expectClose(staged, linearForwardSync(x, w, b, { ...shape, backend: 'cpu' }), GEMM_TOL, 'staged vs cpu');
      const stagedDw = new Float32Array(outF * inF).fill(1);
      linearBackwardSync(x, w, dy, { ...shape, dw: stagedDw, accumulate: true, backend: 'cuda' });
      expectClose(
        stagedDw,
        ref.dw.map((v) => v + 1),
        GEMM_TOL,
        'staged accumulate',
      );
    });
  }

  it('GELU forward/backward on the device match float64', () => {
    const n = 100_003;
    const x = randomFloats(n, 1, 4);
    const dy = randomFloats(n, 2);
    const y = geluSync(upload(tensors, x, [n]));
    const dx = geluBackwardSync(upload(tensors, x, [n]), upload(tensors, dy, [n]));
    tensors.push(y, dx);
    expectClose(y.download() as Float32Array, geluRef(x), 1e-6, 'gelu');
    expectClose(dx.download() as Float32Array, geluGradRef(x, dy), 1e-6, 'geluBackward');
  });
});

describe.skipIf(!cuda.available)('losses on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  afterAll(() => tensors.forEach((t) => t.dispose()));

  for (const [rows, classes] of [
    [1, 1],
    [7, 14],
    [1000, 7],
    [129, 1000],
  ] as const) {
    it(`BCE (mask, posWeight, each policy) at ${rows}x${classes}`, async () => {
      const logits = randomFloats(rows * classes, rows + classes, 5);
      const next = rng(rows * classes);
      const targets = Float32Array.from({ length: rows * classes }, () => {
        const u = next();
        return u < 0.15 ? -1 : u < 0.55 ? 1 : 0;
      });
      const mask = Float32Array.from({ length: rows * classes }, () => (next() < 0.2 ? 0 : 1));
      const posWeight = Float32Array.from(randomFloats(classes, 3), (v) => 1 + Math.abs(v));
      for (const policy of ['ignore', 'ones', 'zeros'] as const) {
        const ref = bceRef(logits, targets, rows, classes, { mask, posWeight, policy });
        const out = await bceWithLogits(upload(tensors, logits, [rows, classes]), upload(tensors, targets, [rows, classes]), {
          rows,
          classes,
          uncertain: policy,
          mask: upload(tensors, mask, [rows, classes]),
          posWeight: upload(tensors, posWeight, [classes]),
        });
        tensors.push(out.grad);
        expect(out.valid).toBe(ref.valid);
        expect(Math.abs(out.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, ref.loss));
        expectClose(out.grad.download() as Float32Array, ref.grad, 1e-5, `bce grad ${policy}`, 1e-12);
        const staged = bceWithLogitsSync(logits, targets, { rows, classes, uncertain: policy, mask, posWeight, backend: 'cuda' });
        expectClose(staged.grad, ref.grad, 1e-5, 'bce staged', 1e-12);
      }
    });

    if (classes > 1) {
      it(`softmax CE (labels + smoothing; soft targets + temperature) and ordinal at ${rows}x${classes}`, async () => {
        const logits = randomFloats(rows * classes, rows * 3 + classes, 5);
        const next = rng(rows + classes);
        const labels = Float32Array.from({ length: rows }, () => (next() < 0.1 ? -1 : Math.floor(next() * classes)));
        const hard = await softmaxCrossEntropy(upload(tensors, logits, [rows, classes]), {
          rows,
          classes,
          labels: upload(tensors, labels, [rows]),
          labelSmoothing: 0.1,
        });
        tensors.push(hard.grad);
        const refHard = softmaxCeRef(logits, rows, classes, { labels, smoothing: 0.1 });
        expect(hard.valid).toBe(refHard.valid);
        expect(Math.abs(hard.loss - refHard.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, refHard.loss));
        expectClose(hard.grad.download() as Float32Array, refHard.grad, 1e-5, 'ce hard grad', 1e-12);
        const targets = Float32Array.from({ length: rows * classes }, () => next());
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let c = 0; c < classes; c++) s += targets[r * classes + c]!;
          for (let c = 0; c < classes; c++) targets[r * classes + c]! /= s;
        }
        const soft = softmaxCrossEntropySync(logits, { rows, classes, targets, temperature: 2, backend: 'cuda' });
        const refSoft = softmaxCeRef(logits, rows, classes, { targets, temperature: 2 });
        expect(Math.abs(soft.loss - refSoft.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, refSoft.loss));
        expectClose(soft.grad, refSoft.grad, 1e-5, 'ce soft grad', 1e-12);
        const levels = Float32Array.from({ length: rows }, () => (next() < 0.1 ? -1 : Math.floor(next() * classes)));
        const ord = ordinalLossSync(logits.subarray(0, rows * (classes - 1)), levels, { rows, levels: classes, backend: 'cuda' });
        const refOrd = ordinalRef(logits.subarray(0, rows * (classes - 1)), levels, rows, classes);
        expect(Math.abs(ord.loss - refOrd.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, refOrd.loss));
        expectClose(ord.grad, refOrd.grad, 1e-5, 'ordinal grad', 1e-12);
      });
    }
  }

  it('device labels out of range are rejected by the kernel with a typed error', () => {
    const logits = upload(tensors, randomFloats(6, 1), [2, 3]);
    const labels = upload(tensors, Float32Array.of(0, 7), [2]);
    expect(() => softmaxCrossEntropySync(logits, { rows: 2, classes: 3, labels })).toThrow(InvalidArgumentError);
  });

  it('nothing valid on the device: loss 0, zero gradient', () => {
    const out = bceWithLogitsSync(upload(tensors, randomFloats(6, 1), [6]), upload(tensors, Float32Array.of(-1, -1, -1, -1, -1, -1), [6]), {
      rows: 2,
      classes: 3,
    });
    tensors.push(out.grad);
    expect(out).toMatchObject({ loss: 0, valid: 0 });
    expect(Array.from(out.grad.download())).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe.skipIf(!cuda.available)('AdamW and EMA on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  afterAll(() => tensors.forEach((t) => t.dispose()));

  // 1000 and 100_003 exercise the scalar kernel (odd length) and 1_000_000 the float4 one.
  for (const length of [1, 7, 129, 1000, 100_003, 1_000_000]) {
    it(`10 device-resident steps match float64 torch AdamW at length ${length} (mask, clipping)`, async () => {
      const params = randomFloats(length, length);
      const next = rng(length + 1);
      const maskHost = Uint8Array.from({ length }, () => (next() < 0.7 ? 1 : 0));
      const p = upload(tensors, params, [length]);
      const m = upload(tensors, new Float32Array(length), [length]);
      const v = upload(tensors, new Float32Array(length), [length]);
      const mask = DeviceTensor.upload(maskHost, [length], 'uint8');
      tensors.push(mask);
      const ref = { params: Float64Array.from(params), m: new Float64Array(length), v: new Float64Array(length) };
      const options = { weightDecay: 0.05, maxGradNorm: 0.5 * Math.sqrt(length), decayMask: maskHost };
      for (let t = 1; t <= 10; t++) {
        const grads = randomFloats(length, length * 100 + t, t % 2 ? 3 : 0.01);
        const g = upload(tensors, grads, [length]);
        const norm = await adamwStep(p, g, { m, v }, { ...options, decayMask: mask, lr: 1e-2, step: t });
        const refNorm = adamwRef(ref, grads, { ...options, lr: 1e-2, step: t });
        expect(Math.abs(norm - refNorm)).toBeLessThanOrEqual(1e-9 * refNorm);
      }
      expectClose(p.download() as Float32Array, ref.params, 1e-6, 'params');
      expectClose(m.download() as Float32Array, ref.m, 1e-5, 'm');
      expectClose(v.download() as Float32Array, ref.v, 1e-5, 'v');
      // staged host arrays, one step, equal the CPU bit-for-bit up to float32 rounding
      const hp = randomFloats(length, 5);
      const cp = hp.slice();
      const grads = randomFloats(length, 6);
      adamwStepSync(
        hp,
        grads,
        { m: new Float32Array(length), v: new Float32Array(length) },
        { lr: 1e-3, step: 1, decayMask: maskHost, backend: 'cuda' },
      );
      adamwStepSync(
        cp,
        grads,
        { m: new Float32Array(length), v: new Float32Array(length) },
        { lr: 1e-3, step: 1, decayMask: maskHost, backend: 'cpu' },
      );
      expectClose(hp, cp, 1e-6, 'staged vs cpu');
    });
  }

  it('a NaN gradient on the device leaves params and state untouched; AdamW class keeps state on the device', async () => {
    const n = 4096;
    const p = upload(tensors, randomFloats(n, 1), [n]);
    const before = p.download() as Float32Array;
    const bad = randomFloats(n, 2);
    bad[1234] = Number.NaN;
    const opt = new AdamW(n);
    await expect(opt.step(p, upload(tensors, bad, [n]), { lr: 0.1 })).rejects.toThrow(/gradient norm is NaN/);
    expect(Array.from(p.download())).toEqual(Array.from(before));
    const r = await opt.step(p, upload(tensors, randomFloats(n, 3), [n]), { lr: 0.1 });
    expect(r.step).toBe(1);
    expect(opt.state().m.some((x) => x !== 0)).toBe(true);
    opt.dispose();
    expect(await gradNorm(upload(tensors, Float32Array.of(3, 4), [2]))).toBe(5);
  });

  it('a broken state (NaN params, negative v) or a step that could overflow is refused on the device before anything is written', () => {
    const n = 4099; // not a multiple of 4: the scalar kernel; the vec4 one runs in the trajectories above
    for (const [name, length, breakIt, pattern] of [
      [
        'NaN params',
        n,
        (p: Float32Array) => {
          p[4000] = Number.NaN;
        },
        /already hold NaN/,
      ],
      [
        'NaN params (vec4)',
        4096,
        (p: Float32Array) => {
          p[7] = Number.NaN;
        },
        /already hold NaN/,
      ],
    ] as const) {
      const host = randomFloats(length, 4);
      breakIt(host);
      const p = upload(tensors, host, [length]);
      const m = upload(tensors, new Float32Array(length), [length]);
      const v = upload(tensors, new Float32Array(length), [length]);
      expect(() => adamwStepSync(p, upload(tensors, randomFloats(length, 5), [length]), { m, v }, { lr: 1e-3, step: 1 }), name).toThrow(
        pattern,
      );
      expect(Array.from(p.download())).toEqual(Array.from(host));
      expect((v.download() as Float32Array).every((x) => x === 0)).toBe(true);
    }
    const p = upload(tensors, randomFloats(n, 6), [n]);
    const v = upload(tensors, new Float32Array(n).fill(-1), [n]);
    expect(() =>
      adamwStepSync(
        p,
        upload(tensors, randomFloats(n, 7), [n]),
        { m: upload(tensors, new Float32Array(n), [n]), v },
        { lr: 1e-3, step: 1 },
      ),
    ).toThrow(/negative/);
    const huge = upload(tensors, new Float32Array(n).fill(1e20), [n]);
    expect(() =>
      adamwStepSync(
        p,
        huge,
        { m: upload(tensors, new Float32Array(n), [n]), v: upload(tensors, new Float32Array(n), [n]) },
        { lr: 1e-3, step: 1 },
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_NONFINITE_RESULT' }));
  });

  it('emaUpdate on the device matches float64', async () => {
    const n = 100_003;
    const ema = randomFloats(n, 1);
    const params = randomFloats(n, 2);
    const de = upload(tensors, ema, [n]);
    await emaUpdate(de, upload(tensors, params, [n]), 0.99);
    expectClose(
      de.download() as Float32Array,
      Float64Array.from(ema, (e, i) => 0.99 * e + 0.01 * params[i]!),
      1e-7,
      'ema',
    );
  });
});
