/**
 * buildImageCache: decode every input once in worker threads, window, resize
 * (antialiased), quantize, and append to one binary file with a JSON index.
 * Incremental per entry: an image is decoded again only when its file (path, size, mtime) or the
 * settings that shaped its pixels changed (format.ts effectiveSettings); resumable (the index is
 * checkpointed atomically while building); never aborted by one bad file (failures are recorded
 * with their error codes).
 */
import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { coresForThisProcess } from '../../distributed/launch.js';
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
  CacheError,
  alignUp,
  entryValidUnder,
  readCacheIndex,
  sameSettings,
  settingsDifference,
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
  /**
   * Keep the entries (and recorded failures) of files that are not in `input` (default false: the
   * input defines what the cache holds). Training adds to its own cache this way.
   */
  keepOthers?: boolean;
  /**
   * Other cache folders to take images from before decoding: an input whose file (path, size,
   * mtime) another cache holds under settings that give the same pixels is copied from it, and
   * one it recorded as failing under the same settings is recorded here too (the shards of a
   * build spread over several processes; see ranks.ts).
   */
  reuseFrom?: string[];
  /** Write the index every this many finished images (default 64) so an interrupted build resumes. */
  checkpointEvery?: number;
  /** ... but no sooner than this many seconds after the previous write (default 1; 0: every checkpointEvery images). */
  checkpointSeconds?: number;
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
  /** Images copied from the reuseFrom caches (neither decoded nor already here). */
  imported: number;
  failed: number;
  failures: CacheFailure[];
  seconds: number;
  /** Images decoded and written per second (reused images excluded). */
  imagesPerSec: number;
  bytesWritten: number;
  aborted: boolean;
  /** Why images were decoded again or the data file rewritten (changed settings, an older or damaged index). */
  notes: string[];
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
  const notes: string[] = [];
  // Read even for a rebuild, so that the old data file is removed.
  const previous = options.rebuild ? await readCacheIndex(options.out).catch(() => undefined) : await readPrevious(options.out, notes);
  const valid = !options.rebuild && previous && (await binIsValid(options.out, previous)) ? previous : undefined;
  if (previous && !valid && !options.rebuild)
    notes.push(`data file ${previous.binFile} is missing or shorter than index.json says: every image is decoded again`);
  if (valid && valid.version < CACHE_VERSION) notes.push(`index.json was format v${valid.version}; rewritten as v${CACHE_VERSION}`);
  const same = valid !== undefined && sameSettings(valid.settings, settings);
  if (valid && !same) {
    notes.push(
      `settings changed (${settingsDifference(valid.settings, settings).join(', ')}): images whose pixels the change does not affect are kept`,
    );
  }
  // An entry is keyed by its file (path, size, mtime) and by the settings that shaped its pixels.
  const usable = (e: CacheEntry): boolean => valid !== undefined && entryValidUnder(e, valid.settings, settings);
  const oldEntries = new Map(valid?.entries.map((e) => [e.path, e]));
  // A failure can depend on the settings (ERR_IMAGE_TOO_LARGE), so failures carry over only under the same settings.
  const oldFailures = new Map(same ? valid.failures.map((f) => [f.path, f]) : []);
  const kept: CacheEntry[] = [];
  const failures: CacheFailure[] = [];
  const todo: { path: string; size: number; mtimeMs: number }[] = [];
  let skippedFailures = 0;
  let stale = 0;
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const message = `${path}: ${missing ? 'image file not found' : `cannot read the image file (${(error as Error).message})`}`;
      failures.push({ path, size: -1, mtimeMs: -1, code: missing ? 'ERR_MISSING_FILE' : 'ERR_IMAGE_IO', message });
      continue;
    }
    const key = { path, size: info.size, mtimeMs: info.mtimeMs };
    const old = oldEntries.get(path);
    const oldFailure = oldFailures.get(path);
    if (old && old.size === key.size && old.mtimeMs === key.mtimeMs && usable(old)) kept.push(old);
    else if (oldFailure && !options.retryFailed && oldFailure.size === key.size && oldFailure.mtimeMs === key.mtimeMs) {
      failures.push(oldFailure);
      skippedFailures++;
    } else {
      if (old) stale++;
      todo.push(key);
    }
  }
  if (valid && !same && stale > 0) notes.push(`${stale} cached image(s) are decoded again under the new settings, ${kept.length} kept`);
  const imports = await importable(options.reuseFrom ?? [], todo, settings, failures);
  if (imports.copies.length > 0 || imports.failures > 0) todo.splice(0, todo.length, ...imports.rest);
  const inputs = new Set(paths);
  const others = options.keepOthers && valid ? valid.entries.filter((e) => !inputs.has(e.path) && usable(e)) : [];
  const otherFailures = options.keepOthers && same ? valid.failures.filter((f) => !inputs.has(f.path)) : [];

  // The data file is kept and appended to while at least half of it is live; otherwise the live
  // images are copied into a new one (a settings change that invalidates everything copies nothing).
  const carried = [...kept, ...others];
  const liveBytes = carried.reduce((n, e) => n + alignUp(e.byteLength), 0);
  const appendTo = valid && carried.length > 0 && liveBytes >= valid.binBytes / 2 ? valid : undefined;
  const binFile = appendTo?.binFile ?? `images-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.bin`;
  const binPath = join(options.out, binFile);
  if (
    todo.length === 0 &&
    imports.copies.length === 0 &&
    valid &&
    same &&
    appendTo === valid &&
    valid.version === CACHE_VERSION &&
    carried.length === valid.entries.length &&
    failures.length + otherFailures.length === valid.failures.length &&
    failures.every((f) => oldFailures.get(f.path) === f)
  ) {
    // The index already says all of this: rewriting it would only reorder its entries.
    const summary: CacheBuildSummary = {
      out: options.out,
      total: paths.length,
      built: 0,
      reused: kept.length,
      imported: 0,
      failed: failures.length,
      failures,
      seconds: (performance.now() - started) / 1000,
      imagesPerSec: 0,
      bytesWritten: 0,
      aborted: false,
      notes,
    };
    options.onProgress?.({ type: 'start', total: paths.length, toBuild: 0, reused: kept.length, skippedFailures });
    options.onProgress?.({ type: 'done', summary });
    return summary;
  }
  const handle = await open(binPath, appendTo ? 'r+' : 'w');
  let binBytes = appendTo?.binBytes ?? 0;
  let entries: CacheEntry[];
  let extra: CacheEntry[];
  try {
    await handle.truncate(binBytes); // drop bytes an interrupted build appended after its last checkpoint
    if (valid && !appendTo && carried.length > 0) {
      const moved = await copyEntries(join(options.out, valid.binFile), handle, carried);
      binBytes = moved.binBytes;
      entries = moved.entries.slice(0, kept.length);
      extra = moved.entries.slice(kept.length);
      notes.push(
        `data file rewritten with the ${carried.length} live image(s) (${((valid.binBytes - binBytes) / 2 ** 20).toFixed(1)} MiB of replaced images dropped)`,
      );
    } else {
      entries = kept;
      extra = others;
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  const reused = entries.length;
  entries.push(...extra);
  failures.push(...otherFailures);
  const index: CacheIndex = { format: CACHE_FORMAT, version: CACHE_VERSION, settings, binFile, binBytes, entries, failures, updatedAt: '' };
  try {
    await writeCacheIndex(options.out, index);
  } catch (error) {
    await handle.close();
    throw error;
  }
  await removeStaleDataFiles(options.out, binFile);
  // each other cache's data file is opened once and read in offset order
  for (const bin of new Set(imports.copies.map((c) => c.bin))) {
    const copied = await copyEntries(
      bin,
      handle,
      imports.copies.filter((c) => c.bin === bin).map((c) => c.entry),
      binBytes,
    );
    entries.push(...copied.entries);
    binBytes = copied.binBytes;
  }

  options.onProgress?.({ type: 'start', total: paths.length, toBuild: todo.length, reused, skippedFailures });
  const workers = options.workers ?? Math.max(1, coresForThisProcess() - 1);
  const pool = createPool(Math.min(workers, todo.length));
  const checkpointEvery = options.checkpointEvery ?? 64;
  const checkpointMs = (options.checkpointSeconds ?? 1) * 1000;
  let lastCheckpoint = performance.now();
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
      // the index grows with the cache, so checkpoints are also spaced in time (else writing it dominates large builds)
      if (++sinceCheckpoint >= checkpointEvery && performance.now() - lastCheckpoint >= checkpointMs) {
        sinceCheckpoint = 0;
        lastCheckpoint = performance.now();
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
    // Entries in input order (then the kept others) make the cache index stable across incremental rebuilds.
    const order = new Map([...paths, ...extra.map((e) => e.path)].map((p, i) => [p, i]));
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
    reused,
    imported: imports.copies.length,
    failed: failures.length - otherFailures.length,
    failures: failures.filter((f) => inputs.has(f.path)),
    seconds,
    imagesPerSec: built > 0 ? built / buildSeconds : 0,
    bytesWritten,
    aborted,
    notes,
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

/** Data files the index no longer names (replaced, or left by an unreadable index); readers that have one open keep it. */
async function removeStaleDataFiles(dir: string, current: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name !== current && /^images-[a-z0-9]+\.bin$/.test(name)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** The previous index, or undefined (with a note) when it cannot be read; a newer format is refused, never overwritten. */
async function readPrevious(dir: string, notes: string[]): Promise<CacheIndex | undefined> {
  try {
    return await readCacheIndex(dir);
  } catch (error) {
    if ((error as CacheError).code === 'ERR_CACHE_VERSION') throw error;
    notes.push(`${(error as Error).message}: every image is decoded again`);
    return undefined;
  }
}

/** One entry's bytes from an open data file (`from` names it in errors). */
async function readBytes(source: FileHandle, from: string, e: CacheEntry): Promise<Uint8Array> {
  const bytes = new Uint8Array(e.byteLength);
  let read = 0;
  while (read < bytes.byteLength) {
    const { bytesRead } = await source.read(bytes, read, bytes.byteLength - read, e.offset + read);
    if (bytesRead === 0) throw new CacheError('ERR_CACHE_TRUNCATED', `${from} ends inside the image for ${e.path}`, { path: from });
    read += bytesRead;
  }
  return bytes;
}

interface Importable {
  copies: Array<{ bin: string; entry: CacheEntry }>;
  /** Inputs another cache recorded as failing (their failures were added to the build's). */
  failures: number;
  /** What is still to decode. */
  rest: Array<{ path: string; size: number; mtimeMs: number }>;
}

/** The inputs to decode that the `sources` caches already hold (or recorded as failing) for the same file and pixels. */
async function importable(
  sources: string[],
  todo: Array<{ path: string; size: number; mtimeMs: number }>,
  settings: PreprocessSettings,
  failures: CacheFailure[],
): Promise<Importable> {
  const result: Importable = { copies: [], failures: 0, rest: [] };
  const held = new Map<string, { bin: string; entry: CacheEntry }>();
  const failed = new Map<string, CacheFailure>();
  for (const dir of sources) {
    const index = await readCacheIndex(dir).catch(() => undefined);
    if (!index || !(await binIsValid(dir, index))) continue;
    for (const entry of index.entries)
      if (entryValidUnder(entry, index.settings, settings)) held.set(entry.path, { bin: join(dir, index.binFile), entry });
    if (sameSettings(index.settings, settings)) for (const f of index.failures) failed.set(f.path, f);
  }
  for (const item of todo) {
    const copy = held.get(item.path);
    const failure = failed.get(item.path);
    if (copy && copy.entry.size === item.size && copy.entry.mtimeMs === item.mtimeMs) result.copies.push(copy);
    else if (failure && failure.size === item.size && failure.mtimeMs === item.mtimeMs) {
      failures.push(failure);
      result.failures++;
    } else result.rest.push(item);
  }
  return result;
}

/**
 * Copies images from the data file `from` into `to` from byte `start` on, in offset order; returns
 * the entries with their new offsets and where the data now ends.
 */
async function copyEntries(
  from: string,
  to: FileHandle,
  live: CacheEntry[],
  start = 0,
): Promise<{ entries: CacheEntry[]; binBytes: number }> {
  const source = await open(from, 'r');
  try {
    const moved = new Map<CacheEntry, CacheEntry>();
    let end = start;
    for (const e of [...live].sort((a, b) => a.offset - b.offset)) {
      const bytes = await readBytes(source, from, e);
      await writeAll(to, bytes, end);
      moved.set(e, { ...e, offset: end });
      end = alignUp(end + bytes.byteLength);
    }
    await to.sync();
    return { entries: live.map((e) => moved.get(e)!), binBytes: end };
  } finally {
    await source.close();
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

/**
 * The inputs among `paths` that the cache in `options.out` does not already hold for the same file
 * and pixels (nor, unless retryFailed, record as failing): what a build would decode. Read-only.
 */
export async function inputsToDecode(paths: string[], options: BuildImageCacheOptions): Promise<string[]> {
  if (options.rebuild) return paths;
  const items: Array<{ path: string; size: number; mtimeMs: number }> = [];
  const unreadable: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info) items.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    else unreadable.push(path);
  }
  const failures: CacheFailure[] = [];
  const held = await importable([options.out], items, normaliseSettings(options), failures);
  const decode = new Set([...unreadable, ...held.rest.map((i) => i.path), ...(options.retryFailed ? failures.map((f) => f.path) : [])]);
  return paths.filter((p) => decode.has(p));
}
