/**
 * Worker threads that run training-graph and forward-graph chunks concurrently on the CPU.
 * onnxruntime-node runs a session synchronously on the calling thread, and on a few cores one
 * session's own intra-op threads leave most of a small model's step serial; chunks of the same
 * step are independent, so each worker runs whole chunks with its own single-threaded sessions.
 * Every worker opens every graph, and a request goes to whichever worker is free, first come
 * first served. Workers are unref'd while idle, so a pool never keeps the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { currentDeviceContext } from '../../device/context.js';
import { sessionOptions } from '../../device/session-factory.js';
import { RadlearnError } from '../../errors.js';
import { spawnModuleWorker } from '../../io/module-worker.js';
import type { TrainingGraphIo } from '../../onnx/autodiff/training-io.js';
import type { TensorLike } from '../../onnx/tensor.js';
import type { ChunkReply, ChunkRequest, ChunkWorkerSetup } from './chunk-protocol.js';

export class ChunkWorkerError extends RadlearnError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('ERR_TRAINING_WORKER', message, details);
    this.name = 'ChunkWorkerError';
  }
}

export interface PoolTuning {
  allowSpinning?: boolean;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

type Request = ChunkRequest extends infer R ? (R extends { job: number } ? Omit<R, 'job'> : never) : never;

interface Queued {
  request: Request;
  resolve: (reply: ChunkReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  /** The pooled request it runs. */
  current?: { queued: Queued; job: number; label: string };
}

/** What a request is, for error messages. */
function describe(request: Request): string {
  return request.type === 'open' ? `opening ${request.label}` : `${request.type} of graph ${request.graph}`;
}

export class ChunkPool {
  private readonly queue: Queued[] = [];
  private failure: Error | undefined;
  private nextJob = 0;
  private nextGraph = 0;

  private constructor(private readonly workers: PoolWorker[]) {}

  /**
   * `size` workers, each running its sessions on `intraOpThreads` threads; `tuning` is for the
   * benchmark that chose the defaults (idle threads spinning, onnxruntime's graph optimisation level).
   */
  static create(size: number, intraOpThreads: number, tuning: PoolTuning = {}): ChunkPool {
    const options = sessionOptions(['cpu'], { intraOpNumThreads: intraOpThreads, allowSpinning: tuning.allowSpinning });
    if (tuning.graphOptimizationLevel) options.graphOptimizationLevel = tuning.graphOptimizationLevel;
    const setup: ChunkWorkerSetup = { sessionOptions: options };
    const workers: PoolWorker[] = [];
    const pool = new ChunkPool(workers);
    for (let i = 0; i < size; i++) {
      const entry: PoolWorker = { worker: spawnModuleWorker(import.meta.url, 'chunk-worker', { workerData: setup }) };
      entry.worker.unref();
      entry.worker.on('message', (reply: ChunkReply) => pool.settle(entry, reply));
      entry.worker.on('error', (error) => pool.lose(entry, `failed: ${error.message}`));
      entry.worker.on('exit', (code) => pool.lose(entry, `exited with code ${code}`));
      workers.push(entry);
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Opens a graph pair in every worker; `slots` gradient buffers of the layout's size. */
  async open(label: string, forward: Uint8Array, training: Uint8Array, io: TrainingGraphIo, slots: number): Promise<PooledGraphs> {
    const graph = this.nextGraph++;
    const parameters = new SharedArrayBuffer(io.layout.size * 4);
    const slotBuffers = Array.from({ length: slots }, () => new SharedArrayBuffer(io.layout.size * 4));
    await Promise.all(
      this.workers.map((w) =>
        this.post(w, { type: 'open', graph, label, forward, training, io, parameters, slots: slotBuffers }, `opening ${label}`),
      ),
    );
    for (const part of ['training graph', 'forward graph'])
      currentDeviceContext()?.record({ label: `${label}: ${part}`, requested: ['cpu'], providers: ['cpu'], workers: this.size });
    return new PooledGraphs(this, graph, parameters, slotBuffers);
  }

  /** Queues a request for the next free worker. */
  request(request: Request): Promise<ChunkReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  /** Closes a graph in every worker (after its last request). */
  async close(graph: number): Promise<void> {
    if (this.failure) return;
    await Promise.all(this.workers.map((w) => this.post(w, { type: 'close', graph }, `closing graph ${graph}`)));
  }

  async release(): Promise<void> {
    const workers = this.workers.splice(0);
    this.failure ??= new ChunkWorkerError('the chunk pool was released');
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  /** A request for one particular worker (open, close): queued behind whatever it runs. */
  private post(w: PoolWorker, request: Request, label: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const job = this.nextJob++;
      w.worker.ref();
      const done = (error?: Error): void => {
        w.worker.off('message', onReply);
        w.worker.off('exit', onExit);
        if (!w.current) w.worker.unref();
        if (error) reject(error);
        else resolve(undefined);
      };
      const onReply = (reply: ChunkReply): void => {
        if (reply.job !== job) return;
        done(reply.ok ? undefined : new ChunkWorkerError(`chunk worker, ${label}: ${reply.message}`));
      };
      const onExit = (code: number): void => done(new ChunkWorkerError(`chunk worker, ${label}: the thread exited with code ${code}`));
      w.worker.on('message', onReply);
      w.worker.on('exit', onExit);
      w.worker.postMessage({ ...request, job } as ChunkRequest);
    });
  }

  private pump(): void {
    for (const w of this.workers) {
      if (w.current || this.queue.length === 0) continue;
      const queued = this.queue.shift()!;
      const job = this.nextJob++;
      w.current = { queued, job, label: describe(queued.request) };
      w.worker.ref();
      w.worker.postMessage({ ...queued.request, job } as ChunkRequest);
    }
  }

  private settle(w: PoolWorker, reply: ChunkReply): void {
    const current = w.current;
    if (!current || current.job !== reply.job) return; // an open/close reply, answered by post()
    w.current = undefined;
    w.worker.unref();
    if (reply.ok) current.queued.resolve(reply);
    else current.queued.reject(new ChunkWorkerError(`chunk worker, ${current.label}: ${reply.message}`));
    this.pump();
  }

  private lose(w: PoolWorker, reason: string): void {
    if (!this.workers.includes(w)) return; // released on purpose
    this.failure ??= new ChunkWorkerError(`a training chunk worker thread ${reason}; the step cannot finish`);
    const lost = [w.current?.queued, ...this.queue.splice(0)].filter((q): q is Queued => q !== undefined);
    w.current = undefined;
    for (const q of lost) q.reject(this.failure);
  }
}

/** One encoder's graphs, opened in every worker of a pool. */
export class PooledGraphs {
  private version = 0;
  private readonly shared: Float32Array;
  private readonly slots: Float32Array[];

  constructor(
    private readonly pool: ChunkPool,
    private readonly graph: number,
    parameters: SharedArrayBuffer,
    slots: SharedArrayBuffer[],
  ) {
    this.shared = new Float32Array(parameters);
    this.slots = slots.map((s) => new Float32Array(s));
  }

  get concurrency(): number {
    return this.slots.length;
  }

  /** Publishes the parameters the next requests read (no request of this graph may be in flight). */
  setParameters(parameters: Float32Array): void {
    this.shared.set(parameters);
    this.version++;
  }

  async forward(feeds: Record<string, TensorLike>, fetch: readonly string[]): Promise<Record<string, TensorLike>> {
    const reply = await this.pool.request({ type: 'forward', graph: this.graph, version: this.version, feeds, fetch: [...fetch] });
    return reply.outputs ?? {};
  }

  async train(inputs: Record<string, TensorLike>, outputGrads: Record<string, TensorLike>, slot: number): Promise<void> {
    await this.pool.request({ type: 'train', graph: this.graph, version: this.version, slot, inputs, outputGrads });
  }

  slot(slot: number): Float32Array {
    return this.slots[slot]!;
  }

  release(): Promise<void> {
    return this.pool.close(this.graph);
  }
}
