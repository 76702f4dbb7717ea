import { afterAll, describe, expect, it } from 'vitest';
import {
  DeviceTensor,
  dinoLoss,
  dinoLossSync,
  emaTeacherUpdate,
  ibotLoss,
  ibotLossSync,
  koleoLoss,
  koleoLossSync,
  sinkhornKnopp,
  updateCenter,
} from '../../src/index.js';
import { expectAllWritten, expectClose } from '../helpers/check.js';
import { cuda } from '../helpers/gpu.js';
import { randomFloats, rng } from '../helpers/random.js';
import {
  dinoLossRef,
  emaRef,
  ibotLossRef,
  koleoLossRef,
  sinkhornRef,
  updateCenterRef,
  type Normalization,
} from '../helpers/reference-distill.js';

// CUDA float32 (expf, block reductions in a different order) against float64 and the CPU
// kernel. Same tolerances as tests/native/distill.test.ts: losses and gradients 1e-4
// (gradient floor 10% of its scale 1 / (pairs B tau_s)), probabilities 2e-5, centers 1e-6.
const LOSS_TOLERANCE = 1e-4;
const GRAD_TOLERANCE = 1e-4;

function relClose(actual: number, expected: number, tolerance: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 0.1);
  if (!(err <= tolerance)) throw new Error(`${what}: ${actual} vs ${expected} (relative error ${err.toExponential(3)})`);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Rows in near pairs (row 2m+1 = row 2m + small noise), so every nearest neighbour wins by a wide
 * margin: with plain random rows at B = 1024 two candidates can tie within float32 rounding,
 * and CPU, CUDA and float64 may then legitimately pick different neighbours (and gradients).
 */
function pairedRows(b: number, d: number, seed: number): Float32Array {
  const x = randomFloats(b * d, seed, 2);
  const noise = randomFloats(b * d, seed + 1, 0.05);
  for (let r = 1; r < b; r += 2) for (let c = 0; c < d; c++) x[r * d + c] = x[(r - 1) * d + c]! + noise[r * d + c]!;
  return x;
}

describe.skipIf(!cuda.available)('self-distillation kernels on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  const up = (x: Float32Array | Uint8Array, dims: number[], dtype: 'float32' | 'uint8' = 'float32') => {
    const t = DeviceTensor.upload(x, dims, dtype);
    tensors.push(t);
    return t;
  };
  afterAll(() => tensors.forEach((t) => t.dispose()));

  for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
    for (const [vs, vt, b, k] of [
      [2, 1, 1, 1],
      [4, 2, 7, 257],
      [3, 1, 129, 3],
      [10, 2, 7, 4099],
      [10, 2, 4, 65536],
    ] as const) {
      it(`dinoLoss (${normalization}) matches CPU and float64 at Vs=${vs} Vt=${vt} B=${b} K=${k}`, async () => {
        const student = randomFloats(vs * b * k, vs + b + k, 3);
        const teacher = randomFloats(vt * b * k, vt + b + k + 1, 2);
        const center = randomFloats(k, k + 2, 0.5);
        const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center, centerMomentum: 0.9 };
        const shape = { studentViews: vs, teacherViews: vt, batch: b, prototypes: k };
        const ref = dinoLossRef(student, teacher, vs, vt, b, k, options);
        const cpu = dinoLossSync(student, teacher, { ...shape, ...options, backend: 'cpu' });
        const staged = await dinoLoss(student, teacher, { ...shape, ...options, backend: 'cuda' });
        const gradOut = up(new Float32Array(vs * b * k).fill(Number.NaN), [vs, b, k]);
        const centerOut = up(new Float32Array(k).fill(Number.NaN), [k]);
        const device = await dinoLoss(up(student, [vs, b, k]), up(teacher, [vt, b, k]), {
          ...shape,
          ...options,
          center: up(center, [k]),
          gradOut,
          centerOut,
        });
        expect(device.grad).toBe(gradOut);
        const grad = gradOut.download() as Float32Array;
        const newCenter = centerOut.download() as Float32Array;
        expectAllWritten(grad, 'grad');
        expectAllWritten(newCenter, 'center');
        const floor = 0.1 / (vt * (vs - 1) * b * 0.1);
        relClose(device.loss, ref.loss, LOSS_TOLERANCE, 'cuda loss vs float64');
        relClose(staged.loss, cpu.loss, LOSS_TOLERANCE, 'cuda (staged) loss vs cpu');
        expectClose(grad, ref.grad, GRAD_TOLERANCE, 'cuda grad vs float64', floor);
        expectClose(staged.grad, cpu.grad, GRAD_TOLERANCE, 'cuda (staged) grad vs cpu', floor);
        expectClose(newCenter, ref.center!, 1e-6, 'cuda center vs float64');
      });
    }
  }

  it('ibotLoss with device masks matches CPU and float64 (both normalisations)', async () => {
    const [b, p, k] = [7, 9, 257];
    const next = rng(5);
    const masks = Uint8Array.from({ length: b * p }, () => (next() < 0.4 ? 1 : 0));
    masks.fill(0, p, 2 * p);
    masks[0] = 1;
    const student = randomFloats(b * p * k, 6, 3);
    const teacher = randomFloats(b * p * k, 7, 2);
    const center = randomFloats(k, 8, 0.4);
    for (const normalization of ['center', 'sinkhorn'] as Normalization[]) {
      const options = { studentTemperature: 0.1, teacherTemperature: 0.04, normalization, center, centerMomentum: 0.8 };
      const shape = { batch: b, patches: p, prototypes: k };
      const ref = ibotLossRef(student, teacher, masks, b, p, k, options);
      const cpu = ibotLossSync(student, teacher, masks, { ...shape, ...options, backend: 'cpu' });
      const device = await ibotLoss(up(student, [b, p, k]), up(teacher, [b, p, k]), up(masks, [b, p], 'uint8'), {
        ...shape,
        ...options,
        center: up(center, [k]),
      });
      const grad = (device.grad as DeviceTensor).download() as Float32Array;
      tensors.push(device.grad as DeviceTensor, device.center as DeviceTensor);
      expectAllWritten(grad, 'grad');
      relClose(device.loss, ref.loss, LOSS_TOLERANCE, 'ibot loss');
      relClose(device.loss, cpu.loss, LOSS_TOLERANCE, 'ibot loss vs cpu');
      expectClose(grad, ref.grad, GRAD_TOLERANCE, 'ibot grad', 0.1 / (b * 0.1));
      expectClose((device.center as DeviceTensor).download() as Float32Array, ref.center!, 1e-6, 'ibot center');
      const staged = await ibotLoss(student, teacher, masks, { ...shape, ...options, backend: 'cuda' });
      expectClose(staged.grad, cpu.grad, GRAD_TOLERANCE, 'ibot staged vs cpu', 0.1 / (b * 0.1));
    }
  });

  for (const [b, d] of [
    [2, 1],
    [128, 64],
    [1024, 256],
    [300, 257],
  ] as const) {
    it(`koleoLoss matches CPU and float64 at B=${b} D=${d}`, async () => {
      const x = pairedRows(b, d, b + d);
      const ref = koleoLossRef(x, b, d);
      const cpu = koleoLossSync(x, { rows: b, dim: d, backend: 'cpu' });
      const device = await koleoLoss(up(x, [b, d]), { rows: b, dim: d });
      tensors.push(device.grad as DeviceTensor);
      const grad = (device.grad as DeviceTensor).download() as Float32Array;
      expectAllWritten(grad, 'grad');
      relClose(device.loss, ref.loss, 1e-5, 'koleo loss');
      expectClose(grad, ref.grad, GRAD_TOLERANCE, 'koleo grad');
      expectClose(grad, cpu.grad, GRAD_TOLERANCE, 'koleo grad vs cpu');
    });
  }

  it('sinkhornKnopp, updateCenter and emaTeacherUpdate match float64', async () => {
    const [rows, k] = [129, 4099];
    const logits = randomFloats(rows * k, 1, 1.5);
    const probs = await sinkhornKnopp(up(logits, [rows, k]), { rows, prototypes: k, temperature: 0.05 });
    tensors.push(probs as DeviceTensor);
    expectClose((probs as DeviceTensor).download() as Float32Array, sinkhornRef(logits, range(rows), k, 0.05, 3), 2e-5, 'sinkhorn');
    const center = randomFloats(k, 2);
    const next = await updateCenter(center, logits, { rows, prototypes: k, momentum: 0.9, backend: 'cuda' });
    expectClose(next, updateCenterRef(center, logits, range(rows), k, 0.9), 1e-6, 'center');
    const n = 1_000_003;
    const teacher = randomFloats(n, 3);
    const student = randomFloats(n, 4);
    const expected = emaRef(teacher, student, 0.996);
    const dt = up(teacher, [n]);
    await emaTeacherUpdate(dt, up(student, [n]), { momentum: 0.996 });
    expectClose(dt.download() as Float32Array, expected, 1e-6, 'ema (device)');
    await emaTeacherUpdate(teacher, student, { momentum: 0.996, backend: 'cuda' });
    expectClose(teacher, expected, 1e-6, 'ema (staged)');
  });
});
