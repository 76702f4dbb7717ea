/**
 * The training loop every mode runs (the modes differ only in their Task): resume from the
 * checkpoint the run folder verified, then step by step the batch, the task's forward and
 * backward, the scheduled AdamW update of the phase's parameter group, the task's projections,
 * the parameter average, the divergence guard; step events and metrics.jsonl records;
 * checkpoints every checkpoint.every steps and at the end; stopAtStep and abort end the run
 * early with a checkpoint. The same seed gives the same numbers, and a resumed run continues
 * bit-identically. In a data-parallel job every rank runs this loop on its slice of each batch:
 * the gradient shares are summed before the (identical) update, the ranks agree on stopping, and
 * rank 0 alone writes metrics and checkpoints.
 */
import { join } from 'node:path';
import { SINGLE_PROCESS, type DataParallel } from '../distributed/data-parallel.js';
import { DistributedError } from '../distributed/mpi.js';
import { BatchSchedule } from './batches.js';
import { restoreCheckpoint, saveCheckpoint, TRAINER_CHECKPOINTS, type CheckpointState } from './checkpoint.js';
import { stemOf } from './checkpoint-store.js';
import { configHash } from './config-hash.js';
import { TrainConfigError, type TrainConfig } from './config.js';
import { TrainDataError } from './dataset.js';
import { NonFiniteLossError, asDivergence } from './errors.js';
import type { TrainEvent } from './events.js';
import { MetricsLog } from './metrics-log.js';
import type { AdamWHyper, FlatOptimizer, TrainOps } from './ops.js';
import { writeRunConfig, type RunFolder } from './run-folder.js';
import { cosineLr } from './schedules.js';
import type { ParameterAverage, Task } from './task.js';

export interface LoopOptions {
  /** Abort: the current step finishes, a checkpoint is written, the loop ends interrupted. */
  signal?: AbortSignal;
  /** Stop (with a checkpoint) after this global step, as if interrupted; the schedule still spans all steps. */
  stopAtStep?: number;
  /** The job's ranks when training data-parallel (default: this process alone). */
  parallel?: DataParallel;
}

export interface LoopOutcome {
  /** Global steps completed. */
  steps: number;
  interrupted: boolean;
  lastLoss: number;
  /** The tensors file of the last checkpoint written. */
  checkpoint: string;
  /** The parameter average (optim.ema, or the task's own such as the DINO teacher). */
  average?: Float32Array;
  metrics: MetricsLog;
}

type Emit = (e: TrainEvent) => void;

/** The task's own average, else one over every parameter when optim.ema is set. */
function averageOf(task: Task, config: TrainConfig): ParameterAverage | undefined {
  if (task.average) return task.average;
  const momentum = config.optim.ema;
  return momentum === null ? undefined : { buffer: task.params.data.slice(), momentum: () => momentum };
}

function hasNonFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return true;
  return false;
}

/** Every phase's batch splits evenly over the ranks, and the task can compute its loss from a slice. */
function checkDataParallel(task: Task, parallel: DataParallel): void {
  if (parallel.size === 1) return;
  if (task.dataParallel !== true)
    throw new DistributedError(
      `${task.dataParallel?.reason ?? 'this mode cannot train across processes yet'}; start it as one process (without mpirun or srun -n > 1)`,
      { size: parallel.size },
    );
  for (const phase of task.phases) {
    if (phase.batchSize % parallel.size !== 0)
      throw new TrainConfigError(
        `config key batchSize: phase ${phase.name}'s batch of ${phase.batchSize} rows does not split evenly over ${parallel.size} ranks; ` +
          `make it a multiple of ${parallel.size}`,
        { key: 'batchSize', batchSize: phase.batchSize, ranks: parallel.size },
      );
  }
}

export async function runLoop(
  config: TrainConfig,
  task: Task,
  ops: TrainOps,
  folder: RunFolder,
  options: LoopOptions,
  emit: Emit,
): Promise<LoopOutcome> {
  for (const phase of task.phases) {
    if (phase.rows.length === 0)
      throw new TrainDataError(`phase ${phase.name} has no training rows (check the splits, labels and data.labelFraction)`, {
        phase: phase.name,
      });
  }
  const parallel = options.parallel ?? SINGLE_PROCESS;
  checkDataParallel(task, parallel);
  // rank 0 writes the run's files; the other ranks keep the same state without writing it
  const writer = parallel.rank === 0;
  const { params } = task;
  const optimizers = new Map<string, FlatOptimizer>();
  for (const group of params.groups()) {
    const [s, e] = params.groupRange(group);
    optimizers.set(group, task.createOptimizer?.(group) ?? ops.createOptimizer(params.data.subarray(s, e), params.decayMask(group)));
  }
  const average = averageOf(task, config);
  const contents = { params, optimizers, ema: average?.buffer, state: task.state };
  const schedule = new BatchSchedule(task.phases, config.seed);
  const totalSteps = schedule.totalSteps;
  const metrics = new MetricsLog(folder.metricsPath, { write: writer });
  const hash = configHash(config);
  let step = 0;
  let lastLoss = NaN;
  let lastCheckpoint: string | undefined;

  const resumeFrom = folder.resumeFrom;
  if (resumeFrom) {
    const { state } = resumeFrom;
    restoreCheckpoint(resumeFrom, contents);
    // the loaded tensors were copied into the live buffers: free them
    folder.resumeFrom = undefined;
    lastCheckpoint = resumeFrom.tensorsPath;
    if (writer) await writeRunConfig(folder.runDir, config);
    step = state.step;
    lastLoss = state.lastLoss ?? NaN;
    schedule.expect(state.dataOrder);
    await metrics.truncateAfter(step);
    emit({
      type: 'stage',
      stage: 'resume',
      message:
        step >= totalSteps
          ? `run complete at step ${step} (${lastCheckpoint}); nothing left to train`
          : `resumed from step ${step} (${lastCheckpoint})`,
    });
  }

  const checkpoint = async (reason: 'interval' | 'final' | 'interrupt'): Promise<string> => {
    const groups: CheckpointState['optimizer']['groups'] = {};
    for (const [g, opt] of optimizers) groups[g] = { step: opt.step, range: params.groupRange(g) };
    const dataOrder = schedule.saved(step);
    // ranks that diverged would go on silently training different models
    if (!parallel.identical(params.data))
      throw new DistributedError(`the ranks' parameters differ at step ${step}; the job cannot go on`, { step });
    if (!writer) {
      lastCheckpoint = join(folder.checkpointDir, `${stemOf(TRAINER_CHECKPOINTS, step)}.safetensors`);
      return lastCheckpoint;
    }
    const path = await saveCheckpoint(
      folder.checkpointDir,
      {
        step,
        totalSteps,
        phase: dataOrder.phase,
        configHash: hash,
        rng: { kind: 'counter', seed: config.seed, streams: [...task.randomStreams] },
        dataOrder,
        optimizer: { kind: 'adamw', groups },
        ema: average !== undefined,
        lastLoss,
      },
      contents,
      config.checkpoint.keep,
    );
    lastCheckpoint = path;
    await metrics.append([{ type: 'checkpoint', step, path, reason }]);
    emit({ type: 'checkpoint', step, path, reason });
    return path;
  };

  if (!parallel.identical(params.data))
    throw new DistributedError(`the ranks start step ${step} from different parameters; the job cannot go on`, { step });
  // the steps report their own collectives, not the waits of the set-up before them
  parallel.takeCommMs();
  let interrupted = false;
  try {
    while (step < totalSteps) {
      // every rank stops at the same step when any of them is asked to
      if (parallel.any(Boolean(options.signal?.aborted) || (options.stopAtStep !== undefined && step >= options.stopAtStep))) {
        interrupted = true;
        break;
      }
      const t0 = performance.now();
      const at = schedule.position(step);
      const { phase, epoch } = at;
      const batch = schedule.batch(at);
      const t1 = performance.now();
      params.zeroGrad(phase.group);
      if (task.prefetch && step + 1 < totalSteps) {
        const next = schedule.position(step + 1);
        task.prefetch(next.phase, parallel.local(schedule.batch(next)), next.epoch, step + 1);
      }
      const out = await task.step(phase, parallel.local(batch), epoch, step, { global: batch, parallel });
      if (!Number.isFinite(out.loss)) throw new NonFiniteLossError(step + 1, phase.name, out.loss, lastCheckpoint);
      const lr = cosineLr(
        at.local,
        phase.steps,
        config.optim.lr,
        Math.min(config.optim.warmupSteps, Math.floor(phase.steps / 2)),
        config.optim.minLrRatio,
      );
      const { beta1, beta2, eps, weightDecay, maxGradNorm } = config.optim;
      const run: AdamWHyper = { lr, beta1, beta2, eps, weightDecay, maxGradNorm };
      const [gs, ge] = params.groupRange(phase.group);
      parallel.sum(params.grad.subarray(gs, ge));
      const commMs = parallel.takeCommMs();
      const gradNorm = optimizers.get(phase.group)!.update(params.grad.subarray(gs, ge), task.updateSettings?.(step, run) ?? run);
      if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(step + 1, phase.name, gradNorm, lastCheckpoint);
      task.afterUpdate?.(phase);
      if (average) ops.emaUpdate(average.buffer, params.data, average.momentum(step));
      if (hasNonFinite(params.data.subarray(gs, ge))) throw new NonFiniteLossError(step + 1, phase.name, NaN, lastCheckpoint);
      const t2 = performance.now();
      step++;
      lastLoss = out.loss;
      const event = {
        type: 'step' as const,
        step,
        totalSteps,
        phase: phase.name,
        epoch,
        loss: out.loss,
        lr,
        gradNorm,
        samplesPerSec: batch.length / Math.max(1e-9, (t2 - t0) / 1000),
        dataMs: t1 - t0,
        stepMs: t2 - t1,
        metrics: parallel.size > 1 ? { ...out.metrics, commMs } : out.metrics,
      };
      emit(event);
      if (out.warning) emit({ type: 'stage', stage: 'warning', message: out.warning });
      if (step % config.logEvery === 0 || step === totalSteps) metrics.queue(event);
      if (metrics.queued >= 50 || step % config.checkpoint.every === 0 || step === totalSteps) await metrics.flush();
      if (step % config.checkpoint.every === 0 && step < totalSteps) await checkpoint('interval');
    }
  } catch (error) {
    // keep the metrics of the steps before the failure (e.g. the losses leading to a NaN)
    await metrics.flush().catch(() => undefined);
    throw asDivergence(error, step + 1, schedule.position(Math.min(step, totalSteps - 1)).phase.name, lastCheckpoint);
  }
  await metrics.flush();
  const path = await checkpoint(interrupted ? 'interrupt' : 'final');
  return { steps: step, interrupted, lastLoss, checkpoint: path, average: average?.buffer, metrics };
}
