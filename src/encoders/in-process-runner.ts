import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError } from '../device/errors.js';
import { openOrtSession } from '../device/session-factory.js';
import type { TensorLike } from '../onnx/tensor.js';
import { EncoderSessionError } from './errors.js';
import type { ProviderResolution } from './execution-providers.js';
import { type ModelSource, resolveModel } from './model-source.js';
import { type IoMetadata, type SessionInfo, type SessionRunner, type ThreadOptions } from './session-runner.js';

export function metadataOf(list: readonly ort.InferenceSession.ValueMetadata[]): IoMetadata[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, shape: [] }));
}

/**
 * Creates the session through the session factory: a GPU provider that fails to initialise (driver
 * missing, wrong CUDA version) falls back to CPU alone with the reason recorded, unless the run
 * asked for device 'cuda'.
 */
export async function createSessionWithFallback(
  model: { path: string } | { bytes: Uint8Array },
  label: string,
  resolution: ProviderResolution,
  threads: ThreadOptions,
): Promise<{ session: ort.InferenceSession; providers: string[]; fallbackReason?: string }> {
  try {
    const { session, record } = await openOrtSession('path' in model ? model.path : model.bytes, {
      label,
      providers: resolution.providers,
      ...threads,
    });
    const fallbackReason = [resolution.fallbackReason, record.fallbackReason].filter(Boolean).join('; ');
    return { session, providers: record.providers, ...(fallbackReason ? { fallbackReason } : {}) };
  } catch (cause) {
    if (cause instanceof DeviceUnavailableError) throw cause;
    throw new EncoderSessionError(`onnxruntime could not load ${label}: ${(cause as Error).message}`, { label }, { cause });
  }
}

export function toTensorLike(t: ort.Tensor): TensorLike {
  return { type: t.type as TensorLike['type'], data: t.data as TensorLike['data'], dims: [...t.dims] };
}

export function toOrtTensor(name: string, t: TensorLike): ort.Tensor {
  try {
    return new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  } catch (cause) {
    throw new EncoderSessionError(
      `input ${name}: cannot make an onnxruntime tensor of ${t.type} ${JSON.stringify(t.dims)}: ${(cause as Error).message}`,
      { name },
      { cause },
    );
  }
}

export async function createInProcessRunner(
  source: ModelSource,
  resolution: ProviderResolution,
  threads: ThreadOptions,
): Promise<SessionRunner> {
  const model = resolveModel(source);
  const { session, providers, fallbackReason } = await createSessionWithFallback(model, model.label, resolution, threads);
  const info: SessionInfo = {
    label: model.label,
    inputs: metadataOf(session.inputMetadata),
    outputs: metadataOf(session.outputMetadata),
    executionProviders: providers,
    ...(fallbackReason ? { fallbackReason } : {}),
    mode: 'in-process',
  };
  let disposed = false;
  let staticFeeds: Record<string, TensorLike> = {};
  return {
    info,
    async setStaticFeeds(feeds) {
      staticFeeds = { ...feeds };
    },
    async run(feeds, options = {}) {
      if (disposed) throw new EncoderSessionError(`session for ${model.label} was disposed`);
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries({ ...staticFeeds, ...feeds })) ortFeeds[name] = toOrtTensor(name, t);
      let out: ort.InferenceSession.ReturnType;
      try {
        out = options.outputNames ? await session.run(ortFeeds, [...options.outputNames]) : await session.run(ortFeeds);
      } catch (cause) {
        throw new EncoderSessionError(`running ${model.label} failed: ${(cause as Error).message}`, { label: model.label }, { cause });
      }
      const result: Record<string, TensorLike> = {};
      for (const [name, t] of Object.entries(out)) result[name] = toTensorLike(t);
      return result;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
