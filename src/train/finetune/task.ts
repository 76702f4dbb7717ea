/**
 * The encoder fine-tuning modes as a Task for the trainer's loop:
 *   clip-finetune        image and text encoders (autodiff training graphs) + projection heads +
 *                        learnable temperature, InfoNCE/SigLIP with sentence sampling, label groups
 *                        and positive-pair relaxation, exactly as the frozen contrastive mode;
 *   supervised-finetune  image encoder + classifier head, BCE with the mask/uncertainty policy.
 * Everything trainable (encoder parameters first, then heads, then the logit scale) lives in the
 * run's one FlatParameters buffer, so checkpoints, EMA and resume cover the encoders too.
 * Per step: embeddings (forward-only, chunked) -> heads -> loss kernel -> d loss / d embedding ->
 * training graphs chunk by chunk (gradient caching) -> flat gradient buffer -> AdamW in place.
 */
import { ImageEncoder } from '../../encoders/image-encoder.js';
import { TextEncoder } from '../../encoders/text-encoder.js';
import { serializeModel } from '../../onnx/model-io.js';
import { listParameters } from '../../onnx/parameters.js';
import type { TensorLike } from '../../onnx/tensor.js';
import type { TrainConfig } from '../config.js';
import { TrainConfigError } from '../config.js';
import { reportGroups, sampledSentenceIds, type TrainDataset } from '../dataset.js';
import type { ResolvedEncoders } from '../encoders.js';
import { computeFeatures, loadImages, type FeatureProgress, type FrozenFeatures } from '../features.js';
import { Head, headSpecs } from '../heads.js';
import type { FlatOptimizer, TrainOps } from '../ops.js';
import { FlatParameters, type ParameterSpec } from '../parameters.js';
import type { Phase, StepOutput, Task } from '../tasks.js';
import { FinetuneAugmenter, type ImageTensor } from './augment-views.js';
import { DEFAULT_BATCH_NORM_MOMENTUM, finetuneSchema, type FinetuneConfig } from './config.js';
import { initFromCheckpoint } from './init-from.js';
import { compilePatterns, frozenParameters } from './selection.js';
import { SegmentedAdamW, type Segment } from './segmented-adamw.js';
import { TrainableEncoder } from './trainable-encoder.js';

const finetuneOf = (config: TrainConfig): FinetuneConfig => config.finetune ?? finetuneSchema.parse({});

const IMAGE = 'image_encoder.';
const TEXT = 'text_encoder.';

interface EncoderSlot {
  encoder: TrainableEncoder;
  prefix: string;
  /** The encoder's trainable parameters in the run's flat buffer. */
  range: [number, number];
  /** Its BatchNorm running statistics (finetune.batchNorm: 'batch'), right after them; empty otherwise. */
  statsRange: [number, number];
}

export interface EvaluationInputs {
  features: FrozenFeatures;
  encoders: ResolvedEncoders;
}

function modelInputs(encoders: ResolvedEncoders, which: 'image' | 'text'): string[] {
  const model = which === 'image' ? encoders.imageModel : encoders.textModel!;
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ''));
  return (model.graph?.input ?? []).map((i) => i.name ?? '').filter((n) => !inits.has(n));
}

export class FinetuneTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly imageHead?: Head;
  readonly textHead?: Head;
  readonly classifier?: { head: Head; labels: string[] };
  private readonly clip: boolean;
  private readonly groups: Int32Array | undefined;

  private constructor(
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    private readonly encoders: ResolvedEncoders,
    private readonly ops: TrainOps,
    /** Normalised un-augmented images [N, C, H, W]: the source of the training views, never changed. */
    private readonly images: ImageTensor,
    private readonly image: EncoderSlot,
    private readonly text: EncoderSlot | undefined,
    dims: { image: number; text: number },
    /** Present when finetune.augment is set: renders each step's views. */
    private readonly augmenter?: FinetuneAugmenter,
  ) {
    this.clip = config.mode === 'clip-finetune';
    const specs: ParameterSpec[] = [];
    const encoderSpecs = (slot: EncoderSlot): void => {
      for (const p of slot.encoder.initialParameters()) specs.push({ name: slot.prefix + p.name, shape: p.shape, init: { kind: 'values', values: p.values } });
      // Running statistics: state in the flat buffer (checkpoints, EMA, resume) that AdamW never
      // moves: their gradient stays zero and they never decay, so each update leaves them as is.
      for (const p of slot.encoder.runningStatistics?.initialEntries() ?? []) specs.push({ name: slot.prefix + p.name, shape: p.shape, init: { kind: 'values', values: p.values }, decay: false });
    };
    encoderSpecs(image);
    if (text) encoderSpecs(text);
    const { head, loss } = config;
    if (this.clip) {
      const P = head.projectionDim;
      const scaleInit = loss.logitScaleInit ?? (loss.kind === 'siglip' ? 10 : 1 / 0.07);
      specs.push(...headSpecs('image_projection', { kind: head.kind, inDim: dims.image, outDim: P, hidden: head.hidden }));
      specs.push(...headSpecs('text_projection', { kind: head.kind, inDim: dims.text, outDim: P, hidden: head.hidden }));
      specs.push({ name: 'logit_scale', shape: [1], init: { kind: 'constant', value: Math.log(Math.min(scaleInit, loss.maxLogitScale)) }, decay: false });
      if (loss.kind === 'siglip') specs.push({ name: 'logit_bias', shape: [1], init: { kind: 'constant', value: loss.biasInit }, decay: false });
    } else {
      specs.push(...headSpecs('classifier', { kind: head.kind, inDim: dims.image, outDim: dataset.labelNames.length, hidden: head.hidden }));
    }
    this.params = new FlatParameters(specs, config.seed);
    for (const slot of text ? [image, text] : [image]) {
      const start = this.params.entry(slot.prefix + slot.encoder.training.layout.parameters[0]!.name).offset;
      slot.range = [start, start + slot.encoder.size];
      const running = slot.encoder.runningStatistics;
      const statsStart = running ? this.params.entry(slot.prefix + running.layout.parameters[0]!.name).offset : slot.range[1];
      slot.statsRange = [statsStart, statsStart + (running?.size ?? 0)];
    }
    const train = dataset.indices('train');
    if (this.clip) {
      this.imageHead = new Head(this.params, 'image_projection', { kind: head.kind, inDim: dims.image, outDim: head.projectionDim, hidden: head.hidden }, ops);
      this.textHead = new Head(this.params, 'text_projection', { kind: head.kind, inDim: dims.text, outDim: head.projectionDim, hidden: head.hidden }, ops);
      this.groups = loss.groups === 'labels' ? reportGroups(dataset) : undefined;
      const rows = train.filter((r) => dataset.rowOffsets[r + 1]! > dataset.rowOffsets[r]!);
      this.phases = [{ name: 'clip-finetune', steps: config.steps, group: 'main', rows, batchSize: Math.max(1, Math.min(config.batchSize, rows.length)) }];
    } else {
      const classifierHead = new Head(this.params, 'classifier', { kind: head.kind, inDim: dims.image, outDim: dataset.labelNames.length, hidden: head.hidden }, ops);
      this.classifier = { head: classifierHead, labels: dataset.labelNames };
      const rows = train.filter((r) => dataset.labelled[r] === 1);
      this.phases = [{ name: 'supervised-finetune', steps: config.steps, group: 'main', rows, batchSize: Math.max(1, Math.min(config.batchSize, rows.length)) }];
    }
  }

  static async create(config: TrainConfig, dataset: TrainDataset, encoders: ResolvedEncoders, ops: TrainOps, progress?: FeatureProgress): Promise<FinetuneTask> {
    const ft = finetuneOf(config);
    const freeze = compilePatterns(ft.freeze, 'finetune.freeze');
    compilePatterns(ft.groups.map((g) => g.pattern), 'finetune.groups');
    const clip = config.mode === 'clip-finetune';
    const batchStatistics = ft.batchNorm === 'batch' ? { momentum: ft.batchNormMomentum ?? DEFAULT_BATCH_NORM_MOMENTUM } : undefined;
    const slot = async (model: NonNullable<ResolvedEncoders['textModel']>, output: string, prefix: string, what: string, allFrozen: boolean): Promise<EncoderSlot> => {
      const names = listParameters(model).parameters.map((p) => p.name);
      const frozen = allFrozen ? names : frozenParameters(names, { prefix, freeze, unfreezeLastBlocks: ft.unfreezeLastBlocks });
      return { encoder: await TrainableEncoder.create(model, output, frozen, what, batchStatistics), prefix, range: [0, 0], statsRange: [0, 0] };
    };
    progress?.('encoders', 'differentiating the image encoder into its training graph');
    const image = await slot(encoders.imageModel, encoders.image.outputName, IMAGE, config.image.model, false);
    let text: EncoderSlot | undefined;
    const frozenText = clip && !ft.trainText;
    try {
      if (clip) {
        if (!encoders.textModel || !encoders.text) throw new TrainConfigError('clip-finetune needs a text encoder (config key text.model)', { key: 'text.model' });
        if (!frozenText) {
          progress?.('encoders', 'differentiating the text encoder into its training graph');
          text = await slot(encoders.textModel, encoders.text.outputName, TEXT, config.text.model, false);
        }
      }
      progress?.('images', `preprocessing ${dataset.size} images`, 0);
      const images = await loadImages(config, dataset.imagePaths, progress);
      const probe = await image.encoder.embed(image.encoder.initialParametersFlat(), 1, 1, () => ({ [config.image.input ?? modelInputs(encoders, 'image')[0]!]: imageChunk(images, [0], 0, 1) }));
      let textDim = 0;
      if (clip) textDim = (await encoders.text!.encode(['probe'])).dims[1]!;
      const augmenter = ft.augment ? new FinetuneAugmenter(ft.augment, images, { mean: config.image.mean, std: config.image.std }, config.seed) : undefined;
      const task = new FinetuneTask(config, dataset, encoders, ops, images, image, text, { image: probe.dim, text: textDim }, augmenter);
      if (ft.initFrom !== null) {
        const loaded = await initFromCheckpoint(task.params, ft.initFrom);
        progress?.('init', `${loaded.length} parameter tensors initialised from ${ft.initFrom}${loaded.length > 0 ? ` (${loaded.slice(0, 4).join(', ')}${loaded.length > 4 ? ', ...' : ''})` : ''}`);
      }
      return task;
    } catch (error) {
      await image.encoder.release();
      await text?.encoder.release();
      throw error;
    }
  }

  /** Per-group learning rates: contiguous segments of the flat buffer by finetune.groups patterns. */
  createOptimizer(group: string): FlatOptimizer | undefined {
    const rules = finetuneOf(this.config).groups.map((g) => ({ ...g, re: new RegExp(g.pattern) }));
    const [start, end] = this.params.groupRange(group);
    const segments: Segment[] = [];
    for (const e of this.params.entries) {
      if (e.group !== group) continue;
      const k = rules.findIndex((r) => r.re.test(e.name));
      const lrScale = k < 0 ? 1 : rules[k]!.lrScale;
      const weightDecay = k < 0 ? undefined : rules[k]!.weightDecay;
      const last = segments[segments.length - 1];
      if (last && last.end === e.offset - start && last.lrScale === lrScale && last.weightDecay === weightDecay) last.end += e.length;
      else segments.push({ start: e.offset - start, end: e.offset - start + e.length, lrScale, weightDecay });
    }
    return new SegmentedAdamW(this.params.data.subarray(start, end), this.params.decayMask(group), segments);
  }

  /** Chunk feeds of `rows` of `images` (the same closure serves the forward and the backward pass). */
  private imageInputs(images: ImageTensor, rows: ArrayLike<number>): (s: number, e: number) => Record<string, TensorLike> {
    const name = this.config.image.input ?? modelInputs(this.encoders, 'image')[0]!;
    return (s, e) => ({ [name]: imageChunk(images, rows, s, e - s) });
  }

  /**
   * The batch's image feeds: its augmented views when finetune.augment is set (rendered once
   * here, so gradient caching's recomputed forward sees the same pixels), else its stored images.
   */
  private async batchImageInputs(batch: Int32Array, step: number): Promise<{ inputs: (s: number, e: number) => Record<string, TensorLike>; augmentMs?: number }> {
    if (!this.augmenter) return { inputs: this.imageInputs(this.images, batch) };
    const t0 = performance.now();
    const views = await this.augmenter.render(batch, step);
    const augmentMs = performance.now() - t0;
    return { inputs: this.imageInputs(views, Int32Array.from(batch, (_, i) => i)), augmentMs };
  }

  private textInputs(texts: string[]): (s: number, e: number) => Record<string, TensorLike> {
    const tok = this.encoders.text!.tokenizer.encodeBatch(texts, { maxLength: this.config.text.maxLength, padding: 'longest' });
    const names = modelInputs(this.encoders, 'text');
    const T = tok.inputIds.dims[1]!;
    const slice = (t: TensorLike<BigInt64Array>, s: number, e: number): TensorLike => ({ type: 'int64', data: t.data.subarray(s * T, e * T), dims: [e - s, T] });
    return (s, e) => {
      const feeds: Record<string, TensorLike> = {};
      for (const n of names) {
        if (/input_ids/.test(n)) feeds[n] = slice(tok.inputIds, s, e);
        else if (/attention_mask/.test(n)) feeds[n] = slice(tok.attentionMask, s, e);
        else if (/token_type/.test(n)) feeds[n] = { type: 'int64', data: new BigInt64Array((e - s) * T), dims: [e - s, T] };
      }
      return feeds;
    };
  }

  private view(slot: EncoderSlot, buffer: Float32Array): Float32Array {
    return buffer.subarray(slot.range[0], slot.range[1]);
  }

  /** The slot's running statistics in `buffer`; undefined without batch-statistics BatchNorm. */
  private statsView(slot: EncoderSlot, buffer: Float32Array): Float32Array | undefined {
    return slot.statsRange[1] > slot.statsRange[0] ? buffer.subarray(slot.statsRange[0], slot.statsRange[1]) : undefined;
  }

  async step(_phase: Phase, batch: Int32Array, epoch: number, step: number): Promise<StepOutput> {
    const { config, params } = this;
    const B = batch.length;
    const chunk = finetuneOf(config).chunkSize;
    const img = this.image;
    for (const e of [img.encoder, this.text?.encoder]) if (e) e.forwardMs = e.backwardMs = 0;
    const { inputs: imageIn, augmentMs } = await this.batchImageInputs(batch, step);
    const augmentMetric: Record<string, number> = augmentMs === undefined ? {} : { augmentMs };
    const ei = await img.encoder.embed(this.view(img, params.data), B, chunk, imageIn, this.statsView(img, params.data));
    if (!this.clip) {
      const L = this.dataset.labelNames.length;
      const head = this.classifier!.head;
      const logits = head.forward(ei.data, B);
      const targets = new Float32Array(B * L);
      const mask = new Float32Array(B * L);
      batch.forEach((r, i) => {
        for (let l = 0; l < L; l++) {
          const v = this.dataset.labels[r * L + l]!;
          const ok = Number.isFinite(v) && this.dataset.labelled[r] === 1;
          targets[i * L + l] = ok ? v : 0;
          mask[i * L + l] = ok ? 1 : 0;
        }
      });
      const grad = new Float32Array(B * L);
      const r = this.ops.bceWithLogits(logits, targets, mask, grad, B, L, config.data.uncertain);
      const dEmb = head.backward(grad, { inputGrad: true })!;
      await img.encoder.backward(this.view(img, params.data), this.view(img, params.grad), B, ei.dim, chunk, imageIn, dEmb, true);
      return { loss: r.loss, metrics: { validLabels: r.valid, forwardMs: img.encoder.forwardMs, backwardMs: img.encoder.backwardMs, ...augmentMetric } };
    }
    const texts: string[] = [];
    let sampled = 0;
    batch.forEach((row) => {
      const ids = sampledSentenceIds(this.dataset, row, config, epoch);
      sampled += ids.length;
      texts.push(ids.map((id) => this.dataset.sentences[id]!).join(' '));
    });
    const textIn = this.textInputs(texts);
    const et = this.text
      ? await this.text.encoder.embed(this.view(this.text, params.data), B, chunk, textIn, this.statsView(this.text, params.data))
      : await this.encoders.text!.encode(texts).then((o) => ({ data: o.data, dim: o.dims[1]! }));
    const zi = this.imageHead!.forward(ei.data, B);
    const zt = this.textHead!.forward(et.data, B);
    const a = Math.exp(params.view('logit_scale')[0]!);
    const siglip = config.loss.kind === 'siglip';
    const result = this.ops.contrastive(zi, zt, {
      batch: B, dim: config.head.projectionDim, kind: config.loss.kind, logitScale: a,
      bias: siglip ? params.view('logit_bias')[0]! : undefined,
      groups: this.groups ? Int32Array.from(batch, (r) => this.groups![r]!) : undefined,
      relaxThreshold: config.loss.relaxThreshold ?? undefined,
    });
    const dImage = this.imageHead!.backward(result.gradImage, { inputGrad: true })!;
    const dText = this.textHead!.backward(result.gradText, { inputGrad: Boolean(this.text) });
    if (config.loss.learnLogitScale) params.gradView('logit_scale')[0]! += a * result.gradLogitScale;
    if (siglip) params.gradView('logit_bias')[0]! += result.gradBias;
    await img.encoder.backward(this.view(img, params.data), this.view(img, params.grad), B, ei.dim, chunk, imageIn, dImage, true);
    if (this.text) {
      await this.text.encoder.backward(this.view(this.text, params.data), this.view(this.text, params.grad), B, et.dim, chunk, textIn, dText!, true);
    }
    const metrics: Record<string, number> = {
      logitScale: a, sentencesPerSample: sampled / B,
      forwardMs: img.encoder.forwardMs + (this.text?.encoder.forwardMs ?? 0), backwardMs: img.encoder.backwardMs + (this.text?.encoder.backwardMs ?? 0),
      ...augmentMetric,
    };
    if (siglip) metrics.logitBias = params.view('logit_bias')[0]!;
    return { loss: result.loss, metrics };
  }

  afterUpdate(): void {
    if (!this.clip || !this.config.loss.learnLogitScale) return;
    const l = this.params.view('logit_scale');
    const max = Math.log(this.config.loss.maxLogitScale);
    if (l[0]! > max) l[0] = max;
  }

  /**
   * The trained encoders (parameters from `buffer`: live or EMA) as ordinary encoders, and their
   * features for evaluation (cached by the trained model's bytes, like any frozen encoder).
   */
  async evaluationInputs(buffer: Float32Array, progress?: FeatureProgress): Promise<EvaluationInputs> {
    const { config } = this;
    const imageModel = this.image.encoder.trainedModel(this.view(this.image, buffer), this.statsView(this.image, buffer));
    const imageModelBytes = new Uint8Array(serializeModel(imageModel));
    const image = await ImageEncoder.create(new Uint8Array(imageModelBytes), { input: config.image.input, output: config.image.output, pooling: config.image.pooling, batchSize: config.image.batchSize });
    let resolved: ResolvedEncoders = { imageModel, imageModelBytes, image, dispose: () => image.dispose() };
    if (this.clip) {
      const textModel = this.text ? this.text.encoder.trainedModel(this.view(this.text, buffer), this.statsView(this.text, buffer)) : this.encoders.textModel!;
      const textModelBytes = new Uint8Array(serializeModel(textModel));
      const text = await TextEncoder.create(textModel, this.encoders.text!.tokenizer, { maxLength: config.text.maxLength, pooling: config.text.pooling, batchSize: config.text.batchSize });
      resolved = {
        ...resolved, textModel, textModelBytes, tokenizerJson: this.encoders.tokenizerJson, tokenizerPath: this.encoders.tokenizerPath, text,
        dispose: async () => { await image.dispose(); await text.dispose(); },
      };
    }
    const features = await computeFeatures(config, this.dataset, resolved, progress);
    return { features, encoders: resolved };
  }

  /** Releases the onnxruntime sessions of the training graphs. */
  async release(): Promise<void> {
    await this.image.encoder.release();
    await this.text?.encoder.release();
  }
}

/** Rows `rows[start .. start + count)` of the [N, C, H, W] image tensor, packed. */
function imageChunk(images: ImageTensor, rows: ArrayLike<number>, start: number, count: number): TensorLike {
  const [, c, h, w] = images.dims;
  const per = c * h * w;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) out.set(images.data.subarray(rows[start + i]! * per, (rows[start + i]! + 1) * per), i * per);
  return { type: 'float32', data: out, dims: [count, c, h, w] };
}

/** Placeholder features for fine-tuning runs before training (nothing is computed from frozen encoders). */
export function noFeatures(): FrozenFeatures {
  return { key: 'finetune', path: '', fromCache: false, imageDim: 0, image: new Float32Array(0), textDim: 0, sentences: new Float32Array(0) };
}
