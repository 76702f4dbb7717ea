/**
 * Makes each pre-training arm's image encoder (an ONNX file with one 'embedding' output), once
 * per (arm, seed); an existing encoder file is reused, an interrupted run is resumed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildViTEncoder } from '../../onnx/models/vit.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { loadModel, saveModel } from '../../onnx/model-io.js';
import type { ModelProto } from '../../onnx/proto.js';
import { listParameters, readParameters, writeParameters } from '../../onnx/parameters.js';
import { hasCheckpoint } from '../checkpoint.js';
import { train, type TrainResult } from '../train.js';
import type { TrainConfigInput } from '../config.js';
import type { TrainEvent } from '../events.js';
import { PRETRAINING_PLANS } from './arms.js';
import { clsAndMeanPatchFeatures } from '../dino/model.js';
import type { PretrainingArm, StudyConfig } from './config.js';

export interface StudyData {
  manifest: string;
  labels?: string[];
  split?: { train: number; val: number; test: number };
  /** With external validation: the column naming each row's role (in-site or its external site). */
  groupBy?: string;
}

export interface PretrainContext {
  config: StudyConfig;
  dir: string;
  data: StudyData;
  signal?: AbortSignal;
  onEvent?: (arm: string, event: TrainEvent) => void;
}

function randomInitEncoder(config: StudyConfig, seed: number): ModelProto {
  const v = config.vit;
  const built = buildViTEncoder({
    imageSize: config.imageSize,
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
  // the same feature layout as the DINO arm's exported teacher
  return clsAndMeanPatchFeatures(built.model, built.embedDim);
}

/**
 * The frozen encoder followed by a contrastive run's image projection head (Linear, or
 * Linear-GELU-Linear; weights stored [out, in] as in the trainer), as one encoder graph.
 */
export function appendImageProjection(encoder: ModelProto, result: Pick<TrainResult, 'parameters' | 'parameterNames'>): ModelProto {
  const byName = new Map(result.parameterNames.map((p) => [p.name, p]));
  const layerNames = byName.has('image_projection.fc.weight') ? ['image_projection.fc'] : ['image_projection.fc1', 'image_projection.fc2'];
  const g = GraphBuilder.extend(encoder);
  let x = g.value('features');
  let outDim = 0;
  layerNames.forEach((name, i) => {
    const w = byName.get(`${name}.weight`);
    const b = byName.get(`${name}.bias`);
    if (!w || !b) throw new Error(`contrastive run has no parameter ${name}.weight/.bias`);
    const size = (s: number[]): number => s.reduce((a, c) => a * c, 1);
    const W = g.initializer(`${name}.weight`, result.parameters.slice(w.offset, w.offset + size(w.shape)), w.shape);
    const B = g.initializer(`${name}.bias`, result.parameters.slice(b.offset, b.offset + size(b.shape)), b.shape);
    x = g.gemm(x, W, B, { transB: true });
    if (i < layerNames.length - 1) x = g.gelu(x);
    outDim = w.shape[0]!;
  });
  g.clearOutputs();
  g.output(x, 'projected_embedding', ['batch', outDim]);
  return g.build({ docString: 'radlearn study: frozen encoder + report-contrastive image projection' });
}

/** The encoder with the parameters a fine-tuning run trained (named 'image_encoder.<initializer>'). */
export function withTrainedImageEncoder(encoder: ModelProto, result: Pick<TrainResult, 'parameters' | 'parameterNames'>): ModelProto {
  const layout = listParameters(encoder);
  const byName = new Map(result.parameterNames.map((p) => [p.name, p]));
  const values = readParameters(encoder, layout);
  let found = 0;
  for (const p of layout.parameters) {
    const t = byName.get(`image_encoder.${p.name}`);
    if (!t) continue;
    values.set(result.parameters.subarray(t.offset, t.offset + p.size), p.offset);
    found++;
  }
  if (found === 0) throw new Error('the fine-tuning run has no image_encoder.* parameters matching the encoder');
  return writeParameters(encoder, layout, values);
}

/** The study settings every arm shares (not the lists of arms, fractions and seeds). */
export function sharedSettings(config: StudyConfig): Partial<StudyConfig> {
  const { out: _o, name: _n, pretraining: _p, downstream: _d, fractions: _f, seeds: _s, ...shared } = config;
  return shared;
}

export function settingsKey(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

async function runToEnd(name: string, cfg: TrainConfigInput, resume: boolean, ctx: PretrainContext): Promise<TrainResult> {
  const run = train(cfg, resume ? { resume: true, signal: ctx.signal } : { overwrite: true, signal: ctx.signal });
  for await (const event of run) ctx.onEvent?.(name, event);
  return run.result;
}

/** The folder name of an arm's pre-training run under <study>/pretrain/, keyed by the settings that make it. */
export function pretrainRunName(arm: PretrainingArm, seed: number, config: StudyConfig): string {
  return `${arm}-s${seed}-${settingsKey({ config: sharedSettings(config), plan: PRETRAINING_PLANS[arm] })}`;
}

/** Path of the arm's encoder for `seed`, made (or resumed) when missing. Undefined when interrupted. */
export async function pretrainEncoder(arm: PretrainingArm, seed: number, ctx: PretrainContext): Promise<string | undefined> {
  const { config, dir, data } = ctx;
  const armDir = join(dir, 'pretrain');
  // folders are keyed by the settings that make the encoder, so a changed config never reuses a stale one
  const runName = pretrainRunName(arm, seed, config);
  const noneName = `none-s${seed}-${settingsKey({ imageSize: config.imageSize, vit: config.vit })}`;
  const out = join(armDir, runName, 'encoder.onnx');
  const plan = PRETRAINING_PLANS[arm];
  if (plan.mode !== null) {
    if (existsSync(out)) return out;
    await mkdir(join(armDir, runName), { recursive: true });
  }
  const base = join(armDir, noneName, 'encoder.onnx');
  if (!existsSync(base)) {
    await mkdir(join(armDir, noneName), { recursive: true });
    saveModel(randomInitEncoder(config, seed), base);
  }
  if (plan.mode === null) return base;
  const checkpoints = join(armDir, runName, 'checkpoints');
  const common = {
    name: runName,
    runsDir: armDir,
    cacheDir: join(dir, 'cache'),
    seed,
    logEvery: 10,
    data: { manifest: data.manifest, ...(data.labels ? { labels: data.labels } : {}), ...(data.split ? { split: data.split } : {}) },
    eval: { zeroShot: false, linearProbe: false, sweep: null },
    export: false,
  };
  if (plan.mode === 'dino') {
    const r = await runToEnd(
      arm,
      {
        ...common,
        mode: 'dino',
        steps: config.steps.dino,
        batchSize: config.batchSize.dino,
        checkpoint: { every: Math.max(10, Math.floor(config.steps.dino / 5)), keep: 1 },
        image: { size: config.imageSize },
        optim: { lr: config.lr.dino, warmupSteps: Math.floor(config.steps.dino / 10) },
        dino: { ...config.dino, vit: config.vit },
      },
      hasCheckpoint(checkpoints),
      ctx,
    );
    return r.interrupted ? undefined : join(r.runDir, 'encoder.onnx');
  }
  // report-contrastive: heads on the frozen encoder, then (clip-finetune) the encoders trained from them
  const contrastive = {
    ...common,
    batchSize: config.batchSize.contrastive,
    data: { ...common.data, sentences: { min: 1, max: 2 } },
    image: { model: base, size: config.imageSize },
    text: { model: 'builtin:transformer', tokenizer: 'build', vocabSize: 2000, maxLength: 64 },
    head: { kind: 'mlp' as const, hidden: 256, projectionDim: 128 },
    // as the demo: reports with the same labeler findings are positives of each other
    loss: { kind: 'infonce' as const, groups: 'labels' as const },
  };
  let headsRun: TrainResult | undefined;
  if (plan.warmStart === 'contrastive' || plan.mode === 'contrastive') {
    const name = plan.mode === 'contrastive' ? runName : `${runName}-heads`;
    headsRun = await runToEnd(
      arm,
      {
        ...contrastive,
        name,
        mode: 'contrastive',
        steps: config.steps.contrastive,
        checkpoint: { every: Math.max(10, Math.floor(config.steps.contrastive / 5)), keep: 1 },
        optim: { lr: config.lr.contrastive, warmupSteps: Math.floor(config.steps.contrastive / 10) },
      },
      hasCheckpoint(join(armDir, name, 'checkpoints')),
      ctx,
    );
    if (headsRun.interrupted) return undefined;
  }
  let r = headsRun!;
  if (plan.mode === 'clip-finetune') {
    r = await runToEnd(
      arm,
      {
        ...contrastive,
        mode: 'clip-finetune',
        steps: config.steps.clipFinetune,
        batchSize: config.batchSize.clipFinetune,
        checkpoint: { every: Math.max(10, Math.floor(config.steps.clipFinetune / 5)), keep: 1 },
        optim: { lr: config.lr.clipFinetune, warmupSteps: Math.floor(config.steps.clipFinetune / 10) },
        finetune: { initFrom: headsRun!.runDir, chunkSize: 32 },
      },
      hasCheckpoint(checkpoints),
      ctx,
    );
    if (r.interrupted) return undefined;
  }
  if (plan.encoder === 'run-encoder') return join(r.runDir, 'encoder.onnx');
  let encoder = loadModel(base);
  if (plan.encoder === 'trained-encoder+image-projection') encoder = withTrainedImageEncoder(encoder, r);
  saveModel(appendImageProjection(encoder, r), out);
  return out;
}
