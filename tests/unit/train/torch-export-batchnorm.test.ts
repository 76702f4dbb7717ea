/**
 * An encoder exported from PyTorch carries no radlearn trainable list: its parameters are every
 * float initializer but the running statistics. In batch-statistics mode the rewritten BatchNorm
 * adds float constants of its own (each node's epsilon), which must not become parameters.
 */
import { describe, expect, it } from 'vitest';
import { TRAINABLE_METADATA_KEY } from '../../../src/onnx/graph-builder.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { listParameters } from '../../../src/onnx/parameters.js';
import { TrainableEncoder } from '../../../src/train/finetune/trainable-encoder.js';

describe('batch-statistics fine-tuning of a model without a trainable list', () => {
  it('trains exactly the exported parameters', async () => {
    const model = buildResNetEncoder({ inChannels: 1, seed: 2 }).model;
    model.metadataProps = (model.metadataProps ?? []).filter((p) => p.key !== TRAINABLE_METADATA_KEY);
    const parameters = listParameters(model).parameters.map((p) => p.name);
    expect(parameters.some((n) => /running_/.test(n))).toBe(false);
    const encoder = await TrainableEncoder.create(model, 'embedding', [], 'exported resnet', { momentum: 0.1 });
    try {
      expect(encoder.training.layout.parameters.map((p) => p.name)).toEqual(parameters);
      expect(encoder.initialParameters().length).toBe(parameters.length);
      expect(encoder.runningStatistics!.size).toBeGreaterThan(0);
    } finally {
      await encoder.release();
    }
  });
});
