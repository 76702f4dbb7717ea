/**
 * Content hashes of the image files that could be byte-identical copies across owners (patients),
 * cheap enough for MIMIC-size manifests: every file is stat'ed, and only files whose byte size is
 * shared with a file of another owner are read. Of those, files larger than HEAD_BYTES are first
 * hashed over their first HEAD_BYTES, and only files whose (size, head) still collide across
 * owners are read whole. Identical content implies identical size and head, so no copy is missed.
 *
 * Hashes are cached in a small JSON file keyed by (absolute path, size, mtimeMs); a file whose
 * size or modification time changed is read again. A corrupt cache is ignored and rewritten.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import { mapLimit } from '../../io/map-limit.js';

/** Bytes hashed in the head pass; files this small are hashed whole at once. */
export const HEAD_BYTES = 64 * 1024;
const CACHE_FORMAT = 'radlearn-image-hashes';
const CACHE_VERSION = 1;
const STAT_CONCURRENCY = 64;

export interface HashScanStats {
  /** Distinct image paths looked at. */
  files: number;
  /** Paths that could not be stat'ed or read (missing images are reported elsewhere). */
  skipped: number;
  /** Files whose size is shared with a file of another owner: the only ones read at all. */
  sizeCollisions: number;
  /** Head reads of larger files (the first HEAD_BYTES bytes). */
  headReads: number;
  /** Whole-file reads. */
  fullReads: number;
  /** Hashes taken from the cache instead of read. */
  cacheHits: number;
}

export interface ImageHashOptions {
  /** Hash cache file; undefined: no cache. */
  cachePath?: string;
  /** Files read at once (default 8). */
  concurrency?: number;
  /** Told when the cache cannot be written; the scan itself still succeeds. */
  onWarning?: (message: string) => void;
}

export interface ImageHashResult {
  /** SHA-256 (hex) of every file that may have a copy under another owner. */
  sha256: Map<string, string>;
  stats: HashScanStats;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first HEAD_BYTES bytes (files larger than HEAD_BYTES). */
  head?: string;
  /** SHA-256 of the whole file. */
  sha256?: string;
}

interface FileInfo {
  path: string;
  owners: Set<string>;
  size: number;
  mtimeMs: number;
}

const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** The cache's entries, or an empty map when it is absent, unreadable or not a cache this version wrote. */
async function readCache(path: string): Promise<{ entries: Map<string, CacheEntry>; valid: boolean; exists: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { entries: new Map(), valid: false, exists: false };
  }
  const entries = new Map<string, CacheEntry>();
  try {
    const parsed = JSON.parse(text) as { format?: unknown; version?: unknown; headBytes?: unknown; files?: unknown };
    if (parsed.format !== CACHE_FORMAT || parsed.version !== CACHE_VERSION || parsed.headBytes !== HEAD_BYTES) throw new Error('format');
    if (parsed.files === null || typeof parsed.files !== 'object' || Array.isArray(parsed.files)) throw new Error('files');
    for (const [file, raw] of Object.entries(parsed.files as Record<string, unknown>)) {
      const e = raw as Partial<CacheEntry> | null;
      if (e === null || typeof e !== 'object' || typeof e.size !== 'number' || typeof e.mtimeMs !== 'number') continue;
      const entry: CacheEntry = { size: e.size, mtimeMs: e.mtimeMs };
      if (isHex64(e.head)) entry.head = e.head;
      if (isHex64(e.sha256)) entry.sha256 = e.sha256;
      entries.set(file, entry);
    }
  } catch {
    return { entries: new Map(), valid: false, exists: true };
  }
  return { entries, valid: true, exists: true };
}

/** Streams `path` (or its first `bytes` bytes) through SHA-256. */
async function hashFile(path: string, bytes?: number): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(bytes !== undefined ? { start: 0, end: bytes - 1 } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Keeps the files of buckets whose files belong to at least two owners together. */
function sharedAcrossOwners(files: FileInfo[], key: (f: FileInfo) => string): FileInfo[] {
  const buckets = new Map<string, FileInfo[]>();
  for (const f of files) {
    const k = key(f);
    const list = buckets.get(k);
    if (list) list.push(f);
    else buckets.set(k, [f]);
  }
  const out: FileInfo[] = [];
  for (const list of buckets.values()) {
    const owners = new Set<string>();
    for (const f of list) for (const o of f.owners) owners.add(o);
    if (owners.size >= 2) out.push(...list);
  }
  return out;
}

/**
 * SHA-256 of each file (path → owners) whose bytes may equal those of a file of another owner.
 * A file listed under two owners is its own copy and is always hashed.
 */
export async function hashSharedFiles(owners: Map<string, Set<string>>, options: ImageHashOptions = {}): Promise<ImageHashResult> {
  const concurrency = options.concurrency ?? 8;
  const stats: HashScanStats = { files: owners.size, skipped: 0, sizeCollisions: 0, headReads: 0, fullReads: 0, cacheHits: 0 };
  const infos: FileInfo[] = [];
  await mapLimit([...owners], STAT_CONCURRENCY, async ([path, who]) => {
    try {
      const s = await stat(path);
      if (s.isFile()) infos.push({ path, owners: who, size: s.size, mtimeMs: s.mtimeMs });
      else stats.skipped++;
    } catch {
      stats.skipped++;
    }
  });
  // stat completion order varies; sort so buckets, cache and results do not depend on it
  infos.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bySize = sharedAcrossOwners(infos, (f) => String(f.size));
  stats.sizeCollisions = bySize.length;

  const cache = options.cachePath !== undefined ? await readCache(options.cachePath) : undefined;
  const fresh = (f: FileInfo): CacheEntry | undefined => {
    const e = cache?.entries.get(f.path);
    return e && e.size === f.size && e.mtimeMs === f.mtimeMs ? e : undefined;
  };
  const written = new Map<string, CacheEntry>();
  // a rewritten cache keeps what is still valid of an entry, even a hash this scan did not need
  const entryOf = (f: FileInfo): CacheEntry => {
    let e = written.get(f.path);
    if (!e) written.set(f.path, (e = { ...fresh(f), size: f.size, mtimeMs: f.mtimeMs }));
    return e;
  };
  let readAny = false;
  const unreadable = new Set<string>();

  const takeHash = async (f: FileInfo, field: 'head' | 'sha256'): Promise<void> => {
    const entry = entryOf(f);
    const cached = fresh(f)?.[field];
    if (cached !== undefined) {
      entry[field] = cached;
      stats.cacheHits++;
      return;
    }
    try {
      entry[field] = await hashFile(f.path, field === 'head' ? HEAD_BYTES : undefined);
      readAny = true;
      if (field === 'head') stats.headReads++;
      else stats.fullReads++;
    } catch {
      unreadable.add(f.path);
    }
  };

  // small files: the whole file is no more than a head read
  const small = bySize.filter((f) => f.size <= HEAD_BYTES);
  const large = bySize.filter((f) => f.size > HEAD_BYTES);
  await mapLimit(small, concurrency, (f) => takeHash(f, 'sha256'));
  await mapLimit(large, concurrency, (f) => takeHash(f, 'head'));
  const headed = large.filter((f) => !unreadable.has(f.path));
  const byHead = sharedAcrossOwners(headed, (f) => `${f.size}:${written.get(f.path)?.head}`);
  await mapLimit(byHead, concurrency, (f) => takeHash(f, 'sha256'));

  stats.skipped += unreadable.size;
  const sha256 = new Map<string, string>();
  for (const f of bySize) {
    const h = written.get(f.path)?.sha256;
    if (h !== undefined && !unreadable.has(f.path)) sha256.set(f.path, h);
  }

  if (cache && options.cachePath !== undefined) {
    for (const p of unreadable) written.delete(p);
    // rewrite when something was read, the cache was unusable, or entries no longer needed would linger
    const stale = cache.entries.size !== written.size || [...written.keys()].some((p) => !cache.entries.has(p));
    const needed = written.size > 0 || cache.exists;
    if (needed && (readAny || !cache.valid || stale)) {
      const files: Record<string, CacheEntry> = {};
      for (const [p, e] of written) files[p] = e;
      try {
        // one line, no indentation: a dataset of same-size DICOMs puts most of its files here
        await writeFileAtomic(
          options.cachePath,
          `${JSON.stringify({ format: CACHE_FORMAT, version: CACHE_VERSION, headBytes: HEAD_BYTES, files })}\n`,
        );
      } catch (error) {
        options.onWarning?.(
          `could not write the image hash cache ${options.cachePath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
            'the duplicate-image check will read those files again next time',
        );
      }
    }
  }
  return { sha256, stats };
}
