/**
 * train(config): the whole job for one run folder (runs/<name>/): config.json, tokenizer.json
 * (when built), metrics.jsonl, checkpoints/, then the mode's results (report.md + SVGs +
 * report.json and classifier.onnx; or the DINO teacher's encoder.onnx). Every mode runs the same
 * loop (loop.ts) over its Task; the mode's session sets the task up and wraps the run up.
 */
import { resolve } from 'node:path';
import { DeviceContext, runWithDevice } from '../device/context.js';
import { describeDevicePlan, resolveDevicePlan, type DevicePlan } from '../device/plan.js';
import { deviceReport, writeDeviceReport, type DeviceReport } from '../device/report.js';
import { dataParallel, SINGLE_PROCESS, type DataParallel } from '../distributed/data-parallel.js';
import { coresForThisProcess, launchEnvironment } from '../distributed/launch.js';
import { setThreads } from '../native/backend.js';
import { DistributedError, mpiWorld } from '../distributed/mpi.js';
import { agreeOnText, isAgreedFailure, rankZeroFirst } from '../distributed/turns.js';
import { configHash } from './config-hash.js';
import { dataParallelSupport, finetuneConfigOf } from './finetune/setup.js';
import { isFinetuneMode } from './finetune/config.js';
import { parseTrainConfig, TrainConfigError, type TrainConfig, type TrainConfigInput } from './config.js';
import { openDinoSession } from './dino/session.js';
import { withEncoderSidecars } from './encoder-sidecars.js';
import { resolveDinoRunConfig } from './dino/run-config.js';
import { EventStream, type TrainEvent } from './events.js';
import { openHeadModeSession } from './head-modes.js';
import { runLoop } from './loop.js';
import { resolveTrainOps, type TrainOps } from './ops.js';
import { openRunFolder } from './run-folder.js';

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
  /** Write the report, its figures and predictions.csv into this existing folder instead of the run folder. */
  evalDir?: string;
  /** Operations backend (default: radlearn's kernels on the device plan's backend). */
  ops?: TrainOps;
  /** The device plan to run on instead of resolving config.device here (e.g. one plan for several runs). */
  device?: DevicePlan;
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
  /** report.html: report.md's tables with the figures embedded and the most confident errors as thumbnails. */
  reportHtmlPath?: string;
  /** predictions.csv: the test split's per-case scores (see src/train/predictions.ts). */
  predictionsPath?: string;
  classifierPath?: string;
  evaluations: Array<{ name: string; macroAuroc: number; perLabel: Array<{ label: string; auroc: number; ci: [number, number] }> }>;
  /** Where onnxruntime and the kernels ran (and why the CPU), with every onnxruntime session; also in device.json. */
  device: DeviceReport;
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
        work((e) => this.push(e)).then(
          (r) => {
            this.close();
            resolveResult(r);
          },
          (error: unknown) => {
            this.close(error);
            reject(error);
          },
        );
      });
    });
    // the rejection is delivered through `result` and the iterator; avoid an unhandled-rejection crash when only one is used
    this.result.catch(() => undefined);
  }
}

export function train(config: TrainConfigInput | TrainConfig, options: TrainOptions = {}): TrainingRun {
  return new TrainingRun(async (emit) =>
    runTraining(withModeDefaults(withEncoderSidecars(absolutePaths(parseTrainConfig(config)))), options, emit),
  );
}

/** Settings a mode resolves before the run records its config (the DINO local crop size). */
function withModeDefaults(config: TrainConfig): TrainConfig {
  return config.mode === 'dino' ? resolveDinoRunConfig(config) : config;
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
    data: {
      ...config.data,
      manifest: resolve(config.data.manifest),
      ...(config.data.cache === undefined ? {} : { cache: resolve(config.data.cache) }),
    },
    image: { ...config.image, model: file(config.image.model) },
    text: { ...config.text, model: file(config.text.model), tokenizer: file(config.text.tokenizer) },
  };
}

/** Why `config` cannot train data-parallel, known before any work (the loop checks the task itself too). */
function dataParallelRefusal(config: TrainConfig): string | undefined {
  if (isFinetuneMode(config.mode)) {
    const support = dataParallelSupport(finetuneConfigOf(config));
    if (support !== true) return support.reason;
  }
  return undefined;
}

/** This process alone, or the ranks mpirun or srun started (then MPI is loaded and initialised). */
function jobParallelism(config: TrainConfig): DataParallel {
  const launch = launchEnvironment();
  if (launch.size === 1) return SINGLE_PROCESS;
  const refusal = dataParallelRefusal(config);
  if (refusal)
    throw new DistributedError(
      `this process is rank ${launch.rank} of ${launch.size} (${launch.launcher}): ${refusal}; start it as one process (without mpirun or srun -n > 1)`,
      { rank: launch.rank, size: launch.size, launcher: launch.launcher },
    );
  if (config.batchSize % launch.size !== 0)
    throw new TrainConfigError(
      `config key batchSize: the global batch of ${config.batchSize} rows does not split evenly over ${launch.size} ranks; make it a multiple of ${launch.size}`,
      { key: 'batchSize', batchSize: config.batchSize, ranks: launch.size },
    );
  // the kernels' threads, like the workers and sessions, share the node's cores with the other ranks on it
  if (launch.localSize > 1 && !process.env.RADLEARN_THREADS?.trim()) setThreads(coresForThisProcess());
  const world = mpiWorld();
  if (world.size !== launch.size || world.rank !== launch.rank)
    throw new DistributedError(
      `the launcher says rank ${launch.rank} of ${launch.size} (${launch.launcher}), MPI says rank ${world.rank} of ${world.size}`,
      { launcher: launch.launcher },
    );
  return dataParallel(world);
}

async function runTraining(config: TrainConfig, options: TrainOptions, emit: (e: TrainEvent) => void): Promise<TrainResult> {
  const started = performance.now();
  const parallel = jobParallelism(config);
  if (parallel.size === 1) return runJob(config, options, emit, parallel, started);
  try {
    agreeOnText(parallel, configHash(config), 'the training configuration');
    return await runJob(config, options, emit, parallel, started);
  } catch (error) {
    if (isAgreedFailure(error)) throw error;
    // the other ranks wait in a collective this rank will never join: end the whole job
    const message = error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
    process.stderr.write(`radlearn: rank ${parallel.rank} of ${parallel.size} failed, ending the job: ${message}\n`);
    return mpiWorld().abort(1);
  }
}

async function runJob(
  config: TrainConfig,
  options: TrainOptions,
  emit: (e: TrainEvent) => void,
  parallel: DataParallel,
  started: number,
): Promise<TrainResult> {
  // before any data is read: device 'cuda' where it cannot run fails here
  const device = new DeviceContext(options.device ?? (await resolveDevicePlan(config.device)));
  const where = describeDevicePlan(device.plan);
  emit({
    type: 'stage',
    stage: 'device',
    message: `device ${config.device}: onnxruntime on ${where.onnxruntime}, kernels on ${where.kernels}`,
  });
  return runWithDevice(device, () => runOnDevice(config, options, emit, device, started, parallel));
}

async function runOnDevice(
  config: TrainConfig,
  options: TrainOptions,
  emit: (e: TrainEvent) => void,
  device: DeviceContext,
  started: number,
  parallel: DataParallel,
): Promise<TrainResult> {
  const ops = options.ops ?? resolveTrainOps(device.plan.kernels.device);
  // rank 0 alone writes the run folder, the report and the exported model
  const writer = parallel.rank === 0;
  // verified before the costly data and model work: a damaged or mismatched run fails (or falls back) at once
  const folder = await rankZeroFirst(parallel, 'opening the run folder', () =>
    openRunFolder(config, { ...options, follower: !writer }, emit),
  );
  // an evaluation of a finished run (radlearn eval) records its device in its own folder, once it has a report there
  if (!options.evalDir && writer) await writeDeviceReport(folder.runDir, device);
  // rank 0 fills the image and feature caches first; the other ranks then read them
  const session = await rankZeroFirst(
    parallel,
    'loading the data and encoders',
    () => (config.mode === 'dino' ? openDinoSession(config, ops, folder, emit) : openHeadModeSession(config, ops, folder, emit)),
    (s) => s.release(),
  );
  try {
    const { task } = session;
    const outcome = await runLoop(config, task, ops, folder, { ...options, parallel }, emit);
    const results = writer ? await session.finish(outcome, options) : { evaluations: [] };
    const seconds = (performance.now() - started) / 1000;
    const result: TrainResult = {
      runDir: folder.runDir,
      config,
      steps: outcome.steps,
      interrupted: outcome.interrupted,
      lastLoss: outcome.lastLoss,
      parameters: task.params.data,
      ema: outcome.average,
      parameterNames: task.params.entries.map((e) => ({ name: e.name, shape: e.shape, offset: e.offset })),
      checkpoint: outcome.checkpoint,
      ...results,
      device: deviceReport(device),
      seconds,
    };
    if (writer && (!options.evalDir || results.reportPath)) await writeDeviceReport(options.evalDir ?? folder.runDir, device);
    emit({
      type: 'done',
      runDir: folder.runDir,
      steps: outcome.steps,
      seconds,
      reportPath: result.reportPath,
      classifierPath: result.classifierPath,
      interrupted: outcome.interrupted,
    });
    return result;
  } finally {
    await session.release();
  }
}
