/**
 * One builder per cache folder: `out/.lock` is created exclusively and holds the
 * builder's host and pid. Another builder waits for it (parallel test runs and training
 * jobs often share a cache folder); a lock whose process on this host is gone is taken over.
 * A lock held from another host (a folder shared between machines) is waited for: its process
 * cannot be checked from here.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
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

/** The lock's owner: `host pid` (older locks: the pid alone, taken as this host's). */
function parseOwner(text: string): { host: string; pid: number } | undefined {
  const parts = text.trim().split(' ');
  const pid = Number(parts.at(-1));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { host: parts.length > 1 ? parts.slice(0, -1).join(' ') : hostname(), pid };
}

/** A lock file this old without an owner written into it was left by a writer that died mid-write. */
const UNWRITTEN_STALE_MS = 10_000;

async function withFileLock<T>(dir: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const path = join(dir, '.lock');
  const started = Date.now();
  const here = hostname();
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${here} ${process.pid}`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = parseOwner(await readFile(path, 'utf8').catch(() => ''));
      // a process on another machine sharing the folder cannot be checked from here: wait for it
      const stale = owner
        ? owner.host === here && (owner.pid === process.pid || !alive(owner.pid))
        : Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0) > UNWRITTEN_STALE_MS;
      if (stale) {
        // Our own stale lock (an earlier build in this process died), a dead process, or an owner never written: take it over.
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        const who = owner ? `process ${owner.pid} on ${owner.host}` : 'a process that has not written its name yet';
        throw new CacheError('ERR_CACHE_LOCKED', `cache ${dir} is being built by ${who} (lock ${path})`, { path });
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
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
