/**
 * The per-step transfer formula against the bytes one gradient-caching step actually hands to
 * onnxruntime (every host tensor fed is what the CUDA provider uploads, every tensor fetched what
 * it downloads), counted on the real code path of a trainable encoder.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encoderStepTransfers, optimizerStepTransfers, transferSeconds } from '../../../src/device/transfers.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { TrainableEncoder } from '../../../src/train/finetune/trainable-encoder.js';

const bytesOf = (values: Record<string, ort.OnnxValue | null>): number =>
  Object.values(values).reduce((sum, v) => sum + (v && 'data' in v && ArrayBuffer.isView(v.data) ? v.data.byteLength : 0), 0);

describe('encoderStepTransfers', () => {
  afterEach(() => vi.restoreAllMocks());

  for (const [rows, chunk] of [
    [7, 3],
    [6, 6],
  ] as const) {
    it(`equals the bytes fed to and fetched from onnxruntime in one step (batch ${rows}, chunks of ${chunk})`, async () => {
      const model = buildViTEncoder({ imageSize: 16, patchSize: 4, inChannels: 1, dim: 24, depth: 1, heads: 3, seed: 4 }).model;
      const encoder = await TrainableEncoder.create(model, 'embedding', [], 'test vit');
      try {
        const fed = { up: 0, down: 0 };
        // every session's run, whichever module made it: onnxruntime's InferenceSession class
        const proto = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
        const run = proto.run;
        type Run = (
          this: ort.InferenceSession,
          feeds: ort.InferenceSession.FeedsType,
          ...rest: unknown[]
        ) => Promise<ort.InferenceSession.ReturnType>;
        vi.spyOn(proto, 'run').mockImplementation(async function (
          this: ort.InferenceSession,
          feeds: ort.InferenceSession.FeedsType,
          ...rest: unknown[]
        ) {
          fed.up += bytesOf(feeds);
          const out = await (run as Run).call(this, feeds, ...rest);
          fed.down += bytesOf(out);
          return out;
        } as typeof run);
        const images = Float32Array.from({ length: rows * 256 }, (_, i) => Math.sin(i / 5));
        const inputs = (s: number, e: number) => ({
          image: { type: 'float32' as const, data: images.subarray(s * 256, e * 256), dims: [e - s, 1, 16, 16] },
        });
        const params = encoder.initialParametersFlat();
        const { dim } = await encoder.embed(params, rows, chunk, inputs);
        await encoder.backward(
          params,
          new Float32Array(encoder.size),
          rows,
          dim,
          chunk,
          inputs,
          new Float32Array(rows * dim).fill(0.1),
          true,
        );
        expect(fed).toEqual({
          up: encoderStepTransfers({ parameters: encoder.size, rows, chunk, inputBytesPerRow: 256 * 4, outputDim: dim }).hostToDevice,
          down: encoderStepTransfers({ parameters: encoder.size, rows, chunk, inputBytesPerRow: 256 * 4, outputDim: dim }).deviceToHost,
        });
      } finally {
        await encoder.release();
      }
    });
  }
});

describe('optimizerStepTransfers', () => {
  it('staged AdamW moves 29 bytes a parameter (33 with the separate norm); resident state 8; the host none', () => {
    const P = 1_000_000;
    expect(optimizerStepTransfers({ parameters: P, segmented: false, ema: false }, 'staged')).toEqual({
      hostToDevice: 17 * P,
      deviceToHost: 12 * P,
    });
    expect(optimizerStepTransfers({ parameters: P, segmented: true, ema: true }, 'staged')).toEqual({
      hostToDevice: 29 * P,
      deviceToHost: 16 * P,
    });
    expect(optimizerStepTransfers({ parameters: P, segmented: true, ema: false }, 'device-resident')).toEqual({
      hostToDevice: 4 * P,
      deviceToHost: 4 * P,
    });
    expect(optimizerStepTransfers({ parameters: P, segmented: true, ema: true }, 'host')).toEqual({ hostToDevice: 0, deviceToHost: 0 });
    expect(transferSeconds({ hostToDevice: 16e9, deviceToHost: 16e9 }, 32e9)).toBe(1);
  });
});

describe('TrainingSession.step without its forward outputs', () => {
  it('writes bit-identical gradients and returns only what was asked for', async () => {
    const { differentiate } = await import('../../../src/onnx/autodiff/differentiate.js');
    const { TrainingSession } = await import('../../../src/onnx/autodiff/session.js');
    const { readParameters } = await import('../../../src/onnx/parameters.js');
    // patch tokens are a second forward output the training graph computes but the trainer never reads
    const model = buildViTEncoder({
      imageSize: 16,
      patchSize: 4,
      inChannels: 1,
      dim: 24,
      depth: 1,
      heads: 3,
      seed: 9,
      patchTokens: true,
    }).model;
    const training = differentiate(model, { outputs: ['embedding'] });
    expect(training.forwardOutputs.length).toBeGreaterThan(1);
    const session = await TrainingSession.create(training);
    try {
      const params = readParameters(model, training.layout);
      const image = {
        type: 'float32' as const,
        data: Float32Array.from({ length: 3 * 256 }, (_, i) => Math.cos(i / 3)),
        dims: [3, 1, 16, 16],
      };
      const upstream = { type: 'float32' as const, data: Float32Array.from({ length: 3 * 24 }, (_, i) => Math.sin(i)), dims: [3, 24] };
      const all = new Float32Array(training.layout.size);
      const none = new Float32Array(training.layout.size);
      const full = await session.step({ parameters: params, gradients: all, inputs: { image }, outputGrads: { embedding: upstream } });
      const bare = await session.step({
        parameters: params,
        gradients: none,
        inputs: { image },
        outputGrads: { embedding: upstream },
        outputs: [],
      });
      expect(Object.keys(full.outputs).sort()).toEqual([...training.forwardOutputs].sort());
      expect(bare.outputs).toEqual({});
      expect(Buffer.from(none.buffer).equals(Buffer.from(all.buffer))).toBe(true);
      await expect(
        session.step({ parameters: params, gradients: none, inputs: { image }, outputGrads: { embedding: upstream }, outputs: ['nope'] }),
      ).rejects.toThrow(/output nope is not a forward output/);
    } finally {
      await session.release();
    }
  });
});
