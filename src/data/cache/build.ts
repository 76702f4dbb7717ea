/**
 * buildImageCache: decode every input once in worker threads, window, resize
 * (antialiased), quantize, and append to one binary file with a JSON index.
 * Incremental (unchanged files by size+mtime are reused), resumable (the index
 * is checkpointed atomically while building), never aborted by one bad file
 * (failures are recorded with their error codes).
 */
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { WindowOption } from '../dicom/image.js';
import type { ResizeFilter, ResizeFit } from '../resize/resize.js';
import { resolveInputs } from './manifest.js';
import { createPool } from './pool.js';
import { withCacheLock } from './lock.js';
import type { CacheDtype, PreprocessSettings } from './preprocess.js';
import {
  CACHE_FORMAT,
  CACHE_VERSION,
  alignUp,
  readCacheIndex,
  sameSettings,
  writeCacheIndex,
  type CacheEntry,
  type CacheFailure,
  type CacheIndex,
  INDEX_FILE,
} from './format.js';

export interface BuildImageCacheOptions {
  /** Output folder (created if missing). */
  out: string;
  /** Short side (fit 'shortSide') or square side; default 512. */
  size?: number;
  dtype?: CacheDtype;
  window?: WindowOption;
  fit?: ResizeFit;
  filter?: ResizeFilter;
  color?: 'grey' | 'keep';
  /** Worker threads; default availableParallelism() - 1 (at least 1); 0 decodes in this thread. */
  workers?: number;
  /** Ignore an existing cache in `out` and build from scratch (default false). */
  rebuild?: boolean;
  /** Re-decode files that failed before even if unchanged (default false). */
  retryFailed?: boolean;
  /** Write the index every this many finished images (default 64) so an interrupted build resumes. */
  checkpointEvery?: number;
  onProgress?: (event: CacheBuildEvent) => void;
  signal?: AbortSignal;
}

export type CacheBuildEvent =
  | { type: 'start'; total: number; toBuild: number; reused: number; skippedFailures: number }
  | { type: 'progress'; done: number; toBuild: number; failed: number; imagesPerSec: number; path: string }
  | { type: 'done'; summary: CacheBuildSummary };

export interface CacheBuildSummary {
  out: string;
  total: number;
  built: number;
  reused: number;
  failed: number;
  failures: CacheFailure[];
  seconds: number;
  /** Images decoded and written per second (reused images excluded). */
  imagesPerSec: number;
  bytesWritten: number;
  aborted: boolean;
}

export async function buildImageCache(input: string | string[], options: BuildImageCacheOptions): Promise<CacheBuildSummary> {
  const settings = normaliseSettings(options);
  await mkdir(options.out, { recursive: true });
  return withCacheLock(options.out, () => buildLocked(input, options, settings));
}

async function buildLocked(
  input: string | string[],
  options: BuildImageCacheOptions,
  settings: PreprocessSettings,
): Promise<CacheBuildSummary> {
  const started = performance.now();
  const paths = [...new Set(await resolveInputs(input))];
  const previous = await readCacheIndex(options.out).catch(() => undefined);
  const reusable =
    previous && !options.rebuild && sameSettings(previous.settings, settings) && (await binIsValid(options.out, previous))
      ? previous
      : undefined;

  const oldEntries = new Map(reusable?.entries.map((e) => [e.path, e]));
  const oldFailures = new Map(reusable?.failures.map((f) => [f.path, f]));
  const entries: CacheEntry[] = [];
  const failures: CacheFailure[] = [];
  const todo: { path: string; size: number; mtimeMs: number }[] = [];
  let skippedFailures = 0;
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      failures.push({ path, size: -1, mtimeMs: -1, code: 'ERR_MISSING_FILE', message: `not found: ${(error as Error).message}` });
      continue;
    }
    const key = { path, size: info.size, mtimeMs: info.mtimeMs };
    const old = oldEntries.get(path);
    const oldFailure = oldFailures.get(path);
    if (old && old.size === key.size && old.mtimeMs === key.mtimeMs) entries.push(old);
    else if (oldFailure && !options.retryFailed && oldFailure.size === key.size && oldFailure.mtimeMs === key.mtimeMs) {
      failures.push(oldFailure);
      skippedFailures++;
    } else todo.push(key);
  }

  const binFile = reusable?.binFile ?? `images-${Date.now().toString(36)}.bin`;
  const binPath = join(options.out, binFile);
  const handle = await open(binPath, reusable ? 'r+' : 'w');
  let binBytes = reusable?.binBytes ?? 0;
  await handle.truncate(binBytes); // drop bytes an interrupted build appended after its last checkpoint
  const index: CacheIndex = { format: CACHE_FORMAT, version: CACHE_VERSION, settings, binFile, binBytes, entries, failures, updatedAt: '' };
  await writeCacheIndex(options.out, index);
  if (previous && previous.binFile !== binFile) await unlink(join(options.out, previous.binFile)).catch(() => undefined);

  options.onProgress?.({ type: 'start', total: paths.length, toBuild: todo.length, reused: entries.length, skippedFailures });
  const workers = options.workers ?? Math.max(1, availableParallelism() - 1);
  const pool = createPool(Math.min(workers, todo.length));
  const checkpointEvery = options.checkpointEvery ?? 64;
  const buildStart = performance.now();
  let done = 0,
    failed = 0,
    built = 0,
    bytesWritten = 0,
    sinceCheckpoint = 0;
  let writes: Promise<unknown> = Promise.resolve();
  let checkpointing: Promise<void> = Promise.resolve();
  let aborted = false;

  const checkpoint = async () => {
    await writes;
    index.binBytes = binBytes;
    await writeCacheIndex(options.out, index);
  };

  try {
    const processOne = async (item: (typeof todo)[number]) => {
      const result = await pool.run(item.path, settings);
      if (result.ok) {
        const offset = binBytes;
        const bytes = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
        binBytes = alignUp(offset + bytes.byteLength);
        writes = writes.then(() => writeAll(handle, bytes, offset));
        entries.push({
          path: item.path,
          size: item.size,
          mtimeMs: item.mtimeMs,
          offset,
          byteLength: bytes.byteLength,
          rows: result.rows,
          columns: result.columns,
          channels: result.channels,
          meta: result.meta as unknown as CacheEntry['meta'],
        });
        built++;
        bytesWritten += bytes.byteLength;
      } else {
        failures.push({ ...item, code: result.code, message: result.message });
        failed++;
      }
      done++;
      const seconds = (performance.now() - buildStart) / 1000;
      options.onProgress?.({ type: 'progress', done, toBuild: todo.length, failed, imagesPerSec: done / seconds, path: item.path });
      if (++sinceCheckpoint >= checkpointEvery) {
        sinceCheckpoint = 0;
        checkpointing = checkpointing.then(checkpoint);
      }
    };
    // Two tasks in flight per worker keeps every worker busy without queueing the whole list.
    let next = 0;
    const lane = async () => {
      while (next < todo.length) {
        if (options.signal?.aborted) {
          aborted = true;
          return;
        }
        await processOne(todo[next++]!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) * 2 }, lane));
    await checkpointing;
    await writes;
    // Entries in input order make the cache index stable across incremental rebuilds.
    const order = new Map(paths.map((p, i) => [p, i]));
    entries.sort((a, b) => order.get(a.path)! - order.get(b.path)!);
    await checkpoint();
  } finally {
    await pool.close();
    await handle.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const summary: CacheBuildSummary = {
    out: options.out,
    total: paths.length,
    built,
    reused: entries.length - built,
    failed: failures.length,
    failures,
    seconds,
    imagesPerSec: built > 0 ? built / buildSeconds : 0,
    bytesWritten,
    aborted,
  };
  options.onProgress?.({ type: 'done', summary });
  return summary;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    written += bytesWritten;
  }
}

async function binIsValid(dir: string, index: CacheIndex): Promise<boolean> {
  try {
    // The last image's alignment padding is never written, so compare with where the data ends.
    const dataEnd = index.entries.reduce((end, e) => Math.max(end, e.offset + e.byteLength), 0);
    return (await stat(join(dir, index.binFile))).size >= dataEnd;
  } catch {
    return false;
  }
}

function normaliseSettings(o: BuildImageCacheOptions): PreprocessSettings {
  const size = o.size ?? 512;
  if (!Number.isInteger(size) || size < 1 || size > 16384) {
    throw new InvalidArgumentError(`cache size must be an integer in 1..16384, got ${size}`);
  }
  const dtype = o.dtype ?? 'uint16';
  if (dtype !== 'uint16' && dtype !== 'uint8') throw new InvalidArgumentError(`cache dtype must be uint16 or uint8, got ${dtype}`);
  const window = o.window ?? 'auto';
  if (typeof window === 'object' && !(window.width > 0 && Number.isFinite(window.center))) {
    throw new InvalidArgumentError(`window needs a finite center and width > 0, got ${JSON.stringify(window)}`);
  }
  // Fixed key order: the settings are compared as JSON to decide whether a cache can be reused.
  return { size, dtype, window, fit: o.fit ?? 'shortSide', filter: o.filter ?? 'area', color: o.color ?? 'grey' };
}

export { INDEX_FILE };
