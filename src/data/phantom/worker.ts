/** Worker thread entry: writes one shard of the phantom's DICOM files (see images.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { writeShard, type ImageJob } from './images.js';

const port = parentPort;
if (port) {
  writeShard(workerData as ImageJob, () => port.postMessage({ type: 'study' })).catch((error: unknown) => {
    const e = error as { message?: string; code?: string };
    port.postMessage({ type: 'error', message: e.message ?? String(error), code: e.code });
  });
}
