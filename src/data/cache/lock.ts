/**
 * One builder per cache folder: `out/.lock` is created exclusively and holds the
 * builder's pid. Another builder waits for it (parallel test runs and training
 * jobs often share a cache folder); a lock whose process is gone is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CacheError } from './format.js';

/** Builds in this process are chained per folder, so a lock file naming our own pid is always stale. */
const inProcess = new Map<string, Promise<unknown>>();

export async function withCacheLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  const key = resolve(dir);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withFileLock(dir, fn, timeoutMs));
  inProcess.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === run) inProcess.delete(key);
  }
}

async function withFileLock<T>(dir: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const path = join(dir, '.lock');
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner === process.pid || !alive(owner)) {
        // Our own stale lock (an earlier build in this process died) or a dead process: take it over.
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        throw new CacheError('ERR_CACHE_LOCKED', `cache ${dir} is being built by process ${owner} (lock ${path})`, { path });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
