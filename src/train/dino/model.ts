/**
 * Student and teacher for mode 'dino': one ONNX graph (ViT + DINO head), one training session
 * for the student (forward + backward through the autodiff) and one forward-only session that
 * reads its parameters from feeds, so the teacher is just a second flat buffer. Local crops
 * smaller than image.size get a second graph of the same parameters (position embeddings
 * resampled to the local grid, no iBOT output) with its own training and forward sessions.
 */
import * as ort from 'onnxruntime-node';
import { createOrtSession } from '../../device/session-factory.js';
import { buildViTEncoder } from '../../onnx/models/vit.js';
import { differentiate, type TrainingGraph } from '../../onnx/autodiff/differentiate.js';
import { TrainingSession } from '../../onnx/autodiff/session.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { serializeModel } from '../../onnx/model-io.js';
import { ParameterLayoutError } from '../../onnx/errors.js';
import {
  listParameters,
  parameterFeeds,
  parametersAsInputs,
  readParameters,
  writeParameters,
  type ParameterLayout,
} from '../../onnx/parameters.js';
import type { ModelProto } from '../../onnx/proto.js';
import type { DinoConfig } from './config.js';
import { appendDinoHead, DINO_HEAD_PREFIX } from './head.js';

/** The student graph at the local crop size; same flat parameter layout as the global graph. */
export interface DinoLocalModel {
  /** Side of the local views in pixels. */
  size: number;
  training: TrainingGraph;
  session: TrainingSession;
  forward: ort.InferenceSession;
}

export interface DinoModel {
  /** Side of the global views (image.size). */
  size: number;
  encoder: ModelProto;
  training: TrainingGraph;
  session: TrainingSession;
  forward: ort.InferenceSession;
  /** Initial student parameters (flat, training.layout order). */
  initial: Float32Array;
  embedDim: number;
  patches: number;
  prototypes: number;
  /** 1 = weight decay applies (matrices and prototypes; not biases, norms, tokens, positions). */
  decayMask: Uint8Array;
  /** decayMask with the last layer excluded, for the steps it is frozen. */
  decayMaskFrozen: Uint8Array;
  /** [from, to) ranges of the prototype layer in the flat buffer. */
  lastLayer: Array<[number, number]>;
  /** Present when local crops use their own size (outputs embedding and dino_logits only). */
  local?: DinoLocalModel;
  dispose(): Promise<void>;
}

export interface DinoForward {
  embedding: Float32Array;
  dino: Float32Array;
  ibot: Float32Array;
}

/** The ViT + head graph for a config; `seed` makes the initial parameters. */
export function buildDinoGraph(
  dino: DinoConfig,
  imageSize: number,
  seed: number,
): { encoder: ModelProto; model: ModelProto; embedDim: number; patches: number } {
  const v = dino.vit;
  const built = buildViTEncoder({
    imageSize,
    patchSize: v.patchSize,
    dim: v.dim,
    depth: v.depth,
    heads: v.heads,
    mlpRatio: v.mlpRatio,
    inChannels: 1,
    patchTokens: true,
    pooling: 'cls',
    seed,
  });
  const patches = (imageSize / v.patchSize) ** 2;
  const model = appendDinoHead(built.model, {
    inDim: built.embedDim,
    hidden: dino.head.hidden,
    bottleneck: dino.head.bottleneck,
    prototypes: dino.head.prototypes,
    patchOutput: 'patch_tokens',
    patches,
    seed: seed + 1,
  });
  return { encoder: built.model, model, embedDim: built.embedDim, patches };
}

/**
 * The same ViT + head at `localSize`, pos_embed kept at the imageSize grid and resampled in the
 * graph; no iBOT output (iBOT reads the global views only).
 */
export function buildDinoLocalGraph(dino: DinoConfig, imageSize: number, localSize: number, seed: number): ModelProto {
  const v = dino.vit;
  const built = buildViTEncoder({
    imageSize: localSize,
    positionImageSize: imageSize,
    patchSize: v.patchSize,
    dim: v.dim,
    depth: v.depth,
    heads: v.heads,
    mlpRatio: v.mlpRatio,
    inChannels: 1,
    patchTokens: false,
    pooling: 'cls',
    seed,
  });
  return appendDinoHead(built.model, {
    inDim: built.embedDim,
    hidden: dino.head.hidden,
    bottleneck: dino.head.bottleneck,
    prototypes: dino.head.prototypes,
    seed: seed + 1,
  });
}

/** Both graphs index one flat buffer, so every parameter must have the same name, shape and offset. */
export function assertSameLayout(global: ParameterLayout, local: ParameterLayout): void {
  const describe = (p: ParameterLayout['parameters'][number] | undefined): string =>
    p ? `${p.name} [${p.shape.join(', ')}] at ${p.offset}` : 'nothing';
  const n = Math.max(global.parameters.length, local.parameters.length);
  for (let i = 0; i < n; i++) {
    const a = global.parameters[i];
    const b = local.parameters[i];
    if (
      a &&
      b &&
      a.name === b.name &&
      a.offset === b.offset &&
      a.shape.length === b.shape.length &&
      a.shape.every((d, k) => d === b.shape[k])
    )
      continue;
    throw new ParameterLayoutError(
      `DINO local-crop graph: parameter ${i} is ${describe(b)}, the global graph has ${describe(a)}; both must share one flat layout`,
      { index: i },
    );
  }
  if (global.size !== local.size)
    throw new ParameterLayoutError(`DINO local-crop graph: layout has ${local.size} values, the global graph ${global.size}`, {
      global: global.size,
      local: local.size,
    });
}

function forwardSession(model: ModelProto, layout: ParameterLayout, label: string): Promise<ort.InferenceSession> {
  return createOrtSession(serializeModel(parametersAsInputs(model, layout)), { label });
}

async function createLocalModel(
  dino: DinoConfig,
  imageSize: number,
  localSize: number,
  seed: number,
  globalLayout: ParameterLayout,
): Promise<DinoLocalModel> {
  const model = buildDinoLocalGraph(dino, imageSize, localSize, seed);
  const training = differentiate(model, { outputs: ['embedding', 'dino_logits'] });
  assertSameLayout(globalLayout, training.layout);
  const session = await TrainingSession.create(training, { label: `DINO student at ${localSize} px (local crops): training graph` });
  return {
    size: localSize,
    training,
    session,
    forward: await forwardSession(model, training.layout, `DINO student at ${localSize} px (local crops): forward graph`),
  };
}

/**
 * `localSize` adds the local-crop graph (the trainer passes it only when local crops exist and
 * are smaller than imageSize; equal sizes are allowed, to test the two-session path).
 */
export async function createDinoModel(
  dino: DinoConfig,
  imageSize: number,
  seed: number,
  options: { localSize?: number } = {},
): Promise<DinoModel> {
  const { encoder, model, embedDim, patches } = buildDinoGraph(dino, imageSize, seed);
  const training = differentiate(model, { outputs: ['embedding', 'dino_logits', 'ibot_logits'] });
  const session = await TrainingSession.create(training, { label: `DINO student at ${imageSize} px: training graph` });
  const forward = await forwardSession(model, training.layout, `DINO student at ${imageSize} px: forward graph`);
  const local =
    options.localSize === undefined ? undefined : await createLocalModel(dino, imageSize, options.localSize, seed, training.layout);
  const decayMask = new Uint8Array(training.layout.size);
  for (const p of training.layout.parameters) {
    const decays = p.shape.length >= 2 && !/cls_token|pos_embed/.test(p.name);
    if (decays) decayMask.fill(1, p.offset, p.offset + p.size);
  }
  const lastLayer = training.layout.parameters
    .filter((p) => p.name.startsWith(`${DINO_HEAD_PREFIX}prototypes.`))
    .map((p): [number, number] => [p.offset, p.offset + p.size]);
  const decayMaskFrozen = decayMask.slice();
  for (const [from, to] of lastLayer) decayMaskFrozen.fill(0, from, to);
  return {
    size: imageSize,
    encoder,
    training,
    session,
    forward,
    initial: readParameters(model, training.layout),
    embedDim,
    patches,
    prototypes: dino.head.prototypes,
    decayMask,
    decayMaskFrozen,
    lastLayer,
    ...(local ? { local } : {}),
    dispose: async () => {
      await forward.release();
      await session.release();
      if (local) {
        await local.forward.release();
        await local.session.release();
      }
    },
  };
}

async function runForward(
  session: ort.InferenceSession,
  layout: ParameterLayout,
  parameters: Float32Array,
  images: Float32Array,
  n: number,
  size: number,
): Promise<DinoForward> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(parameterFeeds(layout, parameters))) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  feeds.image = new ort.Tensor('float32', images, [n, 1, size, size]);
  const out = await session.run(feeds);
  const ibot = out.ibot_logits?.data as Float32Array | undefined;
  return { embedding: out.embedding!.data as Float32Array, dino: out.dino_logits!.data as Float32Array, ibot: ibot ?? new Float32Array(0) };
}

/** Forward pass without gradients (the teacher, or the student before its training step). */
export function forwardDino(m: DinoModel, parameters: Float32Array, images: Float32Array, n: number, size: number): Promise<DinoForward> {
  return runForward(m.forward, m.training.layout, parameters, images, n, size);
}

/** The student's forward pass on local views [n, 1, s, s] through the local graph (`ibot` empty). */
export function forwardDinoLocal(local: DinoLocalModel, parameters: Float32Array, images: Float32Array, n: number): Promise<DinoForward> {
  return runForward(local.forward, local.training.layout, parameters, images, n, local.size);
}

/**
 * A ViT encoder (outputs 'embedding' = CLS and 'patch_tokens') as a frozen-feature extractor with
 * one output 'features' = [CLS, mean of the patch tokens] (2 x dim), the representation DINOv2's
 * linear evaluation reads.
 */
export function clsAndMeanPatchFeatures(encoder: ModelProto, embedDim: number): ModelProto {
  const g = GraphBuilder.extend(encoder);
  const cls = g.value('embedding');
  const mean = g.reduceMean(g.value('patch_tokens'), [1], false);
  g.clearOutputs();
  g.output(g.concat([cls, mean], 1), 'features', ['batch', 2 * embedDim]);
  return g.build({ docString: 'radlearn ViT encoder: features = [CLS, mean patch token]' });
}

/**
 * The encoder alone (no head) with the given flat parameters (the teacher's, as DINO evaluates
 * the teacher), with the 'features' output of clsAndMeanPatchFeatures, ready for the
 * frozen-feature trainer modes.
 */
export function exportEncoder(m: DinoModel, flat: Float32Array): ModelProto {
  const layout = listParameters(m.encoder);
  const byName = new Map(m.training.layout.parameters.map((p) => [p.name, p]));
  const values = new Float32Array(layout.size);
  for (const p of layout.parameters) {
    const src = byName.get(p.name);
    if (src) values.set(flat.subarray(src.offset, src.offset + src.size), p.offset);
  }
  return clsAndMeanPatchFeatures(writeParameters(m.encoder, layout, values), m.embedDim);
}

export { DINO_HEAD_PREFIX };
