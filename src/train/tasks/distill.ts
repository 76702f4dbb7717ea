/**
 * Mode `distill`: reports as privileged information (Bergström et al.). A teacher that sees the
 * report (its text feature, optionally with the image feature) is trained on the labels first;
 * the image-only student then learns from soft targets (1 - λ)·y + λ·sigmoid(g / τ). Training
 * rows without a label (outside the label fraction, or missing) learn from the teacher alone.
 */
import { globalMean } from '../../distributed/data-parallel.js';
import type { TrainConfig } from '../config.js';
import type { TrainDataset } from '../dataset.js';
import type { FrozenFeatures } from '../features.js';
import { gatherRows, Head, headSpecs, sigmoid } from '../heads.js';
import type { TrainOps } from '../ops.js';
import { FlatParameters } from '../parameters.js';
import { batchSizeFor, REPORT_MODE_STREAMS, type Phase, type StepOutput, type StepShard, type Task } from '../task.js';
import { labelTargets } from './classifier-head.js';
import { labelledRows, reportFeatures } from './report-features.js';

export class DistillTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly teacher: Head;
  readonly student: Head;
  readonly classifier: { head: Head; labels: string[] };
  readonly randomStreams = REPORT_MODE_STREAMS;
  readonly dataParallel = true as const;
  private readonly teacherDim: number;

  constructor(
    private readonly config: TrainConfig,
    private readonly dataset: TrainDataset,
    private readonly features: FrozenFeatures,
    private readonly ops: TrainOps,
  ) {
    const L = dataset.labelNames.length;
    const withImage = config.distill.teacherInput === 'text+image';
    this.teacherDim = features.textDim + (withImage ? features.imageDim : 0);
    const teacherShape = { kind: config.head.kind, inDim: this.teacherDim, outDim: L, hidden: config.head.hidden };
    const studentShape = { kind: config.head.kind, inDim: features.imageDim, outDim: L, hidden: config.head.hidden };
    this.params = new FlatParameters(
      [...headSpecs('teacher', teacherShape, 'teacher'), ...headSpecs('student', studentShape, 'student')],
      config.seed,
    );
    this.teacher = new Head(this.params, 'teacher', teacherShape, ops);
    this.student = new Head(this.params, 'student', studentShape, ops);
    this.classifier = { head: this.student, labels: dataset.labelNames };
    const train = dataset.indices('train');
    const labelled = labelledRows(dataset);
    this.phases = [
      {
        name: 'teacher',
        steps: config.distill.teacherSteps,
        group: 'teacher',
        rows: labelled,
        batchSize: batchSizeFor(config.batchSize, labelled.length),
      },
      { name: 'student', steps: config.steps, group: 'student', rows: train, batchSize: batchSizeFor(config.batchSize, train.length) },
    ];
  }

  /** The teacher's input for rows: report feature, then (text+image) the image feature. */
  teacherInput(rows: ArrayLike<number>): Float32Array {
    const text = reportFeatures(this.dataset, this.features, rows);
    if (this.teacherDim === this.features.textDim) return text;
    const { textDim, imageDim } = this.features;
    const out = new Float32Array(rows.length * this.teacherDim);
    for (let i = 0; i < rows.length; i++) {
      out.set(text.subarray(i * textDim, (i + 1) * textDim), i * this.teacherDim);
      out.set(this.features.image.subarray(rows[i]! * imageDim, (rows[i]! + 1) * imageDim), i * this.teacherDim + textDim);
    }
    return out;
  }

  step(phase: Phase, batch: Int32Array, _epoch: number, _step: number, shard: StepShard): StepOutput {
    const L = this.dataset.labelNames.length;
    const B = batch.length;
    const { targets, mask } = labelTargets(this.dataset, batch);
    const grad = new Float32Array(B * L);
    if (phase.name === 'teacher') {
      const logits = this.teacher.forward(this.teacherInput(batch), B);
      const r = this.ops.bceWithLogits(logits, targets, mask, grad, B, L, this.config.data.uncertain);
      const loss = globalMean(shard.parallel, r.loss, r.valid, grad).mean;
      this.teacher.backward(grad);
      return { loss, metrics: {} };
    }
    const { lambda, temperature } = this.config.distill;
    const teacherLogits = this.teacher.forward(this.teacherInput(batch), B, { keep: false });
    const soft = new Float32Array(B * L);
    const policy = this.config.data.uncertain;
    for (let k = 0; k < B * L; k++) {
      const q = sigmoid(teacherLogits[k]! / temperature);
      let y = targets[k]!;
      let has = mask[k] === 1;
      if (has && y === -1) {
        if (policy === 'ignore') has = false;
        else y = policy === 'ones' ? 1 : 0;
      }
      soft[k] = has ? (1 - lambda) * y + lambda * q : q;
    }
    const logits = this.student.forward(gatherRows(this.features.image, this.features.imageDim, batch), B);
    const r = this.ops.bceWithLogits(logits, soft, null, grad, B, L, 'ignore');
    const loss = globalMean(shard.parallel, r.loss, r.valid, grad).mean;
    this.student.backward(grad);
    return { loss, metrics: {} };
  }
}
