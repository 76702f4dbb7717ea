/**
 * What each mode trains, as a Task: its parameters, its phases (each phase updates one parameter
 * group with its own optimizer over its own rows), and the step that computes the loss and
 * accumulates gradients into the flat gradient buffer. The loop around it is mode-agnostic.
 */
import type { TrainConfig } from './config.js';
import type { TrainDataset } from './dataset.js';
import { reportGroups, sampledSentenceIds } from './dataset.js';
import type { FrozenFeatures } from './features.js';
import { gatherRows, Head, headSpecs, sigmoid } from './heads.js';
import type { FlatOptimizer, TrainOps } from './ops.js';
import { FlatParameters, type ParameterSpec } from './parameters.js';

export interface Phase {
  name: string;
  steps: number;
  group: string;
  /** Dataset rows the phase draws batches from. */
  rows: Int32Array;
  batchSize: number;
}

export interface StepOutput {
  loss: number;
  metrics: Record<string, number>;
}

export interface Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  /**
   * Forward + backward for one batch; gradients are accumulated into params.grad (zeroed by the loop).
   * `step`: the run's global step index (0-based), to key per-step randomness so a resumed run repeats it.
   */
  step(phase: Phase, batch: Int32Array, epoch: number, step: number): StepOutput | Promise<StepOutput>;
  /** The optimizer of a parameter group when the task needs its own (e.g. per-group learning rates). */
  createOptimizer?(group: string): FlatOptimizer | undefined;
  /** Projections after an optimizer update (e.g. clipping the logit scale). */
  afterUpdate(phase: Phase): void;
  /** The image-only classifier head and its input standardisation, if the mode trains one. */
  classifier?: { head: Head; labels: string[] };
}

const rowsWhere = (indices: Int32Array, keep: (row: number) => boolean): Int32Array => indices.filter(keep);

/** Mean of the cached embeddings of `ids` (rows of a [S, dim] table) written at out[offset..]. */
function meanRows(table: Float32Array, dim: number, ids: readonly number[], out: Float32Array, offset: number): void {
  for (const id of ids) for (let k = 0; k < dim; k++) out[offset + k]! += table[id * dim + k]!;
  const n = Math.max(1, ids.length);
  for (let k = 0; k < dim; k++) out[offset + k]! /= n;
}

/** Every sentence of each row, averaged: the report-level text feature (teacher input, evaluation). */
export function reportFeatures(dataset: TrainDataset, features: FrozenFeatures, rows: ArrayLike<number>): Float32Array {
  const dim = features.textDim;
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    meanRows(features.sentences, dim, Array.from(dataset.rowSentences.subarray(dataset.rowOffsets[r]!, dataset.rowOffsets[r + 1]!)), out, i * dim);
  }
  return out;
}

function batchFor(config: TrainConfig, rows: number): number {
  return Math.max(1, Math.min(config.batchSize, rows));
}

export class ContrastiveTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly imageHead: Head;
  readonly textHead: Head;
  private readonly groups: Int32Array | undefined;
  private readonly maxLogLogitScale: number;

  constructor(private readonly config: TrainConfig, private readonly dataset: TrainDataset, private readonly features: FrozenFeatures, private readonly ops: TrainOps) {
    const { head, loss } = config;
    const p = head.projectionDim;
    const siglip = loss.kind === 'siglip';
    const scaleInit = loss.logitScaleInit ?? (siglip ? 10 : 1 / 0.07);
    const specs: ParameterSpec[] = [
      ...headSpecs('image_projection', { kind: head.kind, inDim: features.imageDim, outDim: p, hidden: head.hidden }),
      ...headSpecs('text_projection', { kind: head.kind, inDim: features.textDim, outDim: p, hidden: head.hidden }),
      { name: 'logit_scale', shape: [1], init: { kind: 'constant', value: Math.log(Math.min(scaleInit, loss.maxLogitScale)) }, decay: false },
    ];
    if (siglip) specs.push({ name: 'logit_bias', shape: [1], init: { kind: 'constant', value: loss.biasInit }, decay: false });
    this.params = new FlatParameters(specs, config.seed);
    this.imageHead = new Head(this.params, 'image_projection', { kind: head.kind, inDim: features.imageDim, outDim: p, hidden: head.hidden }, ops);
    this.textHead = new Head(this.params, 'text_projection', { kind: head.kind, inDim: features.textDim, outDim: p, hidden: head.hidden }, ops);
    this.groups = loss.groups === 'labels' ? reportGroups(dataset) : undefined;
    this.maxLogLogitScale = Math.log(loss.maxLogitScale);
    const rows = rowsWhere(dataset.indices('train'), (r) => dataset.rowOffsets[r + 1]! > dataset.rowOffsets[r]!);
    this.phases = [{ name: 'contrastive', steps: config.steps, group: 'main', rows, batchSize: batchFor(config, rows.length) }];
  }

  step(_phase: Phase, batch: Int32Array, epoch: number): StepOutput {
    const { features, dataset, config, params } = this;
    const B = batch.length;
    const x = gatherRows(features.image, features.imageDim, batch);
    const t = new Float32Array(B * features.textDim);
    let sampled = 0;
    batch.forEach((row, i) => {
      const ids = sampledSentenceIds(dataset, row, config, epoch);
      sampled += ids.length;
      meanRows(features.sentences, features.textDim, ids, t, i * features.textDim);
    });
    const zi = this.imageHead.forward(x, B);
    const zt = this.textHead.forward(t, B);
    const logScale = params.view('logit_scale')[0]!;
    const a = Math.exp(logScale);
    const siglip = config.loss.kind === 'siglip';
    const result = this.ops.contrastive(zi, zt, {
      batch: B, dim: config.head.projectionDim, kind: config.loss.kind, logitScale: a,
      bias: siglip ? params.view('logit_bias')[0]! : undefined,
      groups: this.groups ? Int32Array.from(batch, (r) => this.groups![r]!) : undefined,
      relaxThreshold: config.loss.relaxThreshold ?? undefined,
    });
    this.imageHead.backward(result.gradImage);
    this.textHead.backward(result.gradText);
    // l = log a is the parameter: dL/dl = a * dL/da
    if (config.loss.learnLogitScale) params.gradView('logit_scale')[0]! += a * result.gradLogitScale;
    if (siglip) params.gradView('logit_bias')[0]! += result.gradBias;
    const metrics: Record<string, number> = { logitScale: a, sentencesPerSample: sampled / B };
    if (siglip) metrics.logitBias = params.view('logit_bias')[0]!;
    return { loss: result.loss, metrics };
  }

  afterUpdate(): void {
    const l = this.params.view('logit_scale');
    if (!this.config.loss.learnLogitScale) return;
    // a = exp(l) is clipped at maxLogitScale (100 by default), as CLIP does
    if (l[0]! > this.maxLogLogitScale) l[0] = this.maxLogLogitScale;
  }
}

/** BCE targets/mask for rows: labels as given, NaN → masked. */
function labelTargets(dataset: TrainDataset, rows: ArrayLike<number>): { targets: Float32Array; mask: Float32Array } {
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

export class SupervisedTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly head: Head;
  readonly classifier: { head: Head; labels: string[] };

  constructor(private readonly config: TrainConfig, private readonly dataset: TrainDataset, private readonly features: FrozenFeatures, private readonly ops: TrainOps) {
    const shape = { kind: config.head.kind, inDim: features.imageDim, outDim: dataset.labelNames.length, hidden: config.head.hidden };
    this.params = new FlatParameters(headSpecs('classifier', shape), config.seed);
    this.head = new Head(this.params, 'classifier', shape, ops);
    this.classifier = { head: this.head, labels: dataset.labelNames };
    const rows = rowsWhere(dataset.indices('train'), (r) => dataset.labelled[r] === 1);
    this.phases = [{ name: 'supervised', steps: config.steps, group: 'main', rows, batchSize: batchFor(config, rows.length) }];
  }

  step(_phase: Phase, batch: Int32Array): StepOutput {
    const L = this.dataset.labelNames.length;
    const logits = this.head.forward(gatherRows(this.features.image, this.features.imageDim, batch), batch.length);
    const { targets, mask } = labelTargets(this.dataset, batch);
    const grad = new Float32Array(logits.length);
    const r = this.ops.bceWithLogits(logits, targets, mask, grad, batch.length, L, this.config.data.uncertain);
    this.head.backward(grad);
    return { loss: r.loss, metrics: { validLabels: r.valid } };
  }

  afterUpdate(): void {}
}

/**
 * Reports as privileged information (Bergström et al.): a teacher that sees the report (its
 * text feature, optionally with the image feature) is trained on the labels first; the
 * image-only student then learns from soft targets (1 - λ)·y + λ·sigmoid(g / τ). Training rows
 * without a label (outside the label fraction, or missing) learn from the teacher alone.
 */
export class DistillTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  readonly teacher: Head;
  readonly student: Head;
  readonly classifier: { head: Head; labels: string[] };
  private readonly teacherDim: number;

  constructor(private readonly config: TrainConfig, private readonly dataset: TrainDataset, private readonly features: FrozenFeatures, private readonly ops: TrainOps) {
    const L = dataset.labelNames.length;
    const withImage = config.distill.teacherInput === 'text+image';
    this.teacherDim = features.textDim + (withImage ? features.imageDim : 0);
    const teacherShape = { kind: config.head.kind, inDim: this.teacherDim, outDim: L, hidden: config.head.hidden };
    const studentShape = { kind: config.head.kind, inDim: features.imageDim, outDim: L, hidden: config.head.hidden };
    this.params = new FlatParameters([...headSpecs('teacher', teacherShape, 'teacher'), ...headSpecs('student', studentShape, 'student')], config.seed);
    this.teacher = new Head(this.params, 'teacher', teacherShape, ops);
    this.student = new Head(this.params, 'student', studentShape, ops);
    this.classifier = { head: this.student, labels: dataset.labelNames };
    const train = dataset.indices('train');
    const labelledRows = rowsWhere(train, (r) => dataset.labelled[r] === 1);
    this.phases = [
      { name: 'teacher', steps: config.distill.teacherSteps, group: 'teacher', rows: labelledRows, batchSize: batchFor(config, labelledRows.length) },
      { name: 'student', steps: config.steps, group: 'student', rows: train, batchSize: batchFor(config, train.length) },
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

  step(phase: Phase, batch: Int32Array): StepOutput {
    const L = this.dataset.labelNames.length;
    const B = batch.length;
    const { targets, mask } = labelTargets(this.dataset, batch);
    const grad = new Float32Array(B * L);
    if (phase.name === 'teacher') {
      const logits = this.teacher.forward(this.teacherInput(batch), B);
      const r = this.ops.bceWithLogits(logits, targets, mask, grad, B, L, this.config.data.uncertain);
      this.teacher.backward(grad);
      return { loss: r.loss, metrics: {} };
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
    this.student.backward(grad);
    return { loss: r.loss, metrics: {} };
  }

  afterUpdate(): void {}
}

export function createTask(config: TrainConfig, dataset: TrainDataset, features: FrozenFeatures, ops: TrainOps): Task {
  if (config.mode === 'contrastive') return new ContrastiveTask(config, dataset, features, ops);
  if (config.mode === 'supervised') return new SupervisedTask(config, dataset, features, ops);
  return new DistillTask(config, dataset, features, ops);
}
