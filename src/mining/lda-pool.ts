/**
 * Runs E-step chunks in this thread or on worker threads. The corpus and the topics live in
 * SharedArrayBuffers the workers read (the topics are rewritten after each M-step, before the
 * next jobs are posted); each job's γ and sparse statistics come back transferred. Results are
 * returned in job order, so the caller sums them in the same order whatever the thread count.
 *
 * From TypeScript sources (tests, tsx) the workers register tsx's loader before importing
 * lda-worker.ts; compiled builds load lda-worker.js.
 */
import type { Worker } from 'node:worker_threads';
import { RadlearnError } from '../errors.js';
import { spawnModuleWorker } from '../io/module-worker.js';
import { EStepScratch, eStepChunk, type CountRows, type EStepJob, type EStepResult, type EStepSettings } from './lda-estep.js';
import type { WorkerJob, WorkerSetup } from './lda-worker.js';

type Reply = { id: number; ok: true; result: EStepResult } | { id: number; ok: false; message: string };

function sharedCopy<T extends Int32Array | Float64Array>(array: T): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(array.byteLength);
  new (array.constructor as new (b: SharedArrayBuffer) => T)(buffer).set(array);
  return buffer;
}

function spawn(setup: WorkerSetup): Worker {
  return spawnModuleWorker(import.meta.url, 'lda-worker', { workerData: setup });
}

export class EStepPool {
  /** exp(E[log β]) as [V, K]; write it before run(). */
  readonly expTopicWord: Float64Array;
  /** E[log β] as [V, K], read by jobs that compute the bound. */
  readonly elogTopicWord: Float64Array;
  /** Each document's γ, [documents, K], as the last job over it left it. */
  readonly gamma: Float64Array;
  private readonly workers: Worker[];
  private readonly scratch: EStepScratch | undefined;
  private failure: Error | undefined;
  private readonly pending = new Map<number, { resolve: (r: EStepResult) => void; reject: (e: Error) => void; worker: number }>();
  private nextId = 0;

  constructor(
    readonly corpus: CountRows,
    vocabulary: number,
    k: number,
    workers: number,
  ) {
    if (workers <= 0) {
      this.expTopicWord = new Float64Array(vocabulary * k);
      this.elogTopicWord = new Float64Array(vocabulary * k);
      this.gamma = new Float64Array((corpus.indptr.length - 1) * k);
      this.scratch = new EStepScratch(vocabulary, k);
      this.workers = [];
      return;
    }
    const setup: WorkerSetup = {
      indptr: sharedCopy(corpus.indptr),
      indices: sharedCopy(corpus.indices),
      values: sharedCopy(corpus.values),
      expTopicWord: new SharedArrayBuffer(vocabulary * k * 8),
      elogTopicWord: new SharedArrayBuffer(vocabulary * k * 8),
      gamma: new SharedArrayBuffer((corpus.indptr.length - 1) * k * 8),
      vocabulary,
      k,
    };
    this.expTopicWord = new Float64Array(setup.expTopicWord);
    this.elogTopicWord = new Float64Array(setup.elogTopicWord);
    this.gamma = new Float64Array(setup.gamma);
    this.workers = Array.from({ length: workers }, (_, index) => {
      const worker = spawn(setup);
      worker.on('message', (reply: Reply) => {
        const entry = this.pending.get(reply.id);
        if (!entry) return;
        this.pending.delete(reply.id);
        if (reply.ok) entry.resolve(reply.result);
        else entry.reject(new RadlearnError('ERR_TOPICS_WORKER', `topic model E-step failed in a worker thread: ${reply.message}`));
      });
      const lost = (reason: string): void => {
        this.failure ??= new RadlearnError('ERR_TOPICS_WORKER', `a topic model worker thread stopped: ${reason}`);
        for (const [id, entry] of this.pending) {
          if (entry.worker !== index) continue;
          this.pending.delete(id);
          entry.reject(this.failure);
        }
      };
      worker.on('error', (error) => lost(error.message));
      worker.on('exit', (code) => lost(`exited with code ${code}`));
      return worker;
    });
  }

  get documents(): number {
    return this.corpus.indptr.length - 1;
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Runs the jobs (each worker takes the next job as it finishes one); results in job order. */
  async run(jobs: readonly EStepJob[], settings: EStepSettings): Promise<EStepResult[]> {
    if (this.workers.length === 0) {
      const out: EStepResult[] = [];
      for (const job of jobs) {
        out.push(eStepChunk(this.corpus, this.gamma, this.expTopicWord, this.elogTopicWord, settings, job, this.scratch));
        // long fits stay interruptible and let progress output through
        if (jobs.length > 1) await new Promise((r) => setImmediate(r));
      }
      return out;
    }
    if (this.failure) throw this.failure;
    const results: EStepResult[] = new Array(jobs.length);
    let next = 0;
    const drive = async (worker: number): Promise<void> => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await this.post(worker, jobs[index]!, settings);
      }
    };
    await Promise.all(this.workers.map((_, w) => drive(w)));
    return results;
  }

  private post(worker: number, job: EStepJob, settings: EStepSettings): Promise<EStepResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      const message: WorkerJob = { id, job, settings };
      this.workers[worker]!.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new RadlearnError('ERR_TOPICS_WORKER', 'the topic model worker pool was closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
