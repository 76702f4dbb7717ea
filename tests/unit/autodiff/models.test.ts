import { describe, expect, it } from 'vitest';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../../src/onnx/models/vit.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { listParameters } from '../../../src/onnx/parameters.js';
import { Sfc32 } from '../../../src/random/index.js';
import { type CheckResult, checkModelGradients, randomArray } from './gradcheck.js';

// Whole-model checks on tiny built-in encoders (float32: Conv and Erf have float32 kernels only):
// gradient of a random projection of the outputs vs central differences on a random subset of
// parameters (and of the image input).
const rng = new Sfc32(99);
const report = (name: string, r: CheckResult): void =>
  console.info(`[autodiff whole-model] ${name}: relative error ${r.relativeError.toExponential(2)} over ${r.checked} entries`);

function ids(n: number, t: number, vocab: number, lengths: number[]): { ids: BigInt64Array; mask: BigInt64Array } {
  const idsOut = new BigInt64Array(n * t);
  const mask = new BigInt64Array(n * t);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t; j++) {
      const real = j < lengths[i]!;
      idsOut[i * t + j] = real ? BigInt(1 + Math.floor(rng.next() * (vocab - 1))) : 0n;
      mask[i * t + j] = real ? 1n : 0n;
    }
  }
  return { ids: idsOut, mask };
}

describe('whole-model gradient checks on the built-in encoders', () => {
  it('ResNet (BatchNorm, MaxPool, strided and 1x1 convs, residual adds, GAP, head)', async () => {
    const { model } = buildResNetEncoder({ widths: [4, 6], blocks: [1, 1], stemKernel: 3, embedDim: 5, seed: 2 });
    const image = randomArray(rng, 2 * 1 * 32 * 30, 'float32');
    const r = await checkModelGradients(
      model,
      { image: { data: image, dims: [2, 1, 32, 30] } },
      { parameters: /./, inputsGrad: ['image'], maxEntries: 6, seed: 3 },
    );
    report('ResNet', r);
    expect(r.checked).toBeGreaterThan(60);
    expect(r.relativeError).toBeLessThanOrEqual(1e-3);
  });

  it('ViT (patch conv, CLS expand/concat, attention, GELU, LayerNorm, slice, gather)', async () => {
    const { model } = buildViTEncoder({ imageSize: [8, 12], patchSize: 4, dim: 8, depth: 1, heads: 2, embedDim: 6, seed: 4 });
    const image = randomArray(rng, 2 * 8 * 12, 'float32');
    const r = await checkModelGradients(
      model,
      { image: { data: image, dims: [2, 1, 8, 12] } },
      { parameters: /./, inputsGrad: ['image'], maxEntries: 5, seed: 5 },
    );
    report('ViT', r);
    expect(r.checked).toBeGreaterThan(60);
    expect(r.relativeError).toBeLessThanOrEqual(1e-3);
  });

  for (const pooling of ['mean', 'cls'] as const) {
    it(`text transformer (${pooling} pooling; embeddings Gather, padding masks)`, async () => {
      const { model } = buildTextTransformer({ vocabSize: 30, maxLength: 9, dim: 8, depth: 1, heads: 2, pooling, embedDim: 6, seed: 6 });
      const t = ids(3, 7, 30, [7, 4, 2]);
      const inputs = { input_ids: { data: t.ids, dims: [3, 7] }, attention_mask: { data: t.mask, dims: [3, 7] } };
      const r = await checkModelGradients(model, inputs, { parameters: /./, maxEntries: 5, seed: 7 });
      report(`text transformer (${pooling})`, r);
      expect(r.checked).toBeGreaterThan(60);
      expect(r.relativeError).toBeLessThanOrEqual(1e-3);
    });
  }

  it('frozen parameters stay constants and leave the layout', () => {
    const { model } = buildViTEncoder({ imageSize: 8, patchSize: 4, dim: 8, depth: 2, heads: 2 });
    const all = listParameters(model);
    const t = differentiate(model, { freeze: /^(patch_embed|blocks\.0\.)/ });
    expect(t.frozen.length).toBeGreaterThan(0);
    expect(t.layout.parameters.map((p) => p.name)).toEqual(
      all.parameters.map((p) => p.name).filter((n) => !/^(patch_embed|blocks\.0\.)/.test(n)),
    );
    const inputs = (t.model.graph?.input ?? []).map((i) => i.name);
    expect(inputs).toContain('blocks.1.attn.qkv.weight');
    expect(inputs).not.toContain('blocks.0.attn.qkv.weight');
    expect((t.model.graph?.initializer ?? []).map((i) => i.name)).toContain('blocks.0.attn.qkv.weight');
    expect(t.parameterGradOutputs).toEqual(t.layout.parameters.map((p) => `grad_${p.name}`));
    expect(Object.keys(t.outputGradInputs)).toEqual(['embedding', 'patch_tokens']);
  });
});
