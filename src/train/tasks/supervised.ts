/**
 * Mode `supervised`: a linear or MLP classifier head on frozen image features, trained with
 * multi-label BCE on the training rows inside data.labelFraction.
 */
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import type { FrozenFeatures } from '../features.js';
import { gatherRows, type Head } from '../heads.js';
import type { TrainOps } from '../ops.js';
import { FlatParameters } from '../parameters.js';
import { batchSizeFor, REPORT_MODE_STREAMS, type Phase, type StepOutput, type StepShard, type Task } from '../task.js';
import { ClassifierHead } from './classifier-head.js';
import { labelledRows } from './report-features.js';

export class SupervisedTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly head: ClassifierHead;
  readonly classifier: { head: Head; labels: string[] };
  readonly randomStreams = REPORT_MODE_STREAMS;
  readonly dataParallel = true as const;

  constructor(
    config: TrainConfig,
    dataset: TrainDataset,
    private readonly features: FrozenFeatures,
    ops: TrainOps,
  ) {
    this.params = new FlatParameters(ClassifierHead.specs(config, dataset, features.imageDim), config.seed);
    this.head = new ClassifierHead(this.params, config, dataset, features.imageDim, ops);
    this.classifier = { head: this.head.head, labels: dataset.labelNames };
    const rows = labelledRows(dataset);
    this.phases = [
      { name: 'supervised', steps: config.steps, group: 'main', rows, batchSize: batchSizeFor(config.batchSize, rows.length) },
    ];
  }

  step(_phase: Phase, batch: Int32Array, _epoch: number, _step: number, shard: StepShard): StepOutput {
    const r = this.head.step(batch, gatherRows(this.features.image, this.features.imageDim, batch), shard.parallel);
    return { loss: r.loss, metrics: { validLabels: r.valid } };
  }
}
