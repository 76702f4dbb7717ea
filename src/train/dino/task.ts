/**
 * Mode `dino` as a Task (DINOv2 / RAD-DINO recipe, image only): a ViT student trained through the
 * autodiff and an EMA teacher, which is the loop's parameter average with DINO's momentum
 * schedule, read by every step. Multi-crop views from the augmentation kernel (keyed by seed,
 * step and image, so a resumed run renders the same views), DINO + iBOT + KoLeo losses through
 * the trainer's ops with their centers as checkpointed task state, cosine weight decay, a
 * teacher-temperature warm-up, the prototype layer frozen for the first steps, and gradient
 * clipping at dino.clipGrad.
 */
import { cosineSchedule, teacherMomentum, teacherTemperature } from '../schedules.js';
import { ParameterLayoutError } from '../../onnx/errors.js';
import { saveModel } from '../../onnx/model-io.js';
import type { TrainConfig } from '../config.js';
import type { AdamWHyper, TrainOps } from '../ops.js';
import { FlatParameters, type ParameterSpec } from '../parameters.js';
import type { ParameterAverage, Phase, StepOutput, StepShard, Task } from '../task.js';
import type { DinoConfig } from './config.js';
import type { DinoCenters } from './losses.js';
import { exportEncoder, forwardDino, type DinoModel } from './model.js';
import { DinoPlateauMonitor } from './plateau.js';
import { studentStep } from './step.js';
import { plateauWindowSteps } from './summary.js';
import { dinoAugmentSpec, makeDinoViews } from './views.js';
import type { ImageRows } from '../finetune/image-rows.js';
import type { AugmentSpec } from '../../kernels/augment-spec.js';

/** The student's flat parameters, laid out exactly as the model's training graph reads them. */
function studentParameters(model: DinoModel, seed: number): FlatParameters {
  const specs: ParameterSpec[] = model.training.layout.parameters.map((p) => ({
    name: p.name,
    shape: [...p.shape],
    init: { kind: 'values', values: model.initial.subarray(p.offset, p.offset + p.size) },
    decay: model.decayMask[p.offset] === 1,
  }));
  const params = new FlatParameters(specs, seed);
  for (const p of model.training.layout.parameters) {
    if (params.entry(p.name).offset !== p.offset)
      throw new ParameterLayoutError(
        `DINO parameter ${p.name}: flat offset ${params.entry(p.name).offset}, the training graph reads it at ${p.offset}`,
        { name: p.name },
      );
  }
  return params;
}

export interface DinoTaskInput {
  config: TrainConfig;
  /** The run's dino section. */
  dino: DinoConfig;
  /** The local crops' side in pixels (dino.crops.localSize resolved). */
  localSize: number;
  model: DinoModel;
  /** Training rows, in the order of `images`. */
  trainRows: Int32Array;
  /** Their images [N, 1, S, S] in [0, 1], read a batch at a time (the views normalise after their intensity jitter). */
  images: ImageRows;
}

export class DinoTask implements Task {
  readonly params: FlatParameters;
  readonly phases: Phase[];
  /** The teacher: an EMA of the student whose momentum rises to 1 on a cosine. */
  readonly average: ParameterAverage;
  readonly state: Readonly<Record<string, Float32Array>>;
  readonly randomStreams: readonly string[] = ['data-order/dino/<epoch>', 'views/<step>/<image>', 'param-init/<seed>'];
  readonly dataParallel = true as const;
  private readonly centers: DinoCenters;
  private readonly config: TrainConfig;
  private readonly dino: DinoConfig;
  private readonly model: DinoModel;
  private readonly images: ImageRows;
  /** The step's images, read into one reused buffer. */
  private batchPixels = new Float32Array(0);
  /** Dataset row -> index of its image in `images` (the key of its augmentation draws). */
  private readonly imageOf: Map<number, number>;
  private readonly spec: AugmentSpec;
  private readonly weightDecayAt: (step: number) => number;
  private readonly monitor: DinoPlateauMonitor;

  constructor(
    input: DinoTaskInput,
    private readonly ops: TrainOps,
  ) {
    const { config, dino, model, trainRows } = input;
    const total = config.steps;
    this.config = config;
    this.dino = dino;
    this.model = model;
    this.images = input.images;
    this.params = studentParameters(model, config.seed);
    this.average = { buffer: this.params.data.slice(), momentum: (step) => teacherMomentum(step, total, dino.schedule.momentum, 1) };
    const K = dino.head.prototypes;
    this.centers = { dino: new Float32Array(K), ibot: new Float32Array(K) };
    this.state = { 'dino.center': this.centers.dino, 'ibot.center': this.centers.ibot };
    this.imageOf = new Map(Array.from(trainRows, (row, i) => [row, i]));
    this.phases = [{ name: 'dino', steps: total, group: 'main', rows: trainRows, batchSize: config.batchSize }];
    this.spec = dinoAugmentSpec(dino, config.image.size, input.localSize, { mean: config.image.mean, std: config.image.std });
    this.weightDecayAt = cosineSchedule({ base: dino.schedule.weightDecay, final: dino.schedule.weightDecayEnd, totalSteps: total });
    this.monitor = new DinoPlateauMonitor(K, total, plateauWindowSteps(total));
  }

  private teacherTemperatureAt(step: number): number {
    const s = this.dino.schedule;
    return teacherTemperature(step, {
      warmupEpochs: Math.round(s.temperatureWarmupFraction * this.config.steps),
      warmupTemperature: s.warmupTemperature,
      temperature: s.temperature,
    });
  }

  /** The batch's images in `images`; the phase draws only training rows, so each has one. */
  private imagesOf(batch: Int32Array): Int32Array {
    return Int32Array.from(batch, (row) => {
      const index = this.imageOf.get(row);
      if (index === undefined) throw new RangeError(`dataset row ${row} is not a training row of this dino run`);
      return index;
    });
  }

  async step(_phase: Phase, batch: Int32Array, _epoch: number, step: number, shard: StepShard): Promise<StepOutput> {
    const { model, dino, params, config } = this;
    const B = batch.length;
    const size = config.image.size;
    const t0 = performance.now();
    const indices = this.imagesOf(batch);
    if (this.batchPixels.length < B * size * size) this.batchPixels = new Float32Array(B * size * size);
    const pixels = this.images.read(indices, this.batchPixels).data;
    const packed = Int32Array.from({ length: B }, (_, i) => i);
    const views = makeDinoViews(pixels, packed, size, this.spec, dino, config.seed, step, indices);
    const augmentMs = performance.now() - t0;
    const tt = this.teacherTemperatureAt(step);
    const teacher = await forwardDino(model, this.average.buffer, views.teacher, 2 * B, size);
    const losses = await studentStep(model, dino, params.data, params.grad, {
      ops: this.ops,
      views,
      teacher,
      centers: this.centers,
      teacherTemperature: tt,
      batch: B,
      parallel: shard.parallel,
    });
    // a non-finite loss returns before the backward pass; the loop stops on it
    if (!Number.isFinite(losses.loss)) return { loss: losses.loss, metrics: {} };
    // DINO's freeze_last_layer: the prototypes take no update while the features carry no signal yet
    if (step < dino.freezeLastLayerSteps) for (const [from, to] of model.lastLayer) params.grad.fill(0, from, to);
    const { dino: d, ibot, koleo } = losses.parts;
    const warning = dino.loss.dino > 0 ? this.monitor.push({ step: step + 1, dino: d, ibot, koleo }) : undefined;
    return {
      loss: losses.loss,
      metrics: {
        dino: d,
        ibot,
        koleo,
        teacherTemperature: tt,
        momentum: this.average.momentum(step),
        weightDecay: this.weightDecayAt(step),
        augmentMs,
      },
      ...(warning ? { warning } : {}),
    };
  }

  /** DINO's schedules: cosine weight decay, clipping at dino.clipGrad, no decay on the frozen prototypes. */
  updateSettings(step: number, settings: AdamWHyper): AdamWHyper {
    const frozen = step < this.dino.freezeLastLayerSteps;
    return {
      ...settings,
      weightDecay: this.weightDecayAt(step),
      maxGradNorm: this.dino.clipGrad,
      ...(frozen ? { decayMask: this.model.decayMaskFrozen } : {}),
    };
  }

  /** The teacher encoder without its head, with the [CLS, mean patch] features output. */
  exportTeacher(path: string): void {
    saveModel(exportEncoder(this.model, this.average.buffer), path);
  }
}
