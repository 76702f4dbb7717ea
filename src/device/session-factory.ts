/**
 * The one place onnxruntime sessions are made: training graphs, forward-only encoder graphs, the
 * composed classifier, and (through sessionOptions and settleSession) the encoders' worker
 * sessions. A session asks for the providers of the run it is created in (context.ts), or the
 * CPU outside a run; when the CUDA provider fails to initialise, a run with `device: 'auto'` goes
 * on with the CPU and records why, and a run with `device: 'cuda'` fails with
 * DeviceUnavailableError. Every session is recorded in the run's context.
 */
import * as ort from 'onnxruntime-node';
import { currentDeviceContext, type DeviceContext, type SessionRecord } from './context.js';
import { operatorsWithoutCudaKernel } from './cuda-operators.js';
import { coresForThisProcess, launchEnvironment } from '../distributed/launch.js';
import { DeviceUnavailableError } from './errors.js';

/** Thread settings every session gets; structured-cloneable, so a worker thread can receive them. */
export interface ThreadOptions {
  /**
   * onnxruntime intra-op threads (default: onnxruntime's choice, all cores; in one of several
   * processes of a job on this machine, its share of the cores).
   */
  intraOpNumThreads?: number;
  /**
   * Let idle intra-op threads busy-wait (onnxruntime's own default). radlearn defaults to false:
   * spinning threads of one session slow every other session and process on a small machine.
   */
  allowSpinning?: boolean;
}

/** The providers a session created here should ask for: the run's plan, or the CPU outside a run. */
export function planProviders(context: DeviceContext | undefined = currentDeviceContext()): string[] {
  return context?.plan.onnxruntime.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

/** A provider as onnxruntime takes it: a name, or a name with options ({ name: 'cuda', deviceId: 1 }). */
export type ProviderConfig = ort.InferenceSession.ExecutionProviderConfig;

export function providerName(p: ProviderConfig): string {
  return (typeof p === 'string' ? p : p.name).toLowerCase();
}

/** onnxruntime SessionOptions for the given providers and thread settings (graph optimisation on). */
export function sessionOptions(providers: readonly ProviderConfig[], threads: ThreadOptions = {}): ort.InferenceSession.SessionOptions {
  const spin = threads.allowSpinning ? '1' : '0';
  const intraOpNumThreads = threads.intraOpNumThreads ?? (launchEnvironment().localSize > 1 ? coresForThisProcess() : undefined);
  return {
    executionProviders: [...providers],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
    ...(intraOpNumThreads === undefined ? {} : { intraOpNumThreads }),
  };
}

export interface OrtSessionRequest extends ThreadOptions {
  /** Names the model in errors and in the run's session records. */
  label: string;
  /** Providers to ask for instead of the run's (e.g. the availability probe). */
  providers?: readonly ProviderConfig[];
  /** Further onnxruntime options (profiling, ...); providers and threads come from the fields above. */
  options?: ort.InferenceSession.SessionOptions;
  /** When the providers fail to initialise, retry on the CPU alone (default: unless the run asked for device 'cuda'). */
  fallback?: boolean;
  /** Keep a record in the run's context (default true). */
  record?: boolean;
}

/**
 * Creates an onnxruntime session for `model` (ONNX bytes or a file path) on the run's providers
 * and records it in the run's context. Errors that are not about a provider (a malformed model)
 * are rethrown as onnxruntime gave them.
 */
export async function createOrtSession(model: Uint8Array | string, request: OrtSessionRequest): Promise<ort.InferenceSession> {
  const { session, record } = await openOrtSession(model, request);
  if (request.record !== false) currentDeviceContext()?.record(record);
  return session;
}

/** createOrtSession without recording: the session and what its record would be. */
export async function openOrtSession(
  model: Uint8Array | string,
  request: OrtSessionRequest,
): Promise<{ session: ort.InferenceSession; record: SessionRecord }> {
  const context = currentDeviceContext();
  const configs = request.providers ?? planProviders(context);
  const requested = configs.map(providerName);
  const open = (providers: readonly ProviderConfig[]): Promise<ort.InferenceSession> => {
    const options = { ...request.options, ...sessionOptions(providers, request) };
    return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
  };
  let session: ort.InferenceSession;
  let providers = requested;
  let fallbackReason: string | undefined;
  try {
    session = await open(configs);
  } catch (cause) {
    if (requested.every((p) => p === 'cpu')) throw cause;
    const strict = context?.plan.setting === 'cuda';
    if (request.fallback === false || (request.fallback === undefined && strict))
      throw strict ? unavailable(request.label, requested, cause) : cause;
    fallbackReason = `onnxruntime could not create the session with ${requested.join(', ')}: ${(cause as Error).message}; using cpu`;
    providers = ['cpu'];
    session = await open(providers);
  }
  const cpuOperators = providers.includes('cuda') && typeof model !== 'string' ? operatorsWithoutCudaKernel(model, request.label) : [];
  const record: SessionRecord = {
    label: request.label,
    requested,
    providers,
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(cpuOperators.length > 0 ? { cpuOperators } : {}),
  };
  return { session, record };
}

/**
 * Records a session created elsewhere (the encoders' worker sessions) in the run's context, and
 * enforces `device: 'cuda'`: a session that fell back to the CPU throws DeviceUnavailableError
 * (the caller releases it).
 */
export function settleSession(record: SessionRecord): void {
  const context = currentDeviceContext();
  if (!context) return;
  context.record(record);
  if (context.plan.setting === 'cuda' && record.requested.includes('cuda') && !record.providers.includes('cuda'))
    throw unavailable(record.label, record.requested, new Error(record.fallbackReason ?? 'the session fell back to the CPU'));
}

function unavailable(label: string, requested: readonly string[], cause: unknown): DeviceUnavailableError {
  return new DeviceUnavailableError(
    `device 'cuda': onnxruntime could not create the session for ${label} with ${requested.join(', ')}: ${(cause as Error).message}. ` +
      "Set device to 'auto' to run what cannot use CUDA on the CPU, or run `radlearn doctor`.",
    { label, requested: [...requested] },
    { cause },
  );
}
