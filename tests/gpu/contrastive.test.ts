import { afterAll, describe, expect, it } from 'vitest';
import { DeviceTensor, contrastiveLoss, contrastiveLossSync, type ContrastiveOptions } from '../../src/index.js';
import { expectAllWritten, expectClose } from '../helpers/check.js';
import { cuda } from '../helpers/gpu.js';
import { randomFloats, rng } from '../helpers/random.js';
import { contrastiveRef, type ContrastiveRefOptions } from '../helpers/reference-contrastive.js';

// CUDA against the CPU kernel (and float64 at small sizes).
// float32 inputs: FFMA tiles, different summation order -> 1e-5 relative.
// bfloat16/float16 inputs: tensor-core tiles, and the gradient GEMM rounds its coefficients to the
// input type -> 1e-2 relative, against the CPU run on the same (rounded) inputs.
const FLOAT32_TOLERANCE = 1e-5;
const HALF_TOLERANCE = 1e-2;

type Variant = Omit<ContrastiveOptions, 'batch' | 'dim' | 'backend'>;

function groupsFor(batch: number, seed: number, distinct: number): Int32Array {
  const next = rng(seed);
  return Int32Array.from({ length: batch }, () => Math.floor(next() * distinct) * 31 - 7);
}

const variants: Array<[string, (batch: number) => Variant]> = [
  ['infonce', () => ({ logitScale: 14.3 })],
  ['infonce unnormalised', () => ({ logitScale: 1.5, normalize: false })],
  ['infonce groups + relaxation', (b) => ({ logitScale: 10, groups: groupsFor(b, b, Math.max(1, b >> 2)), relaxThreshold: 0.05 })],
  ['siglip', () => ({ kind: 'siglip', logitScale: 10, bias: -4 })],
  ['siglip groups', (b) => ({ kind: 'siglip', logitScale: 3, bias: 1, groups: groupsFor(b, b + 1, Math.max(1, b >> 1)) })],
];

function compare(
  got: { loss: number; gradImage: Float32Array; gradText: Float32Array; gradLogitScale: number; gradBias?: number },
  want: { loss: number; gradImage: ArrayLike<number>; gradText: ArrayLike<number>; gradLogitScale: number; gradBias?: number },
  tolerance: number,
  what: string,
  floors: { grad: number; scale: number },
): void {
  expectAllWritten(got.gradImage, `${what} gradImage`);
  expectAllWritten(got.gradText, `${what} gradText`);
  expectClose([got.loss], [want.loss], tolerance, `${what} loss`, 1e-6);
  expectClose(got.gradImage, want.gradImage, tolerance, `${what} gradImage`, floors.grad);
  expectClose(got.gradText, want.gradText, tolerance, `${what} gradText`, floors.grad);
  expectClose([got.gradLogitScale], [want.gradLogitScale], tolerance, `${what} gradLogitScale`, floors.scale);
  if (want.gradBias !== undefined) expectClose([got.gradBias!], [want.gradBias], tolerance, `${what} gradBias`, 1e-6);
}

describe.skipIf(!cuda.available)('contrastiveLoss on CUDA', () => {
  const tensors: DeviceTensor[] = [];
  afterAll(() => tensors.forEach((t) => t.dispose()));

  for (const [name, make] of variants)
    for (const [batch, dim] of [
      [1, 3],
      [7, 1],
      [129, 257],
      [1000, 64],
    ] as const) {
      it(`${name} float32 B=${batch} D=${dim}: device tensors and staged host arrays match the CPU`, async () => {
        const image = randomFloats(batch * dim, batch + dim, 1.2);
        const text = randomFloats(batch * dim, batch + 3 * dim, 0.8);
        const options = { batch, dim, ...make(batch) };
        const cpu = contrastiveLossSync(image, text, { ...options, backend: 'cpu' });
        const ref = contrastiveRef(image, text, options as ContrastiveRefOptions);
        const floors = { grad: Math.max(ref.gradFloor, 1e-30), scale: Math.max(ref.gradLogitScaleFloor, 1e-30) };
        const staged = await contrastiveLoss(image, text, { ...options, backend: 'cuda' });
        compare(staged, cpu, FLOAT32_TOLERANCE, `${name} staged vs cpu`, floors);
        compare(staged, ref, FLOAT32_TOLERANCE, `${name} staged vs float64`, floors);
        const di = DeviceTensor.upload(image, [batch, dim]);
        const dt = DeviceTensor.upload(text, [batch, dim]);
        tensors.push(di, dt);
        const onDevice = contrastiveLossSync(di, dt, options);
        expect(onDevice.gradImage).toBeInstanceOf(DeviceTensor);
        tensors.push(onDevice.gradImage, onDevice.gradText);
        expect(onDevice.gradImage.dims).toEqual([batch, dim]);
        compare(
          { ...onDevice, gradImage: onDevice.gradImage.download() as Float32Array, gradText: onDevice.gradText.download() as Float32Array },
          cpu,
          FLOAT32_TOLERANCE,
          `${name} device vs cpu`,
          floors,
        );
      });
    }

  for (const dtype of ['bfloat16', 'float16'] as const)
    for (const [name, make] of variants)
      for (const [batch, dim] of [
        [7, 3],
        [129, 257],
        [1000, 64],
      ] as const) {
        it(`${name} ${dtype} B=${batch} D=${dim} (tensor cores) matches the CPU on the rounded inputs`, async () => {
          const image = randomFloats(batch * dim, batch * 5 + dim, 1.2);
          const text = randomFloats(batch * dim, batch * 7 + dim, 0.8);
          const di = DeviceTensor.upload(image, [batch, dim], dtype);
          const dt = DeviceTensor.upload(text, [batch, dim], dtype);
          tensors.push(di, dt);
          const rounded = [di.download() as Float32Array, dt.download() as Float32Array] as const;
          const options = { batch, dim, ...make(batch) };
          const cpu = contrastiveLossSync(rounded[0], rounded[1], { ...options, backend: 'cpu' });
          const ref = contrastiveRef(rounded[0], rounded[1], options as ContrastiveRefOptions);
          const got = await contrastiveLoss(di, dt, options);
          tensors.push(got.gradImage, got.gradText);
          compare(
            { ...got, gradImage: got.gradImage.download() as Float32Array, gradText: got.gradText.download() as Float32Array },
            cpu,
            HALF_TOLERANCE,
            `${name} ${dtype}`,
            { grad: Math.max(ref.gradFloor, 1e-30), scale: Math.max(ref.gradLogitScaleFloor, 1e-30) },
          );
        });
      }

  it('a batch that is not a multiple of the 64-row tile, with D not a multiple of 16 or 64', async () => {
    const [batch, dim] = [1000 + 37, 200 + 7];
    const image = randomFloats(batch * dim, 91);
    const text = randomFloats(batch * dim, 92);
    const options = { batch, dim, logitScale: 20, groups: groupsFor(batch, 3, 300) };
    const cpu = contrastiveLossSync(image, text, { ...options, backend: 'cpu' });
    const gpu = await contrastiveLoss(image, text, { ...options, backend: 'cuda' });
    const ref = contrastiveRef(image, text, options);
    compare(gpu, cpu, FLOAT32_TOLERANCE, 'odd sizes', { grad: ref.gradFloor, scale: ref.gradLogitScaleFloor });
  });

  it('rejects mixed host/device operands and mismatched dtypes', () => {
    const [batch, dim] = [4, 3];
    const image = randomFloats(batch * dim, 1);
    const di = DeviceTensor.upload(image, [batch, dim]);
    const dh = DeviceTensor.upload(image, [batch, dim], 'bfloat16');
    tensors.push(di, dh);
    expect(() => contrastiveLossSync(image, di as unknown as Float32Array, { batch, dim, logitScale: 1 })).toThrow(/all be host/);
    expect(() => contrastiveLossSync(di, dh, { batch, dim, logitScale: 1 })).toThrow(/same dtype/);
    expect(() => contrastiveLossSync(di, di, { batch, dim, logitScale: 1, backend: 'cpu' })).toThrow(/CPU backend/);
  });
});
