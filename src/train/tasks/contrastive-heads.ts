/**
 * The contrastive head step that the frozen-encoder `contrastive` mode and `clip-finetune` share:
 * image and text projection heads forward, InfoNCE/SigLIP (label groups, positive-pair
 * relaxation) with the learnable temperature a = exp(l) and the SigLIP bias, and their
 * gradients. The callers run the heads' backward: on frozen features it stops at the heads, over
 * trainable encoders it returns the gradient their training graphs start from. Across the ranks of
 * a data-parallel job the loss is the global batch's (open_clip's gather_with_grad): each rank
 * projects its rows, the projections are gathered, every rank computes the whole loss, and each
 * keeps the gradient of its own rows.
 */
import type { TrainConfig } from '../config.js';
import { reportGroups, type TrainDataset } from '../dataset.js';
import { Head, headSpecs, type HeadShape } from '../heads.js';
import type { TrainOps } from '../ops.js';
import type { FlatParameters, ParameterSpec } from '../parameters.js';
import type { StepShard } from '../task.js';

export interface ContrastiveLoss {
  loss: number;
  /** The temperature a = exp(l) the loss used. */
  logitScale: number;
  /** The SigLIP bias the loss used. */
  bias?: number;
  /** d loss / d image and text projections: what the heads' backward starts from. */
  gradImage: Float32Array;
  gradText: Float32Array;
}

function shapes(config: TrainConfig, imageDim: number, textDim: number): { image: HeadShape; text: HeadShape } {
  const { kind, hidden, projectionDim } = config.head;
  return { image: { kind, inDim: imageDim, outDim: projectionDim, hidden }, text: { kind, inDim: textDim, outDim: projectionDim, hidden } };
}

export class ContrastiveHeads {
  readonly imageHead: Head;
  readonly textHead: Head;
  private readonly groups: Int32Array | undefined;
  private readonly siglip: boolean;

  /** The heads' parameters, in the order they take in the flat buffer (after any encoder's). */
  static specs(config: TrainConfig, imageDim: number, textDim: number): ParameterSpec[] {
    const { loss } = config;
    const s = shapes(config, imageDim, textDim);
    const scaleInit = loss.logitScaleInit ?? (loss.kind === 'siglip' ? 10 : 1 / 0.07);
    const specs: ParameterSpec[] = [
      ...headSpecs('image_projection', s.image),
      ...headSpecs('text_projection', s.text),
      {
        name: 'logit_scale',
        shape: [1],
        init: { kind: 'constant', value: Math.log(Math.min(scaleInit, loss.maxLogitScale)) },
        decay: false,
      },
    ];
    if (loss.kind === 'siglip')
      specs.push({ name: 'logit_bias', shape: [1], init: { kind: 'constant', value: loss.biasInit }, decay: false });
    return specs;
  }

  constructor(
    private readonly params: FlatParameters,
    private readonly config: TrainConfig,
    dataset: TrainDataset,
    imageDim: number,
    textDim: number,
    private readonly ops: TrainOps,
  ) {
    const s = shapes(config, imageDim, textDim);
    this.imageHead = new Head(params, 'image_projection', s.image, ops);
    this.textHead = new Head(params, 'text_projection', s.text, ops);
    this.groups = config.loss.groups === 'labels' ? reportGroups(dataset) : undefined;
    this.siglip = config.loss.kind === 'siglip';
  }

  /**
   * Both heads forward on this rank's image and text features [b, dim] (activations kept for
   * their backward), the loss over the global batch, and the gradients of the temperature and
   * the bias accumulated (by rank 0 alone: every rank computes the same ones). The returned
   * gradients are this rank's rows'.
   */
  loss(batch: Int32Array, image: Float32Array, text: Float32Array, shard: StepShard): ContrastiveLoss {
    const { config, params, groups } = this;
    const { parallel, global } = shard;
    const b = batch.length;
    const dim = config.head.projectionDim;
    const zi = parallel.gatherRows(this.imageHead.forward(image, b));
    const zt = parallel.gatherRows(this.textHead.forward(text, b));
    const a = Math.exp(params.view('logit_scale')[0]!);
    const bias = this.siglip ? params.view('logit_bias')[0]! : undefined;
    const result = this.ops.contrastive(zi, zt, {
      batch: global.length,
      dim,
      kind: config.loss.kind,
      logitScale: a,
      bias,
      groups: groups ? Int32Array.from(global, (r) => groups[r]!) : undefined,
      relaxThreshold: config.loss.relaxThreshold ?? undefined,
    });
    if (parallel.rank === 0) {
      // l = log a is the parameter: dL/dl = a * dL/da
      if (config.loss.learnLogitScale) params.gradView('logit_scale')[0]! += a * result.gradLogitScale;
      if (this.siglip) params.gradView('logit_bias')[0]! += result.gradBias;
    }
    const mine = (grad: Float32Array): Float32Array =>
      parallel.size === 1 ? grad : grad.subarray(parallel.rank * b * dim, (parallel.rank + 1) * b * dim);
    return {
      loss: result.loss,
      logitScale: a,
      ...(bias === undefined ? {} : { bias }),
      gradImage: mine(result.gradImage),
      gradText: mine(result.gradText),
    };
  }

  /** The step's metrics in their usual order, with `extra` before the SigLIP bias. */
  metrics(l: ContrastiveLoss, sentencesPerSample: number, extra: Record<string, number> = {}): Record<string, number> {
    return { logitScale: l.logitScale, sentencesPerSample, ...extra, ...(l.bias === undefined ? {} : { logitBias: l.bias }) };
  }

  /** After each update a = exp(l) is clipped at loss.maxLogitScale (100 by default), as CLIP does. */
  clipLogitScale(): void {
    if (!this.config.loss.learnLogitScale) return;
    const l = this.params.view('logit_scale');
    const max = Math.log(this.config.loss.maxLogitScale);
    if (l[0]! > max) l[0] = max;
  }
}
