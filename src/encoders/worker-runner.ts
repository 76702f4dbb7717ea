import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { TensorLike } from '../onnx/tensor.js';
import { EncoderSessionError } from './errors.js';
import type { ProviderResolution } from './execution-providers.js';
import { type ModelSource, resolveModel } from './model-source.js';
import { type IoMetadata, type SessionInfo, type SessionRunner, type ThreadOptions, ortSessionOptions } from './session-runner.js';
import { WORKER_SOURCE } from './worker-source.js';

const require = createRequire(import.meta.url);

interface Pending {
  resolve: (v: Record<string, TensorLike>) => void;
  reject: (e: Error) => void;
}

type Reply =
  | { type: 'ready'; providers: string[]; fallbackReason?: string; inputs: IoMetadata[]; outputs: IoMetadata[] }
  | { type: 'failed'; error: string }
  | { id: number; ok: true; result: Record<string, TensorLike> }
  | { id: number; ok: false; error: string };

/** A buffer may be moved to the worker only when the tensor owns all of it (not a view into something larger). */
function ownsBuffer(data: TensorLike['data']): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

/**
 * One onnxruntime session in a worker thread, so inference never blocks the main event loop
 * (onnxruntime-node's run is synchronous underneath its Promise). Requests are queued by the worker;
 * the worker is unref'd while idle so a forgotten encoder never keeps the process alive.
 */
export async function createWorkerRunner(
  source: ModelSource,
  resolution: ProviderResolution,
  threads: ThreadOptions,
): Promise<SessionRunner> {
  const model = resolveModel(source);
  const workerData: Record<string, unknown> = {
    ortPath: require.resolve('onnxruntime-node'),
    providers: resolution.providers,
    fallbackReason: resolution.fallbackReason,
    // the options for the requested providers and for the CPU-only retry, built here so both threads agree
    sessionOptions: ortSessionOptions(resolution.providers, threads),
    cpuSessionOptions: ortSessionOptions(['cpu'], threads),
  };
  const transferList: ArrayBuffer[] = [];
  if ('path' in model) workerData.path = model.path;
  else {
    // Buffer#slice is a view into a shared pool (transferring it would wipe the caller's bytes);
    // Uint8Array#slice always copies.
    const copy = Uint8Array.prototype.slice.call(model.bytes);
    workerData.bytes = copy;
    transferList.push(copy.buffer as ArrayBuffer);
  }
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let disposed = false;
  let failure: Error | undefined;

  const failAll = (error: Error): void => {
    failure ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const info = await new Promise<SessionInfo>((resolve, reject) => {
    const onReady = (msg: Reply): void => {
      if (!('type' in msg)) return;
      worker.off('message', onReady);
      if (msg.type === 'failed') {
        void worker.terminate();
        reject(new EncoderSessionError(`onnxruntime could not load ${model.label}: ${msg.error}`, { label: model.label }));
        return;
      }
      resolve({
        label: model.label,
        inputs: msg.inputs,
        outputs: msg.outputs,
        executionProviders: msg.providers,
        ...(msg.fallbackReason ? { fallbackReason: msg.fallbackReason } : {}),
        mode: 'worker',
      });
    };
    worker.on('message', onReady);
    worker.once('error', (e) =>
      reject(
        new EncoderSessionError(
          `the encoder worker for ${model.label} failed to start: ${e.message}`,
          { label: model.label },
          { cause: e },
        ),
      ),
    );
    worker.once('exit', (code) =>
      reject(
        new EncoderSessionError(`the encoder worker for ${model.label} exited (code ${code}) before its session was ready`, {
          label: model.label,
          code,
        }),
      ),
    );
  });

  worker.on('message', (msg: Reply) => {
    if (!('id' in msg)) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (pending.size === 0) worker.unref();
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new EncoderSessionError(`running ${model.label} failed: ${msg.error}`, { label: model.label }));
  });
  worker.on('error', (e) =>
    failAll(new EncoderSessionError(`the encoder worker for ${model.label} crashed: ${e.message}`, { label: model.label }, { cause: e })),
  );
  worker.on('exit', (code) =>
    failAll(new EncoderSessionError(`the encoder worker for ${model.label} exited (code ${code})`, { label: model.label, code })),
  );
  worker.unref();

  const request = (message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Record<string, TensorLike>> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id }, transfer);
    });
  };

  return {
    info,
    run(feeds, options = {}) {
      if (disposed) return Promise.reject(new EncoderSessionError(`session for ${model.label} was disposed`));
      const plain: Record<string, TensorLike> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(feeds)) {
        plain[name] = { type: t.type, data: t.data, dims: [...t.dims] };
        if (options.transfer && ownsBuffer(t.data) && !transfer.includes(t.data.buffer as ArrayBuffer))
          transfer.push(t.data.buffer as ArrayBuffer);
      }
      return request({ type: 'run', feeds: plain, outputNames: options.outputNames ? [...options.outputNames] : undefined }, transfer);
    },
    async setStaticFeeds(feeds) {
      if (disposed) throw new EncoderSessionError(`session for ${model.label} was disposed`);
      // structured clone copies a view's whole ArrayBuffer, so views are cut to their own range first
      const plain: Record<string, TensorLike> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(feeds)) {
        const data = t.data.slice();
        transfer.push(data.buffer as ArrayBuffer);
        plain[name] = { type: t.type, data, dims: [...t.dims] };
      }
      await request({ type: 'static', feeds: plain }, transfer);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        if (!failure) await request({ type: 'dispose' }, []);
      } finally {
        await worker.terminate();
      }
    },
  };
}
