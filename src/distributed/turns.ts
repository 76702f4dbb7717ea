/**
 * Work that must happen on rank 0 before the other ranks do it (creating the run folder, filling
 * the caches the others then read), and the agreement after it: every rank learns whether any
 * rank failed, and all of them stop together instead of leaving the others waiting in a
 * collective that never completes.
 */
import type { DataParallel } from './data-parallel.js';
import { DistributedError } from './mpi.js';

/** Failures every rank of the job knows about (thrown on each at the same point). */
const agreed = new WeakSet<object>();

/** Whether every rank stopped at the same point with this error (so none waits in a collective). */
export function isAgreedFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && agreed.has(error);
}

/** Throws on every rank when any failed: the rank's own error, or one naming the work another rank failed at. */
function agree(parallel: DataParallel, failure: { error: unknown } | undefined, what: string): void {
  const anyFailed = parallel.any(failure !== undefined);
  if (!anyFailed) return;
  const error =
    failure?.error ??
    new DistributedError(`another rank of the job failed while ${what}; its error is in that rank's output`, { rank: parallel.rank });
  if (typeof error === 'object' && error !== null) agreed.add(error);
  throw error;
}

async function attempt<T>(work: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await work() };
  } catch (error) {
    return { error };
  }
}

/**
 * Runs `work` on rank 0, then on the other ranks (all at once); in one process: just `work`.
 * When another rank fails, what this rank's work made is handed to `release` before the throw.
 */
export async function rankZeroFirst<T>(
  parallel: DataParallel,
  what: string,
  work: () => Promise<T>,
  release?: (value: T) => Promise<void>,
): Promise<T> {
  if (parallel.size === 1) return work();
  const first = parallel.rank === 0 ? await attempt(work) : undefined;
  agree(parallel, first && 'error' in first ? first : undefined, what);
  const then = parallel.rank === 0 ? first! : await attempt(work);
  try {
    agree(parallel, 'error' in then ? then : undefined, what);
  } catch (error) {
    if ('value' in then) await release?.(then.value).catch(() => undefined);
    throw error;
  }
  return (then as { value: T }).value;
}

/** Every rank's `text` must be the same (e.g. the training config's hash); else all ranks stop. */
export function agreeOnText(parallel: DataParallel, text: string, what: string): void {
  if (parallel.size === 1) return;
  const bytes = Buffer.from(text, 'utf8');
  const padded = new Uint8Array(Math.ceil((bytes.length + 4) / 4) * 4);
  new DataView(padded.buffer).setUint32(0, bytes.length);
  padded.set(bytes, 4);
  const lengths = parallel.gatherRows(Float32Array.of(padded.length));
  if (lengths.some((n) => n !== padded.length) || !parallel.identical(new Float32Array(padded.buffer))) {
    const error = new DistributedError(`the ranks of the job disagree on ${what}; start every rank with the same command and files`, {
      rank: parallel.rank,
    });
    agreed.add(error);
    throw error;
  }
}

/** Runs `work` on every rank at once; every rank learns whether any failed (and all throw). */
export async function allRanks<T>(parallel: DataParallel, what: string, work: () => Promise<T>): Promise<T> {
  const done = await attempt(work);
  agree(parallel, 'error' in done ? done : undefined, what);
  return (done as { value: T }).value;
}

/** Runs `work` on rank 0 alone while the others wait; every rank learns whether it failed. Others get undefined. */
export async function rankZeroOnly<T>(parallel: DataParallel, what: string, work: () => Promise<T>): Promise<T | undefined> {
  const done = parallel.rank === 0 ? await attempt(work) : undefined;
  agree(parallel, done && 'error' in done ? done : undefined, what);
  return done ? (done as { value: T }).value : undefined;
}
