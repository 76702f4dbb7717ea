/** Cache worker thread: preprocesses one file per message, transfers the pixels back. */
import { parentPort } from 'node:worker_threads';
import { preprocessImage, type PreprocessSettings } from './preprocess.js';

export interface WorkerTask {
  id: number;
  path: string;
  settings: PreprocessSettings;
}
export type WorkerResult =
  | { id: number; ok: true; rows: number; columns: number; channels: number; data: Uint16Array | Uint8Array; meta: Record<string, unknown> }
  | { id: number; ok: false; code: string; message: string };

parentPort?.on('message', (task: WorkerTask) => {
  void (async () => {
    let result: WorkerResult;
    try {
      const out = await preprocessImage(task.path, task.settings);
      result = {
        id: task.id,
        ok: true,
        rows: out.rows,
        columns: out.columns,
        channels: out.channels,
        data: out.data,
        meta: out.meta as unknown as Record<string, unknown>,
      };
      parentPort!.postMessage(result, [out.data.buffer as ArrayBuffer]);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      result = {
        id: task.id,
        ok: false,
        code: typeof code === 'string' ? code : 'ERR_UNEXPECTED',
        message: error instanceof Error ? error.message : String(error),
      };
      parentPort!.postMessage(result);
    }
  })();
});
