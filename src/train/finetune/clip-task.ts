/**
 * Mode `clip-finetune`: the image and text encoders (autodiff training graphs), the projection
 * heads and the learnable temperature, with the contrastive mode's head step (InfoNCE/SigLIP,
 * label groups, positive-pair relaxation) and sentence sampling; the sampled sentences are
 * joined and tokenised, so the text encoder sees exactly the sampled text every step. With
 * finetune.trainText false the text encoder stays frozen (its projection head still trains).
 * Everything trainable lives in the run's one flat buffer: image encoder, text encoder, heads,
 * logit scale. Per step: embeddings (forward-only, chunked) -> heads -> loss -> d loss /
 * d embeddings -> training graphs chunk by chunk (gradient caching).
 */
import { TextEncoder } from '../../encoders/text-encoder.js';
import { serializeModel } from '../../onnx/model-io.js';
import type { ModelProto } from '../../onnx/proto.js';
import type { TensorLike } from '../../onnx/tensor.js';
import { TrainConfigError, type TrainConfig } from '../config.js';
import { sampledSentenceIds, type TrainDataset } from '../dataset.js';
import { textEncoderOptions, textInputRole, type ResolvedEncoders } from '../encoders.js';
import { computeFeatures, type FeatureProgress } from '../features.js';
import type { Head } from '../heads.js';
import type { FlatOptimizer, TrainOps } from '../ops.js';
import { FlatParameters } from '../parameters.js';
import { batchMean } from '../../distributed/data-parallel.js';
import { batchSizeFor, REPORT_MODE_STREAMS, type Phase, type StepOutput, type StepShard, type Task } from '../task.js';
import { dataParallelSupport } from './setup.js';
import { ContrastiveHeads } from '../tasks/contrastive-heads.js';
import { rowsWithReports } from '../tasks/report-features.js';
import type { FinetuneConfig } from './config.js';
import { EncoderSlot, TEXT_PREFIX } from './encoder-slot.js';
import { trainedImageEncoder, type EvaluationInputs } from './evaluation-encoders.js';
import { feedNames, type ImageFeeds } from './image-feeds.js';
import { segmentedOptimizer } from './segmented-optimizer.js';
import type { ChunkPool } from './chunk-pool.js';
import { chunkPoolFor } from './chunk-workers.js';
import { applyInitFrom, createImageSlot, finetuneConfigOf, loadImageFeeds, releasingOnError, slotSelection } from './setup.js';
import type { ChunkInputs } from './trainable-encoder.js';

/** The frozen text encoder the run was given: it embeds the sampled text when the text side does not train. */
interface TextModel {
  model: ModelProto;
  encoder: TextEncoder;
  tokenizerJson?: string;
  tokenizerPath?: string;
}

export class ClipFinetuneTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly heads: ContrastiveHeads;
  readonly projections: { imageHead: Head; textHead: Head };
  readonly randomStreams = REPORT_MODE_STREAMS;
  readonly dataParallel: true | { reason: string };
  private readonly image: EncoderSlot;
  /** The trainable text encoder; absent with finetune.trainText false. */
  private readonly text: EncoderSlot | undefined;
  /** The worker threads both encoders' chunks run on (absent: this thread). */
  private readonly pool: ChunkPool | undefined;

  private constructor(
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    private readonly ft: FinetuneConfig,
    slots: { image: EncoderSlot; text: EncoderSlot | undefined; pool: ChunkPool | undefined },
    private readonly feeds: ImageFeeds,
    private readonly textModel: TextModel,
    dims: { image: number; text: number },
    ops: TrainOps,
  ) {
    const { image, text } = slots;
    this.dataParallel = dataParallelSupport(ft);
    this.image = image;
    this.text = text;
    this.pool = slots.pool;
    this.params = new FlatParameters(
      [...image.specs(), ...(text?.specs() ?? []), ...ContrastiveHeads.specs(config, dims.image, dims.text)],
      config.seed,
    );
    this.heads = new ContrastiveHeads(this.params, config, dataset, dims.image, dims.text, ops);
    this.projections = { imageHead: this.heads.imageHead, textHead: this.heads.textHead };
    const rows = rowsWithReports(dataset);
    this.phases = [
      { name: 'clip-finetune', steps: config.steps, group: 'main', rows, batchSize: batchSizeFor(config.batchSize, rows.length) },
    ];
  }

  static async create(
    config: TrainConfig,
    dataset: TrainDataset,
    encoders: ResolvedEncoders,
    ops: TrainOps,
    progress?: FeatureProgress,
  ): Promise<ClipFinetuneTask> {
    const ft = finetuneConfigOf(config);
    const selection = slotSelection(ft);
    const pool = chunkPoolFor(config, ft);
    let image: EncoderSlot | undefined;
    let text: EncoderSlot | undefined;
    let imageFeeds: ImageFeeds | undefined;
    return releasingOnError(
      () => [image, text, imageFeeds, pool],
      async () => {
        const imageSlot = await createImageSlot(config, encoders, selection, pool, progress);
        image = imageSlot;
        if (!encoders.textModel || !encoders.text)
          throw new TrainConfigError('clip-finetune needs a text encoder (config key text.model)', { key: 'text.model' });
        const textModel: TextModel = {
          model: encoders.textModel,
          encoder: encoders.text,
          tokenizerJson: encoders.tokenizerJson,
          tokenizerPath: encoders.tokenizerPath,
        };
        if (ft.trainText) {
          progress?.('encoders', 'differentiating the text encoder into its training graph');
          text = await EncoderSlot.create(encoders.textModel, encoders.text.outputName, TEXT_PREFIX, config.text.model, selection, pool);
        }
        const { feeds, imageDim } = await loadImageFeeds(config, dataset, encoders, imageSlot, ft, progress);
        imageFeeds = feeds;
        const textDim = (await encoders.text.encode(['probe'])).dims[1]!;
        const slots = { image: imageSlot, text, pool };
        const task = new ClipFinetuneTask(config, dataset, ft, slots, feeds, textModel, { image: imageDim, text: textDim }, ops);
        await applyInitFrom(task.params, ft, progress);
        return task;
      },
    );
  }

  prefetch(_phase: Phase, batch: Int32Array, _epoch: number, step: number): void {
    this.feeds.prefetch(batch, step);
  }

  createOptimizer(group: string): FlatOptimizer {
    return segmentedOptimizer(this.params, group, this.ft.groups);
  }

  /** Token feeds of `texts`, chunked like the images. */
  private textInputs(texts: string[]): ChunkInputs {
    const tok = this.textModel.encoder.tokenizer.encodeBatch(texts, { maxLength: this.config.text.maxLength, padding: 'longest' });
    const names = feedNames(this.textModel.model);
    const T = tok.inputIds.dims[1]!;
    const slice = (t: TensorLike<BigInt64Array>, s: number, e: number): TensorLike => ({
      type: 'int64',
      data: t.data.subarray(s * T, e * T),
      dims: [e - s, T],
    });
    return (s, e) => {
      const feeds: Record<string, TensorLike> = {};
      for (const n of names) {
        const role = textInputRole(n, this.config);
        if (role === 'ids') feeds[n] = slice(tok.inputIds, s, e);
        else if (role === 'mask') feeds[n] = slice(tok.attentionMask, s, e);
        else if (role === 'types') feeds[n] = { type: 'int64', data: new BigInt64Array((e - s) * T), dims: [e - s, T] };
      }
      return feeds;
    };
  }

  async step(_phase: Phase, batch: Int32Array, epoch: number, step: number, shard: StepShard): Promise<StepOutput> {
    const { params, image, text, heads } = this;
    const B = batch.length;
    const chunk = this.ft.chunkSize;
    for (const slot of [image, text]) if (slot) slot.encoder.forwardMs = slot.encoder.backwardMs = 0;
    const { inputs: imageIn, augmentMs } = await this.feeds.batch(batch, step);
    const texts: string[] = [];
    let sampled = 0;
    batch.forEach((row) => {
      const ids = sampledSentenceIds(this.dataset, row, this.config, epoch);
      sampled += ids.length;
      texts.push(ids.map((id) => this.dataset.sentences[id]!).join(' '));
    });
    // the trainable text encoder is fed tokens chunk by chunk; the frozen one embeds the text itself
    const trainable = text ? { slot: text, inputs: this.textInputs(texts) } : undefined;
    // the two encoders are independent until the loss and after it: on chunk workers their chunks interleave
    const [ei, et] = await Promise.all([
      image.embed(params, B, chunk, imageIn),
      trainable
        ? trainable.slot.embed(params, B, chunk, trainable.inputs)
        : this.textModel.encoder.encode(texts).then((o) => ({ data: o.data, dim: o.dims[1]! })),
    ]);
    const l = heads.loss(batch, ei.data, et.data, shard);
    const dImage = heads.imageHead.backward(l.gradImage, { inputGrad: true });
    const dText = trainable ? heads.textHead.backward(l.gradText, { inputGrad: true }) : heads.textHead.backward(l.gradText);
    await Promise.all([
      image.backward(params, B, ei.dim, chunk, imageIn, dImage),
      trainable && dText ? trainable.slot.backward(params, B, et.dim, chunk, trainable.inputs, dText) : undefined,
    ]);
    const timings = {
      forwardMs: image.encoder.forwardMs + (text?.encoder.forwardMs ?? 0),
      backwardMs: image.encoder.backwardMs + (text?.encoder.backwardMs ?? 0),
      ...(augmentMs === undefined ? {} : { augmentMs }),
    };
    return { loss: l.loss, metrics: heads.metrics(l, batchMean(shard.parallel, sampled, B), timings) };
  }

  afterUpdate(): void {
    this.heads.clipLogitScale();
  }

  /** The trained encoders (parameters from `buffer`: live or EMA) and their features, for evaluation. */
  async evaluationInputs(buffer: Float32Array, progress?: FeatureProgress): Promise<EvaluationInputs> {
    const { config } = this;
    const imageSide = await trainedImageEncoder(config, this.image, this.params, buffer);
    const textModel = this.text ? this.text.trainedModel(this.params, buffer) : this.textModel.model;
    const textModelBytes = new Uint8Array(serializeModel(textModel));
    const text = await TextEncoder.create(textModel, this.textModel.encoder.tokenizer, textEncoderOptions(config));
    const encoders: ResolvedEncoders = {
      ...imageSide,
      textModel,
      textModelBytes,
      tokenizerJson: this.textModel.tokenizerJson,
      tokenizerPath: this.textModel.tokenizerPath,
      text,
      dispose: async () => {
        await imageSide.image.dispose();
        await text.dispose();
      },
    };
    return { features: await computeFeatures(config, this.dataset, encoders, progress), encoders };
  }

  /** Releases the onnxruntime sessions of the training graphs and the chunk workers. */
  async release(): Promise<void> {
    await this.image.release();
    await this.text?.release();
    await this.feeds.release();
    await this.pool?.release();
  }
}
