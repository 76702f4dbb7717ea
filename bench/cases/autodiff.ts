/**
 * Autodiff on CPU (onnxruntime-node): for each built-in encoder, the forward pass alone vs one
 * training step of the fused forward+backward graph (the ratio a healthy autodiff keeps near 3x),
 * and the split "saved activations" pair (forward returning the activations, then backward only).
 * Steps/s and images (or texts)/s at a realistic small batch. Parameters are fed as views of one
 * flat buffer and gradients are written into one flat buffer in every variant.
 */
import * as ort from 'onnxruntime-node';
import { type ModelProto } from '../../src/onnx/proto.js';
import { TrainingSession } from '../../src/onnx/autodiff/session.js';
import { buildResNetEncoder } from '../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../src/onnx/models/vit.js';
import { differentiate } from '../../src/onnx/autodiff/differentiate.js';
import { parametersAsInputs, readParameters } from '../../src/onnx/parameters.js';
import { serializeModel } from '../../src/onnx/model-io.js';
import { splitTrainingGraph } from '../../src/onnx/autodiff/split.js';
import { Sfc32 } from '../../src/random/index.js';
import { type BenchCase, type BenchContext, type BenchRow, summarize, withRatio } from '../harness.js';

type Feed = { type: 'float32' | 'int64'; data: Float32Array | BigInt64Array; dims: number[] };

function tensors(feeds: Record<string, Feed>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
}

function pick(all: Record<string, ort.Tensor>, names: readonly string[]): Record<string, ort.Tensor> {
  return Object.fromEntries(names.map((n) => [n, all[n]!]));
}

async function encoderRows(
  name: string,
  model: ModelProto,
  inputs: Record<string, Feed>,
  batch: number,
  itemName: string,
  ctx: BenchContext,
): Promise<BenchRow[]> {
  const training = differentiate(model);
  const { layout } = training;
  const params = readParameters(model, layout);
  const gradients = new Float32Array(layout.size);
  // No spinning: four sessions alternate here, and idle spinning threads would slow the next one.
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 2,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  const paramFeeds: Record<string, ort.Tensor> = {};
  for (const p of layout.parameters) paramFeeds[p.name] = new ort.Tensor('float32', params.subarray(p.offset, p.offset + p.size), p.shape);
  const dataFeeds = tensors(inputs);
  const timing = { minRuns: ctx.quick ? 3 : 5, maxRuns: ctx.quick ? 5 : 15, minTimeMs: ctx.quick ? 1000 : 6000 };
  const shape = Object.values(inputs)[0]!.dims.join('x');
  const note = `${(layout.size / 1e6).toFixed(3)}M parameters, ${(training.model.graph?.node ?? []).length} nodes in the training graph (${training.forwardNodeCount} forward)`;

  // Forward only (parameters as inputs, as the training graph reads them).
  const forward = await ort.InferenceSession.create(serializeModel(parametersAsInputs(model, layout)), options);
  const fwdFeeds = { ...dataFeeds, ...paramFeeds };
  const fwdOut = await forward.run(fwdFeeds);

  // Fused training graph.
  const session = await TrainingSession.create(training, options);
  const rng = new Sfc32(3);
  const outputGrads = Object.fromEntries(
    Object.keys(training.outputGradInputs).map((o) => {
      const y = fwdOut[o]!;
      return [o, { type: 'float32' as const, data: Float32Array.from({ length: y.data.length }, () => rng.normal()), dims: [...y.dims] }];
    }),
  );

  // Split: forward returning saved activations, then backward only.
  const split = splitTrainingGraph(training);
  const sf = await ort.InferenceSession.create(serializeModel(split.forward), options);
  const sb = await ort.InferenceSession.create(serializeModel(split.backward), options);
  const gradFeeds = Object.fromEntries(
    Object.entries(training.outputGradInputs).map(([o, input]) => [
      input,
      new ort.Tensor('float32', outputGrads[o]!.data, outputGrads[o]!.dims),
    ]),
  );
  const fetches: Record<string, ort.Tensor> = {};
  layout.parameters.forEach(
    (p, k) =>
      (fetches[training.parameterGradOutputs[k]!] = new ort.Tensor('float32', gradients.subarray(p.offset, p.offset + p.size), p.shape)),
  );
  let savedBytes = 0;
  const variants = {
    forward: () => forward.run(fwdFeeds),
    fused: () => session.step({ parameters: params, gradients, inputs, outputGrads }),
    split: async (): Promise<void> => {
      const saved = await sf.run(pick(fwdFeeds, sf.inputNames));
      savedBytes = split.saved.reduce((s, n) => s + (saved[n]!.data as { byteLength: number }).byteLength, 0);
      await sb.run(pick({ ...fwdFeeds, ...gradFeeds, ...saved }, sb.inputNames), fetches);
    },
  };
  // Interleaved rounds, so that load from other processes hits every variant alike.
  const samples: Record<keyof typeof variants, number[]> = { forward: [], fused: [], split: [] };
  for (const run of Object.values(variants)) await run();
  const begin = performance.now();
  while (samples.fused.length < timing.maxRuns && (samples.fused.length < timing.minRuns || performance.now() - begin < timing.minTimeMs)) {
    for (const [name, run] of Object.entries(variants) as [keyof typeof variants, () => Promise<unknown>][]) {
      const t0 = performance.now();
      await run();
      samples[name].push(performance.now() - t0);
    }
  }
  await Promise.all([forward.release(), session.release(), sf.release(), sb.release()]);
  const fwd = summarize(samples.forward);
  const step = summarize(samples.fused);
  const splitTime = summarize(samples.split);

  const perSec = (ms: number): number => (batch * 1000) / ms;
  const forwardRow: BenchRow = {
    op: `${name} forward`,
    backend: 'onnxruntime cpu',
    shape,
    medianMs: fwd.medianMs,
    p90Ms: fwd.p90Ms,
    itemsPerSec: perSec(fwd.medianMs),
    itemName,
    note,
  };
  const fusedRow: BenchRow = {
    op: `${name} training step (fused forward+backward graph)`,
    backend: 'onnxruntime cpu',
    shape,
    medianMs: step.medianMs,
    p90Ms: step.p90Ms,
    itemsPerSec: perSec(step.medianMs),
    itemName,
    note: `${(1000 / step.medianMs).toFixed(2)} steps/s; ${(step.medianMs / fwd.medianMs).toFixed(2)}x forward`,
  };
  const splitRow: BenchRow = {
    op: `${name} training step (split: forward saving activations + backward)`,
    backend: 'onnxruntime cpu',
    shape,
    medianMs: splitTime.medianMs,
    p90Ms: splitTime.p90Ms,
    itemsPerSec: perSec(splitTime.medianMs),
    itemName,
    peakMemoryBytes: savedBytes,
    note: `${(1000 / splitTime.medianMs).toFixed(2)} steps/s; ${(splitTime.medianMs / fwd.medianMs).toFixed(2)}x forward; ${split.saved.length} saved tensors`,
  };
  return [forwardRow, withRatio(fusedRow, forwardRow), withRatio(splitRow, fusedRow)];
}

function images(n: number, size: number): Feed {
  const rng = new Sfc32(1);
  return { type: 'float32', data: Float32Array.from({ length: n * size * size }, () => rng.next()), dims: [n, 1, size, size] };
}

function tokens(n: number, length: number, vocab: number): Record<string, Feed> {
  const rng = new Sfc32(2);
  const ids = new BigInt64Array(n * length);
  const mask = new BigInt64Array(n * length);
  for (let i = 0; i < n; i++) {
    const real = Math.max(4, Math.floor(length * (0.4 + 0.6 * rng.next())));
    for (let j = 0; j < length; j++) {
      ids[i * length + j] = j < real ? BigInt(1 + Math.floor(rng.next() * (vocab - 1))) : 0n;
      mask[i * length + j] = j < real ? 1n : 0n;
    }
  }
  return { input_ids: { type: 'int64', data: ids, dims: [n, length] }, attention_mask: { type: 'int64', data: mask, dims: [n, length] } };
}

export const cases: BenchCase[] = [
  {
    name: 'autodiff: built-in ResNet training step (CPU)',
    run: (ctx) => {
      const size = ctx.quick ? 128 : 224;
      const batch = ctx.quick ? 4 : 8;
      return encoderRows('resnet', buildResNetEncoder().model, { image: images(batch, size) }, batch, 'images', ctx);
    },
  },
  {
    name: 'autodiff: built-in ViT training step (CPU)',
    run: (ctx) => {
      const size = ctx.quick ? 128 : 224;
      const batch = ctx.quick ? 4 : 8;
      return encoderRows(
        'vit',
        buildViTEncoder({ imageSize: size, patchTokens: false }).model,
        { image: images(batch, size) },
        batch,
        'images',
        ctx,
      );
    },
  },
  {
    name: 'autodiff: built-in text transformer training step (CPU)',
    run: (ctx) => {
      const batch = ctx.quick ? 8 : 32;
      const length = ctx.quick ? 32 : 64;
      return encoderRows(
        'text-transformer',
        buildTextTransformer({ vocabSize: 2000, maxLength: 128 }).model,
        tokens(batch, length, 2000),
        batch,
        'texts',
        ctx,
      );
    },
  },
];
