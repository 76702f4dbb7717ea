/**
 * Trainer mode 'dino' (DINOv2 / RAD-DINO recipe, image only): a ViT student trained through the
 * autodiff and an EMA teacher (same graph, second flat buffer), multi-crop views from the
 * augmentation kernels (local crops at their own smaller size, through a second graph of the
 * same parameters with resampled position embeddings), DINO + iBOT + KoLeo losses, cosine
 * schedules for lr (with warm-up), weight decay and teacher momentum, a teacher-temperature
 * warm-up, gradient clipping.
 * Checkpoints hold student, teacher, AdamW moments and centers; a resumed run is bit-identical
 * (data order and views are keyed by seed and step). The result is runs/<name>/encoder.onnx,
 * the teacher encoder without head, for the frozen-feature modes (supervised, distill, study).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { adamwStepSync, cosineSchedule } from '../../kernels/optim.js';
import { epochOrder } from '../data-order.js';
import { emaTeacherUpdateSync } from '../../kernels/distill.js';
import { teacherMomentum, teacherTemperature } from '../../kernels/distill-schedules.js';
import { saveModel } from '../../onnx/model-io.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { appendLines } from '../metrics-log.js';
import type { TrainConfig } from '../config.js';
import { loadTrainDataset, TrainDataError } from '../dataset.js';
import { sha256 } from '../encoders.js';
import { NonFiniteLossError, ResumeMismatchError, RunExistsError, asDivergence } from '../errors.js';
import type { TrainEvent } from '../events.js';
import { loadImages } from '../features.js';
import { cosineLr } from '../schedule.js';
import { resolveTrainOps } from '../ops.js';
import type { TrainOptions, TrainResult } from '../train.js';
import { dinoSchema, type DinoConfig } from './config.js';
import type { DinoCenters } from './losses.js';
import { resolveLocalSize } from './local-size.js';
import { createDinoModel, exportEncoder, forwardDino } from './model.js';
import { studentStep } from './step.js';
import { hasDinoCheckpoint, loadDinoCheckpointForResume, writeDinoCheckpoint } from './checkpoint.js';
import { reportStaleTempFiles } from '../stale-temp.js';
import { dinoAugmentSpec, makeDinoViews } from './views.js';
import { DinoPlateauMonitor, plateauMessage, summarizeDinoLosses, type DinoLossRecord } from './plateau.js';

/** Steps the plateau check averages over: a tenth of the run, between 10 and 100. */
function plateauWindowSteps(total: number): number {
  return Math.min(100, Math.max(10, Math.floor(total / 10)));
}

/**
 * dino-summary.json: the mean losses over the last window of logged steps (from metrics.jsonl,
 * so a resumed run counts its earlier steps) and whether the DINO loss ended on its plateau.
 */
async function writeDinoSummary(runDir: string, metricsPath: string, prototypes: number, windowSteps: number, stage: (name: string, message: string) => void): Promise<void> {
  if (!existsSync(metricsPath)) return;
  const records: DinoLossRecord[] = [];
  for (const line of (await readFile(metricsPath, 'utf8')).split('\n')) {
    if (!line) continue;
    let r: { type?: string; step?: number; metrics?: Record<string, number> };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // a line a crashed writer left half-written carries no step to summarise
    }
    if (r.type === 'step' && typeof r.step === 'number' && r.metrics) records.push({ step: r.step, dino: r.metrics.dino ?? NaN, ibot: r.metrics.ibot ?? 0, koleo: r.metrics.koleo ?? 0 });
  }
  const last = records[records.length - 1];
  if (!last) return;
  const tail = records.filter((r) => r.step > last.step - windowSteps);
  const summary = summarizeDinoLosses(tail, prototypes, tail.length)!;
  await writeJsonAtomic(join(runDir, 'dino-summary.json'), { ...summary, windowSteps });
  stage(summary.plateau ? 'warning' : 'dino', summary.plateau ? plateauMessage(summary)
    : `DINO loss ${summary.dino.toFixed(3)} = ${summary.dinoOverLogK.toFixed(2)} log K over steps ${summary.firstStep}-${summary.lastStep}: the student predicts the teacher`);
}

/** Keys that change the trained numbers (resume must match). */
function dinoHash(config: TrainConfig): string {
  const { eval: _e, export: _x, logEvery: _l, checkpoint: _c, ...rest } = config;
  return sha256('radlearn-dino-v1', JSON.stringify(rest)).slice(0, 16);
}

export async function runDinoTraining(config: TrainConfig, options: TrainOptions, emit: (e: TrainEvent) => void): Promise<TrainResult> {
  const started = performance.now();
  const ops = options.ops ?? resolveTrainOps();
  const parsed: DinoConfig = dinoSchema.parse(config.dino ?? {});
  const size = config.image.size;
  if (size % parsed.vit.patchSize !== 0) throw new TrainDataError(`config key dino.vit.patchSize: ${parsed.vit.patchSize} does not divide image.size ${size}`, { key: 'dino.vit.patchSize' });
  // resolved into the config, so config.json and the resume hash name the local size trained with
  const localSize = resolveLocalSize(parsed, size);
  const dino: DinoConfig = { ...parsed, crops: { ...parsed.crops, localSize } };
  config = { ...config, dino };
  const runDir = resolve(config.runsDir, config.name);
  const checkpointDir = join(runDir, 'checkpoints');
  const metricsPath = join(runDir, 'metrics.jsonl');
  if (hasDinoCheckpoint(checkpointDir) && !options.resume) {
    if (!options.overwrite) throw new RunExistsError(runDir);
    await rm(checkpointDir, { recursive: true, force: true });
    await rm(metricsPath, { force: true });
  }
  await reportStaleTempFiles([runDir, checkpointDir], emit);
  // verified before the costly image and model work: a damaged run fails (or falls back) at once
  let resumeFrom = options.resume ? await loadDinoCheckpointForResume(checkpointDir) : undefined;
  if (resumeFrom?.warning) emit({ type: 'stage', stage: 'warning', message: resumeFrom.warning });
  await mkdir(checkpointDir, { recursive: true });
  if (!options.resume) await writeJsonAtomic(join(runDir, 'config.json'), config);
  const stage = (name: string, message: string, progress?: number): void => emit({ type: 'stage', stage: name, message, progress });

  stage('data', `loading ${config.data.manifest}`);
  const dataset = await loadTrainDataset(config, false);
  const trainRows = dataset.indices('train');
  const B = config.batchSize;
  if (trainRows.length < B) throw new TrainDataError(`mode dino needs at least batchSize (${B}) training rows, the train split has ${trainRows.length}`);
  stage('images', `preprocessing ${trainRows.length} training images`);
  // pixels in [0, 1]: the augmentation normalises with image.mean / image.std after its intensity jitter
  const pixels = (await loadImages({ ...config, image: { ...config.image, mean: 0, std: 1 } }, Array.from(trainRows, (r) => dataset.imagePaths[r]!))).data;

  const L = dino.crops.localCount;
  // a second graph only when local crops exist and are smaller; otherwise one session as before
  const ownLocalGraph = L > 0 && localSize !== size;
  const locals = L === 0 ? 'no local crops' : `${L} local crops at ${localSize} px${ownLocalGraph ? ' (own graph, resampled positions)' : ''}`;
  stage('model', `ViT ${dino.vit.dim}x${dino.vit.depth} at ${size} px, ${locals}, head ${dino.head.hidden}/${dino.head.bottleneck}/${dino.head.prototypes}`);
  const model = await createDinoModel(dino, size, config.seed, ownLocalGraph ? { localSize } : {});
  try {
    const n = model.training.layout.size;
    const student = model.initial.slice();
    const teacher = model.initial.slice();
    const grads = new Float32Array(n);
    const moments = { m: new Float32Array(n), v: new Float32Array(n) };
    const K = dino.head.prototypes;
    const centers: DinoCenters = { dino: new Float32Array(K), ibot: new Float32Array(K) };
    const total = config.steps;
    const perEpoch = Math.max(1, Math.floor(trainRows.length / B));
    const hash = dinoHash(config);
    let step = 0;
    let lastLoss = NaN;
    let lastCheckpoint: string | undefined;
    if (resumeFrom) {
      const state = resumeFrom;
      if (state.configHash !== hash) throw new ResumeMismatchError(`cannot resume ${runDir}: the configuration differs from the one the checkpoint was made with; resume with the same config`, { runDir });
      for (const [dst, src, name] of [[student, state.student, 'student'], [teacher, state.teacher, 'teacher'], [moments.m, state.m, 'm'], [moments.v, state.v, 'v'], [centers.dino, state.dinoCenter, 'dinoCenter'], [centers.ibot, state.ibotCenter, 'ibotCenter']] as const) {
        if (dst.length !== src.length) throw new ResumeMismatchError(`cannot resume ${runDir}: checkpoint tensor ${name} has ${src.length} values, the model needs ${dst.length}`);
        dst.set(src);
      }
      step = state.step;
      lastLoss = state.lastLoss;
      lastCheckpoint = state.path;
      resumeFrom = undefined; // the loaded tensors were copied into the live buffers: free them
      if (existsSync(metricsPath)) {
        const kept = (await readFile(metricsPath, 'utf8')).split('\n').filter((l) => {
          try { const r = JSON.parse(l) as { step?: number }; return typeof r.step !== 'number' || r.step <= step; } catch { return false; }
        });
        await rm(metricsPath, { force: true });
        await appendLines(metricsPath, kept.map((l) => JSON.parse(l) as unknown));
      }
      stage('resume', `resumed from step ${step} (${lastCheckpoint})`);
    }
    const spec = dinoAugmentSpec(dino, size, localSize, { mean: config.image.mean, std: config.image.std });
    const checkpoint = async (reason: 'interval' | 'final' | 'interrupt'): Promise<void> => {
      lastCheckpoint = await writeDinoCheckpoint(checkpointDir, { step, configHash: hash, lastLoss, student, teacher, m: moments.m, v: moments.v, dinoCenter: centers.dino, ibotCenter: centers.ibot }, config.checkpoint.keep);
      await appendLines(metricsPath, [{ type: 'checkpoint', step, path: lastCheckpoint, reason }]);
      emit({ type: 'checkpoint', step, path: lastCheckpoint, reason });
    };
    const weightDecayAt = cosineSchedule({ base: dino.schedule.weightDecay, final: dino.schedule.weightDecayEnd, totalSteps: total });
    const tempWarmup = Math.round(dino.schedule.temperatureWarmupFraction * total);
    const plateauWindow = plateauWindowSteps(total);
    const monitor = new DinoPlateauMonitor(K, total, plateauWindow);
    let order = epochOrder(trainRows.length, config.seed, 'dino', Math.floor(step / perEpoch));
    let orderEpoch = Math.floor(step / perEpoch);
    let interrupted = false;
    let pending: unknown[] = [];
    while (step < total) {
      if (options.signal?.aborted || (options.stopAtStep !== undefined && step >= options.stopAtStep)) { interrupted = true; break; }
      const t0 = performance.now();
      const epoch = Math.floor(step / perEpoch);
      if (epoch !== orderEpoch) { order = epochOrder(trainRows.length, config.seed, 'dino', epoch); orderEpoch = epoch; }
      const position = step % perEpoch;
      // indices into the training-image buffer (keys of the augmentation draws)
      const rows = order.slice(position * B, (position + 1) * B);
      const views = makeDinoViews(pixels, rows, size, spec, dino, config.seed, step);
      const t1 = performance.now();
      const tt = teacherTemperature(step, { warmupEpochs: tempWarmup, warmupTemperature: dino.schedule.warmupTemperature, temperature: dino.schedule.temperature });
      const tOut = await forwardDino(model, teacher, views.teacher, 2 * B, size);
      const losses = await studentStep(model, dino, student, grads, { ops, views, teacher: tOut, centers, teacherTemperature: tt, batch: B });
      if (!Number.isFinite(losses.loss)) throw new NonFiniteLossError(step + 1, 'dino', losses.loss, lastCheckpoint);
      const frozen = step < dino.freezeLastLayerSteps;
      if (frozen) for (const [from, to] of model.lastLayer) grads.fill(0, from, to);
      const warmup = Math.min(config.optim.warmupSteps, Math.floor(total / 2));
      const lr = cosineLr(step, total, config.optim.lr, warmup, config.optim.minLrRatio);
      const weightDecay = weightDecayAt(step);
      let gradNorm: number;
      try {
        gradNorm = adamwStepSync(student, grads, moments, {
          lr, step: step + 1, beta1: config.optim.beta1, beta2: config.optim.beta2, eps: config.optim.eps, weightDecay,
          ...(dino.clipGrad > 0 ? { maxGradNorm: dino.clipGrad } : {}), decayMask: frozen ? model.decayMaskFrozen : model.decayMask,
        });
      } catch (error) {
        throw asDivergence(error, step + 1, 'dino', lastCheckpoint);
      }
      if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(step + 1, 'dino', gradNorm, lastCheckpoint);
      const momentum = teacherMomentum(step, total, dino.schedule.momentum, 1);
      emaTeacherUpdateSync(teacher, student, { momentum, checkFinite: false });
      const t2 = performance.now();
      step++;
      lastLoss = losses.loss;
      const event = {
        type: 'step' as const, step, totalSteps: total, phase: 'dino', epoch, loss: losses.loss, lr, gradNorm,
        samplesPerSec: B / Math.max(1e-9, (t2 - t0) / 1000), dataMs: t1 - t0, stepMs: t2 - t1,
        metrics: { dino: losses.parts.dino, ibot: losses.parts.ibot, koleo: losses.parts.koleo, teacherTemperature: tt, momentum, weightDecay },
      };
      emit(event);
      const warning = dino.loss.dino > 0 ? monitor.push({ step, dino: losses.parts.dino, ibot: losses.parts.ibot, koleo: losses.parts.koleo }) : undefined;
      if (warning) stage('warning', warning);
      if (step % config.logEvery === 0 || step === total) pending.push(event);
      if (pending.length >= 50 || step % config.checkpoint.every === 0 || step === total) { await appendLines(metricsPath, pending); pending = []; }
      if (step % config.checkpoint.every === 0 && step < total) await checkpoint('interval');
    }
    await appendLines(metricsPath, pending);
    if (dino.loss.dino > 0) await writeDinoSummary(runDir, metricsPath, K, plateauWindow, stage);
    await checkpoint(interrupted ? 'interrupt' : 'final');
    const encoderPath = join(runDir, 'encoder.onnx');
    if (!interrupted) {
      saveModel(exportEncoder(model, teacher), encoderPath);
      stage('export', `teacher encoder written to ${encoderPath} (use it as image.model in the supervised/distill modes or the study)`);
    }
    const result: TrainResult = {
      runDir, config, steps: step, interrupted, lastLoss, parameters: student, ema: teacher,
      parameterNames: model.training.layout.parameters.map((p) => ({ name: p.name, shape: [...p.shape], offset: p.offset })),
      checkpoint: lastCheckpoint, evaluations: [], seconds: (performance.now() - started) / 1000,
    };
    emit({ type: 'done', runDir, steps: step, seconds: result.seconds, interrupted });
    return result;
  } finally {
    await model.dispose();
  }
}
