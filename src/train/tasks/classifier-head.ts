/**
 * The classifier head step that the frozen-encoder `supervised` mode and `supervised-finetune`
 * share: a linear or MLP head over image features, multi-label BCE-with-logits with missing
 * labels masked and uncertain ones following data.uncertain, and the gradient down to the
 * features when the encoder underneath trains too.
 */
import { globalMean, type DataParallel } from '../../distributed/data-parallel.js';
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import { Head, headSpecs, type HeadShape } from '../heads.js';
import type { TrainOps } from '../ops.js';
import type { FlatParameters, ParameterSpec } from '../parameters.js';

/** BCE targets and mask for rows: labels as given; missing, or outside the label fraction: masked. */
export function labelTargets(dataset: TrainDataset, rows: ArrayLike<number>): { targets: Float32Array; mask: Float32Array } {
  const L = dataset.labelNames.length;
  const targets = new Float32Array(rows.length * L);
  const mask = new Float32Array(rows.length * L);
  for (let i = 0; i < rows.length; i++) {
    for (let l = 0; l < L; l++) {
      const v = dataset.labels[rows[i]! * L + l]!;
      const present = Number.isFinite(v) && dataset.labelled[rows[i]!] === 1;
      targets[i * L + l] = present ? v : 0;
      mask[i * L + l] = present ? 1 : 0;
    }
  }
  return { targets, mask };
}

export interface ClassifierHeadResult {
  /** The mean over the global batch's label entries that counted. */
  loss: number;
  /** Label entries that counted, in the global batch. */
  valid: number;
}

export class ClassifierHead {
  readonly head: Head;

  static shape(config: TrainConfig, dataset: TrainDataset, imageDim: number): HeadShape {
    return { kind: config.head.kind, inDim: imageDim, outDim: dataset.labelNames.length, hidden: config.head.hidden };
  }

  /** The head's parameters, in the order they take in the flat buffer (after any encoder's). */
  static specs(config: TrainConfig, dataset: TrainDataset, imageDim: number): ParameterSpec[] {
    return headSpecs('classifier', ClassifierHead.shape(config, dataset, imageDim));
  }

  constructor(
    params: FlatParameters,
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    imageDim: number,
    private readonly ops: TrainOps,
  ) {
    this.head = new Head(params, 'classifier', ClassifierHead.shape(config, dataset, imageDim), ops);
  }

  /** Head forward on the batch's image features [B, dim], the loss, head backward (parameter gradients only). */
  step(batch: Int32Array, image: Float32Array, parallel: DataParallel): ClassifierHeadResult {
    const { loss, valid, grad } = this.lossOf(batch, image, parallel);
    this.head.backward(grad);
    return { loss, valid };
  }

  /** step() for features from a trainable encoder: also returns d loss / d features. */
  stepThrough(batch: Int32Array, image: Float32Array, parallel: DataParallel): ClassifierHeadResult & { dInput: Float32Array } {
    const { loss, valid, grad } = this.lossOf(batch, image, parallel);
    return { loss, valid, dInput: this.head.backward(grad, { inputGrad: true }) };
  }

  private lossOf(batch: Int32Array, image: Float32Array, parallel: DataParallel): ClassifierHeadResult & { grad: Float32Array } {
    const B = batch.length;
    const L = this.dataset.labelNames.length;
    const logits = this.head.forward(image, B);
    const { targets, mask } = labelTargets(this.dataset, batch);
    const grad = new Float32Array(B * L);
    const r = this.ops.bceWithLogits(logits, targets, mask, grad, B, L, this.config.data.uncertain);
    const all = globalMean(parallel, r.loss, r.valid, grad);
    return { loss: all.mean, valid: all.count, grad };
  }
}
