/**
 * Leftovers of atomic writes whose process died between creating the temporary file and the
 * rename. Only names of the atomic writer's pattern are considered, and only those whose
 * writer pid is no longer alive are removed: a live pid may be a concurrent writer mid-write.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTempName } from '../io/atomic.js';
import type { TrainEvent } from './events.js';

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; anything unexpected counts as alive
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes stale temporary files directly inside `dir` (not below it); returns their paths. */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const temp = entry.isFile() ? parseTempName(entry.name) : undefined;
    // pid 0 would address the process group, not a writer: never ours, so never touched
    if (!temp || temp.pid <= 0 || isAlive(temp.pid)) continue;
    const path = join(dir, entry.name);
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/** Removes stale temporary files in each of a run's folders and says so (a 'cleanup' stage event). */
export async function reportStaleTempFiles(dirs: readonly string[], emit: (e: TrainEvent) => void): Promise<void> {
  const removed: string[] = [];
  for (const dir of dirs) removed.push(...(await removeStaleTempFiles(dir)));
  if (removed.length > 0)
    emit({
      type: 'stage',
      stage: 'cleanup',
      message: `removed ${removed.length} temporary file(s) left by an interrupted write: ${removed.join(', ')}`,
    });
}
