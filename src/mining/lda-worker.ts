/** E-step worker thread: runs eStepChunk on the shared corpus and topics, one job per message. */
import { parentPort, workerData } from 'node:worker_threads';
import { EStepScratch, eStepChunk, type EStepJob, type EStepSettings } from './lda-estep.js';

export interface WorkerSetup {
  indptr: SharedArrayBuffer;
  indices: SharedArrayBuffer;
  values: SharedArrayBuffer;
  expTopicWord: SharedArrayBuffer;
  elogTopicWord: SharedArrayBuffer;
  gamma: SharedArrayBuffer;
  vocabulary: number;
  k: number;
}

export interface WorkerJob {
  id: number;
  job: EStepJob;
  settings: EStepSettings;
}

const setup = workerData as WorkerSetup;
const corpus = {
  indptr: new Int32Array(setup.indptr),
  indices: new Int32Array(setup.indices),
  values: new Float64Array(setup.values),
};
const expTopicWord = new Float64Array(setup.expTopicWord);
const elogTopicWord = new Float64Array(setup.elogTopicWord);
const gamma = new Float64Array(setup.gamma);
const scratch = new EStepScratch(setup.vocabulary, setup.k);

parentPort?.on('message', ({ id, job, settings }: WorkerJob) => {
  try {
    const result = eStepChunk(corpus, gamma, expTopicWord, elogTopicWord, settings, job, scratch);
    parentPort!.postMessage({ id, ok: true, result }, [result.statsWords.buffer, result.statsValues.buffer] as ArrayBuffer[]);
  } catch (error) {
    parentPort!.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
