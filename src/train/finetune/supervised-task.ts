/**
 * Mode `supervised-finetune`: the image encoder (its training graph) and a classifier head on
 * the labelled training rows, BCE with the mask/uncertainty policy, in the run's one flat buffer
 * (encoder parameters first, then the head). Per step: embeddings (forward-only, chunked) ->
 * head -> loss -> d loss / d embedding -> training graph chunk by chunk (gradient caching).
 */
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import type { ResolvedEncoders } from '../encoders.js';
import { computeFeatures, type FeatureProgress } from '../features.js';
import type { Head } from '../heads.js';
import type { FlatOptimizer, TrainOps } from '../ops.js';
import { FlatParameters } from '../parameters.js';
import { batchSizeFor, REPORT_MODE_STREAMS, type Phase, type StepOutput, type StepShard, type Task } from '../task.js';
import { dataParallelSupport } from './setup.js';
import { ClassifierHead } from '../tasks/classifier-head.js';
import { labelledRows } from '../tasks/report-features.js';
import type { FinetuneConfig } from './config.js';
import type { ChunkPool } from './chunk-pool.js';
import { chunkPoolFor } from './chunk-workers.js';
import type { EncoderSlot } from './encoder-slot.js';
import { trainedImageEncoder, type EvaluationInputs } from './evaluation-encoders.js';
import type { ImageFeeds } from './image-feeds.js';
import { segmentedOptimizer } from './segmented-optimizer.js';
import { applyInitFrom, createImageSlot, finetuneConfigOf, loadImageFeeds, releasingOnError, slotSelection } from './setup.js';

export class SupervisedFinetuneTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly head: ClassifierHead;
  readonly classifier: { head: Head; labels: string[] };
  readonly randomStreams = REPORT_MODE_STREAMS;
  readonly dataParallel: true | { reason: string };

  private constructor(
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    private readonly ft: FinetuneConfig,
    private readonly image: EncoderSlot,
    /** The worker threads the encoder's chunks run on (absent: this thread). */
    private readonly pool: ChunkPool | undefined,
    private readonly feeds: ImageFeeds,
    imageDim: number,
    ops: TrainOps,
  ) {
    this.dataParallel = dataParallelSupport(ft);
    this.params = new FlatParameters([...image.specs(), ...ClassifierHead.specs(config, dataset, imageDim)], config.seed);
    this.head = new ClassifierHead(this.params, config, dataset, imageDim, ops);
    this.classifier = { head: this.head.head, labels: dataset.labelNames };
    const rows = labelledRows(dataset);
    this.phases = [
      { name: 'supervised-finetune', steps: config.steps, group: 'main', rows, batchSize: batchSizeFor(config.batchSize, rows.length) },
    ];
  }

  static async create(
    config: TrainConfig,
    dataset: TrainDataset,
    encoders: ResolvedEncoders,
    ops: TrainOps,
    progress?: FeatureProgress,
  ): Promise<SupervisedFinetuneTask> {
    const ft = finetuneConfigOf(config);
    const selection = slotSelection(ft);
    const pool = chunkPoolFor(config, ft);
    let image: EncoderSlot | undefined;
    let imageFeeds: ImageFeeds | undefined;
    return releasingOnError(
      () => [image, imageFeeds, pool],
      async () => {
        const imageSlot = await createImageSlot(config, encoders, selection, pool, progress);
        image = imageSlot;
        const { feeds, imageDim } = await loadImageFeeds(config, dataset, encoders, imageSlot, ft, progress);
        imageFeeds = feeds;
        const task = new SupervisedFinetuneTask(config, dataset, ft, imageSlot, pool, feeds, imageDim, ops);
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

  async step(_phase: Phase, batch: Int32Array, _epoch: number, step: number, shard: StepShard): Promise<StepOutput> {
    const { params, image } = this;
    const B = batch.length;
    const chunk = this.ft.chunkSize;
    image.encoder.forwardMs = image.encoder.backwardMs = 0;
    const { inputs, augmentMs } = await this.feeds.batch(batch, step);
    const embedded = await image.embed(params, B, chunk, inputs);
    const r = this.head.stepThrough(batch, embedded.data, shard.parallel);
    await image.backward(params, B, embedded.dim, chunk, inputs, r.dInput);
    const augmentMetric: Record<string, number> = augmentMs === undefined ? {} : { augmentMs };
    return {
      loss: r.loss,
      metrics: { validLabels: r.valid, forwardMs: image.encoder.forwardMs, backwardMs: image.encoder.backwardMs, ...augmentMetric },
    };
  }

  /** The trained image encoder (parameters from `buffer`: live or EMA) and its features, for evaluation. */
  async evaluationInputs(buffer: Float32Array, progress?: FeatureProgress): Promise<EvaluationInputs> {
    const encoders = await trainedImageEncoder(this.config, this.image, this.params, buffer);
    return { features: await computeFeatures(this.config, this.dataset, encoders, progress), encoders };
  }

  /** Releases the onnxruntime sessions of the training graph, the image source and the chunk workers. */
  async release(): Promise<void> {
    await this.image.release();
    await this.feeds.release();
    await this.pool?.release();
  }
}
