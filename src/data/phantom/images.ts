/**
 * Renders and writes the phantom's DICOM files, in this thread or spread over worker
 * threads. Each study's file depends only on (seed, study), so any partition of the
 * studies over workers writes the same bytes.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RadlearnError } from '../../errors.js';
import { writeDicomFile } from '../dicom/write.js';
import { phantomDicomSpec, toStoredPixels } from './dicom.js';
import { renderPhantom } from './render.js';
import { sampleStudies, type PhantomStudy } from './truth.js';

export interface ImageJob {
  root: string;
  n: number;
  seed: number;
  size: number;
  /** This shard writes studies i with i % shards === shard. */
  shard: number;
  shards: number;
}

export function studyImagePath(study: PhantomStudy): string {
  return `images/${study.patient.patientId}/${study.studyId}.dcm`;
}

/** Renders and writes one shard's studies; `onStudy` is called after each file is written. */
export async function writeShard(job: ImageJob, onStudy: () => void): Promise<void> {
  const studies = sampleStudies(job.seed, job.n);
  const pending = new Set<Promise<void>>();
  const madeDirs = new Set<string>();
  for (let i = job.shard; i < studies.length; i += job.shards) {
    const study = studies[i] as PhantomStudy;
    const path = join(job.root, studyImagePath(study));
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
    const rendered = renderPhantom(study, job.size, job.seed);
    const spec = phantomDicomSpec(study, toStoredPixels(rendered.pixels, study), job.size, job.seed);
    // Keep a few writes in flight so rendering overlaps file I/O.
    const write: Promise<void> = writeDicomFile(path, spec).then(() => {
      pending.delete(write);
      onStudy();
    });
    pending.add(write);
    if (pending.size >= 8) await Promise.race(pending);
  }
  await Promise.all(pending);
}

/** The compiled worker script, or undefined when running from TypeScript sources (tests, tsx). */
function workerScript(): URL | undefined {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.js') ? new URL('./worker.js', import.meta.url) : undefined;
}

/** Default thread count: one per core up to 4 (the main thread only collects progress). */
export function defaultWorkers(n: number): number {
  if (!workerScript() || n < 400) return 0; // below this, thread start-up outweighs the gain
  return Math.min(4, availableParallelism());
}

/** Writes every study's image with `workers` threads (0: in this thread). */
export async function writeAllImages(job: Omit<ImageJob, 'shard' | 'shards'>, workers: number, onStudy: () => void): Promise<void> {
  const script = workerScript();
  if (workers <= 0 || !script) {
    await writeShard({ ...job, shard: 0, shards: 1 }, onStudy);
    return;
  }
  await Promise.all(
    Array.from(
      { length: workers },
      (_, shard) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(script, { workerData: { ...job, shard, shards: workers } satisfies ImageJob });
          let failed = false;
          worker.on('message', (message: { type: 'study' } | { type: 'error'; message: string; code?: string }) => {
            if (message.type === 'study') onStudy();
            else {
              failed = true;
              reject(new RadlearnError(message.code ?? 'ERR_PHANTOM_WORKER', `phantom image worker ${shard}: ${message.message}`));
            }
          });
          worker.on('error', (error) => {
            failed = true;
            reject(error);
          });
          worker.on('exit', (code) => {
            if (failed) return;
            if (code === 0) resolve();
            else reject(new RadlearnError('ERR_PHANTOM_WORKER', `phantom image worker ${shard} exited with code ${code}`));
          });
        }),
    ),
  );
}
