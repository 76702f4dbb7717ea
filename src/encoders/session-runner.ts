import type { TensorLike } from '../onnx/tensor.js';
import { currentDeviceContext } from '../device/context.js';
import { planProviders, sessionOptions, settleSession } from '../device/session-factory.js';
import { type ExecutionProvider, type ProviderResolution, resolveExecutionProviders } from './execution-providers.js';
import { EncoderInputError } from './errors.js';
import type { ModelSource } from './model-source.js';
import { RunnerGroup } from './runner-group.js';

/** A graph input or output as the session reports it. */
export interface IoMetadata {
  name: string;
  /** onnxruntime's element type name ('float32', 'int64', ...), absent for non-tensors. */
  type?: string;
  /** Dimensions; strings are symbolic (e.g. 'batch'); empty when the model leaves the shape open. */
  shape: readonly (number | string)[];
}

export interface SessionInfo {
  /** The model path, or a description of in-memory bytes. */
  label: string;
  inputs: readonly IoMetadata[];
  outputs: readonly IoMetadata[];
  /** Providers the session was created with. */
  executionProviders: readonly string[];
  /** Why a requested provider is not in use (CPU fallback), if one was dropped. */
  fallbackReason?: string;
  mode: 'worker' | 'in-process';
  /** Sessions of the model that run batches at once (a RunnerGroup); absent: one. */
  sessions?: number;
}

/** Runs one onnxruntime session, in a worker thread or in this thread. */
export interface SessionRunner {
  readonly info: SessionInfo;
  /**
   * Runs the model. With `transfer`, feed buffers that a tensor owns entirely are moved to the
   * worker instead of copied (they are detached afterwards): pass it only for buffers you made for this call.
   */
  run(
    feeds: Record<string, TensorLike>,
    options?: { outputNames?: readonly string[]; transfer?: boolean },
  ): Promise<Record<string, TensorLike>>;
  /**
   * Feeds added to every run (e.g. parameter views). In process they are kept by reference, so
   * in-place changes to their buffers are seen by later runs; a worker receives a copy.
   */
  setStaticFeeds(feeds: Record<string, TensorLike>): Promise<void>;
  dispose(): Promise<void>;
}

export interface SessionOptions {
  /**
   * Providers to ask for, in order of preference (default: the training run's device inside
   * train(), else ['cpu']); unavailable ones fall back to CPU with a reason.
   */
  executionProviders?: readonly ExecutionProvider[];
  /** Providers known to be usable (e.g. from backendInfo()); others are dropped before trying. */
  availableProviders?: readonly string[];
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  intraOpNumThreads?: number;
  /**
   * Let onnxruntime's idle threads busy-wait for work (onnxruntime's own default is true). radlearn
   * defaults to false: the main thread loads data and runs kernels while a session runs, and on a
   * busy 2-core machine spinning threads made runs 1.6x slower in our measurements.
   */
  allowSpinning?: boolean;
  /**
   * Worker sessions of the model (default 1), each on its own thread with `intraOpNumThreads`
   * threads; an encoder spreads its batches over them. Ignored with `inProcess`.
   */
  sessions?: number;
  /**
   * Run the session on this thread instead of a worker. onnxruntime-node's run blocks the event loop
   * for its whole duration, so this suits tiny models and tests only. Default false.
   */
  inProcess?: boolean;
}

/**
 * Opens the model's session in a worker (or in process). Without `executionProviders`, a session
 * made inside a training run asks for the run's providers (src/device) and is recorded with it;
 * outside a run it uses the CPU.
 */
export async function createSessionRunner(source: ModelSource, options: SessionOptions = {}): Promise<SessionRunner> {
  const sessions = options.inProcess ? 1 : (options.sessions ?? 1);
  if (!Number.isInteger(sessions) || sessions < 1)
    throw new EncoderInputError(`sessions must be a positive integer, got ${options.sessions}`);
  if (sessions === 1) return openRunner(source, options, true);
  // the first session is recorded in the run's context for all of them
  const first = await openRunner(source, options, true, sessions);
  const rest = await Promise.allSettled(Array.from({ length: sessions - 1 }, () => openRunner(source, options, false)));
  const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all([first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))].map((r) => r.dispose()));
    throw failed.reason;
  }
  return new RunnerGroup([first, ...rest.map((r) => (r as PromiseFulfilledResult<SessionRunner>).value)]);
}

async function openRunner(source: ModelSource, options: SessionOptions, record: boolean, sessions = 1): Promise<SessionRunner> {
  const context = currentDeviceContext();
  const requested = options.executionProviders ?? planProviders(context);
  // the run's plan already checked its providers; asking onnxruntime for them records onnxruntime's own answer
  const resolution: ProviderResolution =
    options.executionProviders === undefined && context
      ? { providers: [...requested] }
      : resolveExecutionProviders(requested, { available: options.availableProviders });
  const made = options.inProcess
    ? await (await import('./in-process-runner.js')).createInProcessRunner(source, resolution, threadOptions(options))
    : await (await import('./worker-runner.js')).createWorkerRunner(source, resolution, threadOptions(options));
  if (!record) return made;
  try {
    settleSession({
      label: made.info.label,
      requested: requested.map((p) => p.toLowerCase()),
      providers: [...made.info.executionProviders],
      ...(made.info.fallbackReason ? { fallbackReason: made.info.fallbackReason } : {}),
      ...(sessions > 1 ? { workers: sessions } : {}),
    });
  } catch (error) {
    await made.dispose();
    throw error;
  }
  return made;
}

/** Thread settings every runner passes to onnxruntime (structured-cloneable, for the worker). */
export interface ThreadOptions {
  intraOpNumThreads?: number;
  allowSpinning: boolean;
}

function threadOptions(o: SessionOptions): ThreadOptions {
  return { intraOpNumThreads: o.intraOpNumThreads, allowSpinning: o.allowSpinning ?? false };
}

/** onnxruntime SessionOptions for the given providers and thread settings (the session factory's). */
export function ortSessionOptions(providers: readonly string[], t: ThreadOptions): Record<string, unknown> {
  return { ...sessionOptions(providers, t) };
}
