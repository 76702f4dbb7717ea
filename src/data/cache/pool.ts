/**
 * A small worker_threads pool for cache building. Each worker holds its own
 * codec instances; tasks are handed out as workers free up, two in flight per
 * worker so a worker never idles while its result crosses threads.
 *
 * When this module runs from TypeScript source (tests, tsx), workers bootstrap
 * tsx's loader before importing worker.ts; compiled builds load worker.js.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { WorkerResult, WorkerTask } from './worker.js';
import { preprocessImage, type PreprocessSettings } from './preprocess.js';

export interface Pool {
  run(path: string, settings: PreprocessSettings): Promise<WorkerResult>;
  close(): Promise<void>;
}

export function createPool(workers: number): Pool {
  if (workers <= 0) return inProcessPool();
  const fromSource = import.meta.url.endsWith('.ts');
  const workerUrl = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  const spawn = (): Worker => {
    if (!fromSource) return new Worker(workerUrl);
    // tsx's ESM API entry (the CJS one cannot register hooks from an eval worker).
    const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
    const tsxApi = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
    return new Worker(boot, { eval: true });
  };
  const slots = Array.from({ length: workers }, () => ({ worker: spawn(), inFlight: 0 }));
  const pending = new Map<number, { resolve: (r: WorkerResult) => void; slot: (typeof slots)[number] }>();
  const queue: { task: WorkerTask; resolve: (r: WorkerResult) => void }[] = [];
  let nextId = 0;
  let closed = false;

  const dispatch = () => {
    for (const slot of slots) {
      while (slot.inFlight < 2 && queue.length > 0) {
        const item = queue.shift()!;
        slot.inFlight++;
        pending.set(item.task.id, { resolve: item.resolve, slot });
        slot.worker.postMessage(item.task);
      }
    }
  };
  const wire = (slot: (typeof slots)[number]): void => {
    slot.worker.on('message', (result: WorkerResult) => {
      const entry = pending.get(result.id);
      if (!entry) return;
      pending.delete(result.id);
      slot.inFlight--;
      entry.resolve(result);
      dispatch();
    });
    const worker = slot.worker;
    const lost = (reason: string) => {
      if (slot.worker !== worker) return; // already replaced ('error' is followed by 'exit')
      // A dead worker fails its own tasks as results (never the whole build) and is replaced.
      for (const [id, entry] of pending) {
        if (entry.slot !== slot) continue;
        pending.delete(id);
        entry.resolve({ id, ok: false, code: 'ERR_WORKER_CRASHED', message: `cache worker died: ${reason}` });
      }
      slot.inFlight = 0;
      if (!closed) {
        slot.worker = spawn();
        wire(slot);
        dispatch();
      }
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => {
      if (!closed) lost(`exited with code ${code}`);
    });
  };
  slots.forEach(wire);
  return {
    run(path, settings) {
      return new Promise((resolve) => {
        queue.push({ task: { id: nextId++, path, settings }, resolve });
        dispatch();
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

function inProcessPool(): Pool {
  let nextId = 0;
  return {
    async run(path, settings) {
      const id = nextId++;
      try {
        const out = await preprocessImage(path, settings);
        return {
          id,
          ok: true,
          rows: out.rows,
          columns: out.columns,
          channels: out.channels,
          data: out.data,
          meta: out.meta as unknown as Record<string, unknown>,
        };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        return {
          id,
          ok: false,
          code: typeof code === 'string' ? code : 'ERR_UNEXPECTED',
          message: error instanceof Error ? error.message : String(error),
        };
      }
    },
    async close() {},
  };
}
