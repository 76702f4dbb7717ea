/**
 * train(config): the whole job for one run folder (runs/<name>/):
 *   config.json, tokenizer.json (when built), metrics.jsonl, checkpoints/, report.md + SVGs +
 *   report.json, classifier.onnx.
 * Frozen features are computed once (cached); then each phase of the mode's Task runs with a
 * deterministic data order (a permutation per epoch keyed by seed/phase/epoch), so the same
 * seed gives the same numbers and a resumed run continues bit-identically.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeEvalReport } from '../eval/report/writeReport.js';
import { readLossCurve } from '../eval/report/lossCurve.js';
import { exportClassifier } from '../export/classifier.js';
import { epochOrder } from './data-order.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { appendLines } from './metrics-log.js';
import { hasCheckpoint, loadLatestCheckpoint, restoreCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { loadTrainDataset, TrainDataError } from './dataset.js';
import { resolveEncoders, sha256, type ResolvedEncoders } from './encoders.js';
import { NonFiniteLossError, ResumeMismatchError, RunExistsError, asDivergence } from './errors.js';
import { EventStream, type TrainEvent } from './events.js';
import { evaluateRun } from './evaluate-run.js';
import { computeFeatures } from './features.js';
import { resolveTrainOps, type FlatOptimizer, type TrainOps } from './ops.js';
import { cosineLr } from './schedule.js';
import { applyScaling, fitScaling } from './scaling.js';
import { createTask, type Phase, type Task } from './tasks.js';
import { isFinetuneMode } from './finetune/config.js';
import { FinetuneTask, noFeatures } from './finetune/task.js';
import { runDinoTraining } from './dino/trainer.js';
import { reportStaleTempFiles } from './stale-temp.js';

export interface TrainOptions {
  /** Continue from the newest intact checkpoint in runs/<name>/checkpoints/ (damaged ones are skipped with a warning). */
  resume?: boolean;
  /** Delete an existing run folder's checkpoints and metrics first. */
  overwrite?: boolean;
  /** Abort → a checkpoint is written, then the run ends with interrupted: true. */
  signal?: AbortSignal;
  /** Stop (with a checkpoint) after this global step, as if interrupted; the schedule still spans all steps. */
  stopAtStep?: number;
  /** Skip evaluation, report and export (checkpoints only). */
  skipEvaluation?: boolean;
  /** Operations backend (default: resolveTrainOps()). */
  ops?: TrainOps;
}

export interface TrainResult {
  runDir: string;
  config: TrainConfig;
  steps: number;
  interrupted: boolean;
  lastLoss: number;
  /** The flat parameter buffer at the end (EMA weights when optim.ema is set are in `ema`). */
  parameters: Float32Array;
  ema?: Float32Array;
  parameterNames: Array<{ name: string; shape: number[]; offset: number }>;
  checkpoint?: string;
  reportPath?: string;
  reportJsonPath?: string;
  classifierPath?: string;
  evaluations: Array<{ name: string; macroAuroc: number; perLabel: Array<{ label: string; auroc: number; ci: [number, number] }> }>;
  seconds: number;
}

/** A running training job: an async-iterable event stream (also an EventEmitter) plus the result. */
export class TrainingRun extends EventStream {
  readonly result: Promise<TrainResult>;

  constructor(work: (emit: (event: TrainEvent) => void) => Promise<TrainResult>) {
    super();
    this.result = new Promise<TrainResult>((resolveResult, reject) => {
      // start on the next tick so listeners attached right after train() see every event
      setImmediate(() => {
        work((e) => this.push(e)).then((r) => {
          this.close();
          resolveResult(r);
        }, (error: unknown) => {
          this.close(error);
          reject(error);
        });
      });
    });
    // the rejection is delivered through `result` and the iterator; avoid an unhandled-rejection crash when only one is used
    this.result.catch(() => undefined);
  }
}

export function train(config: TrainConfigInput | TrainConfig, options: TrainOptions = {}): TrainingRun {
  return new TrainingRun(async (emit) => runTraining(absolutePaths(parseTrainConfig(config)), options, emit));
}

/**
 * Relative paths resolved against the current directory once, so config.json (and a later
 * `radlearn eval` from another directory) names the same files.
 */
function absolutePaths(config: TrainConfig): TrainConfig {
  const file = (p: string): string => (p.startsWith('builtin:') || p === 'build' ? p : resolve(p));
  return {
    ...config,
    runsDir: resolve(config.runsDir),
    cacheDir: config.cacheDir === undefined ? undefined : resolve(config.cacheDir),
    data: { ...config.data, manifest: resolve(config.data.manifest) },
    image: { ...config.image, model: file(config.image.model) },
    text: { ...config.text, model: file(config.text.model), tokenizer: file(config.text.tokenizer) },
  };
}

interface Cursor {
  phaseIndex: number;
  local: number;
}

function locate(phases: Phase[], step: number): Cursor {
  let start = 0;
  for (let p = 0; p < phases.length; p++) {
    if (step < start + phases[p]!.steps) return { phaseIndex: p, local: step - start };
    start += phases[p]!.steps;
  }
  return { phaseIndex: phases.length - 1, local: phases[phases.length - 1]!.steps };
}

/** Keys that change what happens after training, or only logging/checkpoint cadence, not the numbers. */
function trainingPart(config: TrainConfig): Partial<TrainConfig> {
  const { eval: _eval, export: _export, logEvery: _log, checkpoint: _checkpoint, ...rest } = config;
  return rest;
}

/** Hash of the keys that determine the trained numbers: a resume must match it; evaluation keys may change. */
function configHash(config: TrainConfig): string {
  return sha256(JSON.stringify(trainingPart(config))).slice(0, 16);
}

async function runTraining(config: TrainConfig, options: TrainOptions, emit: (e: TrainEvent) => void): Promise<TrainResult> {
  // image-only self-distillation trains the encoder itself: its own loop (src/train/dino)
  if (config.mode === 'dino') return runDinoTraining(config, options, emit);
  const started = performance.now();
  const ops = options.ops ?? resolveTrainOps();
  const runDir = resolve(config.runsDir, config.name);
  const checkpointDir = join(runDir, 'checkpoints');
  const metricsPath = join(runDir, 'metrics.jsonl');
  if (hasCheckpoint(checkpointDir) && !options.resume) {
    if (!options.overwrite) throw new RunExistsError(runDir);
    await rm(checkpointDir, { recursive: true, force: true });
    await rm(metricsPath, { force: true });
  }
  await reportStaleTempFiles([runDir, checkpointDir], emit);
  // verified before the costly data and feature work: a damaged run fails (or falls back) at once
  let resumeFrom = options.resume ? await loadLatestCheckpoint(checkpointDir) : undefined;
  if (resumeFrom?.warning) emit({ type: 'stage', stage: 'warning', message: resumeFrom.warning });
  // the config a resumed run was started with, to name what changed if the hashes differ
  const previousConfig = options.resume ? await readFile(join(runDir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined) : undefined;
  await mkdir(checkpointDir, { recursive: true });
  // a resumed run rewrites config.json only once the checkpoint has accepted the config
  if (!options.resume) await writeJsonAtomic(join(runDir, 'config.json'), config);
  const stage = (name: string, message: string, progress?: number): void => emit({ type: 'stage', stage: name, message, progress });

  stage('data', `loading ${config.data.manifest}`);
  const needsText = config.mode !== 'supervised' && config.mode !== 'supervised-finetune';
  // encoder fine-tuning trains on the images themselves: no frozen features before training
  const finetune = isFinetuneMode(config.mode);
  const dataset = await loadTrainDataset(config, needsText);
  const trainRows = dataset.indices('train');
  if (trainRows.length === 0) throw new TrainDataError(`${config.data.manifest}: no rows in the train split`);
  stage('encoders', `${config.image.model} image encoder${needsText ? `, ${config.text.model} text encoder` : ''}`);
  const encoders: ResolvedEncoders = await resolveEncoders(config, runDir, needsText ? Array.from(trainRows, (r) => dataset.reports[r]!) : undefined);
  let finetuneTask: FinetuneTask | undefined;
  let evalEncoders: ResolvedEncoders | undefined;
  try {
    const frozen = finetune ? noFeatures() : await computeFeatures(config, dataset, encoders, stage);
    const scaling = config.head.standardize && !finetune ? {
      image: fitScaling(frozen.image, frozen.imageDim, trainRows),
      text: frozen.textDim > 0 ? fitScaling(frozen.sentences, frozen.textDim, null) : undefined,
    } : undefined;
    // heads see standardised features; evaluation and export apply/fold the same statistics
    const features = scaling ? {
      ...frozen,
      image: applyScaling(frozen.image, frozen.imageDim, scaling.image),
      sentences: scaling.text ? applyScaling(frozen.sentences, frozen.textDim, scaling.text) : frozen.sentences,
    } : frozen;
    if (finetune) finetuneTask = await FinetuneTask.create(config, dataset, encoders, ops, stage);
    const task: Task = finetuneTask ?? createTask(config, dataset, features, ops);
    for (const phase of task.phases) {
      if (phase.rows.length === 0) throw new TrainDataError(`phase ${phase.name} has no training rows (check the splits, labels and data.labelFraction)`, { phase: phase.name });
    }
    const params = task.params;
    const optimizers = new Map<string, FlatOptimizer>();
    for (const group of params.groups()) {
      const [s, e] = params.groupRange(group);
      optimizers.set(group, task.createOptimizer?.(group) ?? ops.createOptimizer(params.data.subarray(s, e), params.decayMask(group)));
    }
    const ema = config.optim.ema !== null ? params.data.slice() : undefined;
    const totalSteps = task.phases.reduce((a, p) => a + p.steps, 0);
    const hash = configHash(config);
    let step = 0;
    let lastLoss = NaN;
    let lastCheckpoint: string | undefined;
    let resumedPermutation: { phase: string; epoch: number; order: Int32Array } | undefined;

    if (resumeFrom) {
      const { state } = resumeFrom;
      if (state.configHash !== hash) {
        const keys = previousConfig === undefined ? [] : differingKeys(trainingPart(previousConfig as TrainConfig), trainingPart(config));
        throw new ResumeMismatchError(
          `cannot resume ${runDir}: the configuration differs from the one the checkpoint was made with` +
            (keys.length > 0 ? ` (changed: ${keys.join(', ')})` : ` (hash ${state.configHash} vs ${hash})`) + '; resume with the same config',
          { runDir, keys },
        );
      }
      restoreCheckpoint(resumeFrom, { params, optimizers, ema });
      lastCheckpoint = resumeFrom.tensorsPath;
      resumeFrom = undefined; // the loaded tensors were copied into the live buffers: free them
      await writeJsonAtomic(join(runDir, 'config.json'), config);
      step = state.step;
      lastLoss = state.lastLoss;
      resumedPermutation = { phase: state.dataOrder.phase, epoch: state.dataOrder.epoch, order: Int32Array.from(state.dataOrder.permutation) };
      // metrics after the checkpoint belong to the abandoned continuation
      if (existsSync(metricsPath)) {
        const kept = (await readFile(metricsPath, 'utf8')).split('\n').filter((line) => {
          if (line.trim() === '') return false;
          try {
            const r = JSON.parse(line) as { step?: number; type?: string };
            // evaluations belong to a completed continuation; they are redone at the end
            return r.type !== 'eval' && (typeof r.step !== 'number' || r.step <= step);
          } catch {
            return false;
          }
        });
        await writeFileAtomic(metricsPath, kept.map((l) => `${l}\n`).join(''));
      }
      stage('resume', step >= totalSteps ? `run complete at step ${step} (${lastCheckpoint}); evaluating again` : `resumed from step ${step} (${lastCheckpoint})`);
    }

    const orderCache = new Map<string, Int32Array>();
    const orderFor = (phase: Phase, epoch: number): Int32Array => {
      const key = `${phase.name}:${epoch}`;
      let order = orderCache.get(key);
      if (!order) {
        order = epochOrder(phase.rows.length, config.seed, phase.name, epoch);
        if (resumedPermutation && resumedPermutation.phase === phase.name && resumedPermutation.epoch === epoch) {
          if (resumedPermutation.order.length !== order.length || resumedPermutation.order.some((v, i) => v !== order![i])) {
            throw new ResumeMismatchError(`cannot resume: the data order saved in the checkpoint (phase ${phase.name}, epoch ${epoch}) differs from the one this data gives; the manifest or splits changed`);
          }
        }
        orderCache.clear();
        orderCache.set(key, order);
      }
      return order;
    };
    const positionOf = (step: number): { phase: Phase; epoch: number; position: number; local: number } => {
      const c = locate(task.phases, step);
      const phase = task.phases[c.phaseIndex]!;
      const perEpoch = Math.max(1, Math.floor(phase.rows.length / phase.batchSize));
      return { phase, epoch: Math.floor(c.local / perEpoch), position: c.local % perEpoch, local: c.local };
    };
    const checkpoint = async (reason: 'interval' | 'final' | 'interrupt'): Promise<void> => {
      const at = positionOf(Math.min(step, totalSteps - 1));
      const groups: CheckpointState['optimizer']['groups'] = {};
      for (const [g, opt] of optimizers) groups[g] = { step: opt.step, range: params.groupRange(g) };
      lastCheckpoint = await saveCheckpoint(checkpointDir, {
        step, totalSteps, phase: at.phase.name, configHash: hash,
        rng: { kind: 'counter', seed: config.seed, streams: ['data-order/<phase>/<epoch>', 'sentences/<epoch>/<row>', 'param-init/<name>'] },
        dataOrder: { phase: at.phase.name, epoch: at.epoch, position: at.position, permutation: Array.from(orderFor(at.phase, at.epoch)) },
        optimizer: { kind: 'adamw', groups },
        ema: ema !== undefined,
        lastLoss,
      }, { params, optimizers, ema }, config.checkpoint.keep);
      await appendLines(metricsPath, [{ type: 'checkpoint', step, path: lastCheckpoint, reason }]);
      emit({ type: 'checkpoint', step, path: lastCheckpoint, reason });
    };

    let interrupted = false;
    let pending: unknown[] = [];
    try {
      while (step < totalSteps) {
        if (options.signal?.aborted || (options.stopAtStep !== undefined && step >= options.stopAtStep)) {
          interrupted = true;
          break;
        }
        const t0 = performance.now();
        const { phase, epoch, position, local } = positionOf(step);
        const order = orderFor(phase, epoch);
        const batch = Int32Array.from(order.subarray(position * phase.batchSize, (position + 1) * phase.batchSize), (i) => phase.rows[i]!);
        const t1 = performance.now();
        params.zeroGrad(phase.group);
        const out = await task.step(phase, batch, epoch, step);
        if (!Number.isFinite(out.loss)) throw new NonFiniteLossError(step + 1, phase.name, out.loss, lastCheckpoint);
        const lr = cosineLr(local, phase.steps, config.optim.lr, Math.min(config.optim.warmupSteps, Math.floor(phase.steps / 2)), config.optim.minLrRatio);
        const [gs, ge] = params.groupRange(phase.group);
        const gradNorm = optimizers.get(phase.group)!.update(params.grad.subarray(gs, ge), {
          lr, beta1: config.optim.beta1, beta2: config.optim.beta2, eps: config.optim.eps, weightDecay: config.optim.weightDecay, maxGradNorm: config.optim.maxGradNorm,
        });
        if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(step + 1, phase.name, gradNorm, lastCheckpoint);
        task.afterUpdate(phase);
        if (ema) ops.emaUpdate(ema, params.data, config.optim.ema!);
        let finite = true;
        for (let i = gs; i < ge; i++) if (!Number.isFinite(params.data[i]!)) { finite = false; break; }
        if (!finite) throw new NonFiniteLossError(step + 1, phase.name, NaN, lastCheckpoint);
        const t2 = performance.now();
        step++;
        lastLoss = out.loss;
        const event = {
          type: 'step' as const, step, totalSteps, phase: phase.name, epoch, loss: out.loss, lr, gradNorm,
          samplesPerSec: batch.length / Math.max(1e-9, (t2 - t0) / 1000), dataMs: t1 - t0, stepMs: t2 - t1, metrics: out.metrics,
        };
        emit(event);
        if (step % config.logEvery === 0 || step === totalSteps) pending.push(event);
        if (pending.length >= 50 || step % config.checkpoint.every === 0 || step === totalSteps) {
          await appendLines(metricsPath, pending);
          pending = [];
        }
        if (step % config.checkpoint.every === 0 && step < totalSteps) await checkpoint('interval');
      }
    } catch (error) {
      // keep the metrics of the steps before the failure (e.g. the losses leading to a NaN)
      await appendLines(metricsPath, pending).catch(() => undefined);
      throw asDivergence(error, step + 1, positionOf(Math.min(step, totalSteps - 1)).phase.name, lastCheckpoint);
    }
    await appendLines(metricsPath, pending);
    await checkpoint(interrupted ? 'interrupt' : 'final');

    const result: TrainResult = {
      runDir, config, steps: step, interrupted, lastLoss, parameters: params.data, ema,
      parameterNames: params.entries.map((e) => ({ name: e.name, shape: e.shape, offset: e.offset })),
      checkpoint: lastCheckpoint, evaluations: [], seconds: 0,
    };
    if (!interrupted && !options.skipEvaluation) {
      stage('evaluate', 'evaluating on the test split');
      // fine-tuned runs are evaluated on the trained encoders' features
      const trained = finetuneTask ? await finetuneTask.evaluationInputs(ema ?? params.data, stage) : undefined;
      evalEncoders = trained?.encoders;
      const evalFeatures = trained?.features ?? features;
      const evaluation = await evaluateRun(config, dataset, evalFeatures, trained?.encoders ?? encoders, task, ops, ema ?? params.data, scaling, trained?.features.image ?? frozen.image);
      for (const ev of evaluation.evaluations) {
        const summary = { name: ev.name, macroAuroc: ev.macro.auroc, perLabel: ev.perLabel.map((l) => ({ label: l.label, auroc: l.auroc, ci: l.aurocCI })) };
        result.evaluations.push(summary);
        emit({ type: 'eval', ...summary });
        await appendLines(metricsPath, [{ type: 'eval', step, ...summary }]);
      }
      const curves = [await readLossCurve(metricsPath, `${config.mode} loss`, { type: 'step' })];
      const files = await writeEvalReport(runDir, {
        title: `radlearn run ${config.name} (${config.mode})`,
        meta: {
          mode: config.mode, steps: step, batchSize: config.batchSize, seed: config.seed, imageModel: config.image.model,
          textModel: needsText ? config.text.model : 'none', imageSize: config.image.size, trainStudies: trainRows.length,
          testStudies: dataset.indices('test').length, backend: ops.backend, featureCache: (trained?.features ?? frozen).fromCache ? 'hit' : 'computed', standardized: Boolean(scaling),
        },
        evaluations: evaluation.evaluations,
        sweeps: evaluation.sweeps,
        lossCurves: curves,
        notes: evaluation.notes,
      });
      result.reportPath = files.markdown;
      result.reportJsonPath = files.json;
      if (config.export && evaluation.classifier) {
        const exported = exportClassifier({ encoder: (trained?.encoders ?? encoders).imageModel, encoderOutput: encoders.image.outputName, layers: evaluation.classifier.layers, labels: evaluation.classifier.labels, out: join(runDir, 'classifier.onnx') });
        result.classifierPath = exported.path;
        stage('export', `classifier.onnx (${evaluation.classifier.source}) written to ${exported.path}`);
      }
    }
    result.seconds = (performance.now() - started) / 1000;
    emit({ type: 'done', runDir, steps: step, seconds: result.seconds, reportPath: result.reportPath, classifierPath: result.classifierPath, interrupted });
    return result;
  } finally {
    await finetuneTask?.release();
    await evalEncoders?.dispose();
    await encoders.dispose();
  }
}

/** Dotted paths whose values differ between two JSON-like values. */
function differingKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => differingKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(root)'];
}
