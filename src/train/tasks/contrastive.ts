/**
 * Mode `contrastive` (LiT-style): image and text projection heads on frozen encoders' features,
 * aligned with InfoNCE or SigLIP. Each step pairs every image with a random subset of its
 * report's sentences; the text feature of the subset is the mean of their cached embeddings.
 */
import { batchMean } from '../../distributed/data-parallel.js';
import type { TrainConfig } from '../config.js';
import { sampledSentenceIds, type TrainDataset } from '../dataset.js';
import type { FrozenFeatures } from '../features.js';
import { gatherRows, type Head } from '../heads.js';
import type { TrainOps } from '../ops.js';
import { FlatParameters } from '../parameters.js';
import { batchSizeFor, REPORT_MODE_STREAMS, type Phase, type StepOutput, type StepShard, type Task } from '../task.js';
import { ContrastiveHeads } from './contrastive-heads.js';
import { meanRows, rowsWithReports } from './report-features.js';

export class ContrastiveTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly heads: ContrastiveHeads;
  readonly projections: { imageHead: Head; textHead: Head };
  readonly randomStreams = REPORT_MODE_STREAMS;
  readonly dataParallel = true as const;

  constructor(
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    private readonly features: FrozenFeatures,
    ops: TrainOps,
  ) {
    this.params = new FlatParameters(ContrastiveHeads.specs(config, features.imageDim, features.textDim), config.seed);
    this.heads = new ContrastiveHeads(this.params, config, dataset, features.imageDim, features.textDim, ops);
    this.projections = { imageHead: this.heads.imageHead, textHead: this.heads.textHead };
    const rows = rowsWithReports(dataset);
    this.phases = [
      { name: 'contrastive', steps: config.steps, group: 'main', rows, batchSize: batchSizeFor(config.batchSize, rows.length) },
    ];
  }

  step(_phase: Phase, batch: Int32Array, epoch: number, _step: number, shard: StepShard): StepOutput {
    const { features, dataset, config } = this;
    const B = batch.length;
    const image = gatherRows(features.image, features.imageDim, batch);
    const text = new Float32Array(B * features.textDim);
    let sampled = 0;
    batch.forEach((row, i) => {
      const ids = sampledSentenceIds(dataset, row, config, epoch);
      sampled += ids.length;
      meanRows(features.sentences, features.textDim, ids, text, i * features.textDim);
    });
    const l = this.heads.loss(batch, image, text, shard);
    this.heads.imageHead.backward(l.gradImage);
    this.heads.textHead.backward(l.gradText);
    return { loss: l.loss, metrics: this.heads.metrics(l, batchMean(shard.parallel, sampled, B)) };
  }

  afterUpdate(): void {
    this.heads.clipLogitScale();
  }
}
