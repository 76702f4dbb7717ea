/**
 * Reading a preprocessed cache at training time. In 'memory' mode the bin file is
 * loaded once into ≤1 GiB ArrayBuffers cut at image boundaries, and get(i) returns
 * a zero-copy typed-array view. In 'pread' mode (caches larger than memory) each
 * image is read from the page cache on demand. readBatch packs images into one
 * contiguous [B, H, W, C] tensor, reusing a caller-provided buffer when given.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { CacheError, INDEX_FILE, readCacheIndex, type CacheEntry, type CacheFailure, type CacheIndex } from './format.js';
import type { PreprocessSettings } from './preprocess.js';

export type CachePixels = Uint16Array | Uint8Array;

export interface CacheBatch {
  type: 'uint16' | 'uint8';
  data: CachePixels;
  /** [batch, rows, columns, channels] */
  dims: [number, number, number, number];
}

export interface ImageCache {
  readonly path: string;
  readonly length: number;
  readonly settings: PreprocessSettings;
  readonly entries: readonly CacheEntry[];
  readonly failures: readonly CacheFailure[];
  readonly mode: 'memory' | 'pread';
  /**
   * Pixels of image i (rows×columns×channels). Zero-copy in 'memory' mode; in 'pread' mode read
   * into `scratch` when it is of the cache's sample width and large enough (a view of it is
   * returned), else into a new array.
   */
  get(i: number, scratch?: CachePixels): CachePixels;
  shape(i: number): [number, number, number];
  indexOfPath(path: string): number;
  /** Images at `indices` packed into one tensor; all must share a shape. */
  readBatch(indices: ArrayLike<number>, out?: CachePixels): CacheBatch;
  close(): void;
}

export interface OpenImageCacheOptions {
  /** 'auto' (default): memory when the bin file is under a quarter of RAM, else pread. */
  mode?: 'auto' | 'memory' | 'pread';
  /** Largest buffer 'memory' mode allocates (default 1 GiB); images never straddle two. */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 2 ** 30;

export async function openImageCache(dir: string, options: OpenImageCacheOptions = {}): Promise<ImageCache> {
  const index = await readCacheIndex(dir);
  if (!index) throw new CacheError('ERR_MISSING_FILE', `no image cache index at ${join(dir, INDEX_FILE)}`, { path: dir });
  const mode = options.mode === 'memory' || options.mode === 'pread' ? options.mode : index.binBytes <= totalmem() / 4 ? 'memory' : 'pread';
  return new FileImageCache(dir, index, mode, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
}

class FileImageCache implements ImageCache {
  readonly length: number;
  readonly settings: PreprocessSettings;
  readonly entries: readonly CacheEntry[];
  readonly failures: readonly CacheFailure[];
  private fd: number | undefined;
  private chunks: { start: number; bytes: Uint8Array }[] = [];
  private chunkOf: Int32Array;
  private byPath: Map<string, number>;
  private readonly bytesPerSample: number;

  constructor(
    readonly path: string,
    index: CacheIndex,
    readonly mode: 'memory' | 'pread',
    chunkBytes: number,
  ) {
    this.settings = index.settings;
    this.entries = index.entries;
    this.failures = index.failures;
    this.length = index.entries.length;
    this.bytesPerSample = index.settings.dtype === 'uint16' ? 2 : 1;
    this.byPath = new Map(index.entries.map((e, i) => [e.path, i]));
    this.chunkOf = new Int32Array(this.length);
    const binPath = join(path, index.binFile);
    try {
      this.fd = openSync(binPath, 'r');
    } catch (error) {
      throw new CacheError('ERR_MISSING_FILE', `cache data file missing: ${binPath} (${(error as Error).message})`, { path: binPath });
    }
    for (const e of index.entries) {
      if (e.offset + e.byteLength > index.binBytes || e.byteLength !== e.rows * e.columns * e.channels * this.bytesPerSample) {
        throw new CacheError('ERR_CACHE_INDEX', `${join(path, INDEX_FILE)}: entry for ${e.path} does not fit the data file`);
      }
    }
    if (mode === 'memory') this.loadChunks(binPath, chunkBytes);
  }

  private loadChunks(binPath: string, chunkBytes: number): void {
    // Chunk boundaries fall between images so that every image is one contiguous view.
    const order = this.entries.map((e, i) => i).sort((a, b) => this.entries[a]!.offset - this.entries[b]!.offset);
    let k = 0;
    while (k < order.length) {
      const start = this.entries[order[k]!]!.offset;
      let end = start;
      const members: number[] = [];
      while (k < order.length) {
        const e = this.entries[order[k]!]!;
        if (members.length > 0 && e.offset + e.byteLength - start > chunkBytes) break;
        end = Math.max(end, e.offset + e.byteLength);
        members.push(order[k]!);
        k++;
      }
      const bytes = new Uint8Array(end - start);
      let read = 0;
      while (read < bytes.length) {
        const n = readSync(this.fd!, bytes, read, bytes.length - read, start + read);
        if (n === 0) throw new CacheError('ERR_CACHE_TRUNCATED', `${binPath} ends before byte ${start + bytes.length}`);
        read += n;
      }
      for (const m of members) this.chunkOf[m] = this.chunks.length;
      this.chunks.push({ start, bytes });
    }
    closeSync(this.fd!);
    this.fd = undefined;
  }

  private check(i: number): CacheEntry {
    const e = this.entries[i];
    if (!Number.isInteger(i) || !e) throw new CacheError('ERR_CACHE_RANGE', `cache index ${i} out of range 0..${this.length - 1}`);
    return e;
  }

  get(i: number, scratch?: CachePixels): CachePixels {
    const e = this.check(i);
    const count = e.rows * e.columns * e.channels;
    if (this.mode === 'memory') {
      const chunk = this.chunks[this.chunkOf[i]!]!;
      const at = chunk.bytes.byteOffset + e.offset - chunk.start;
      return this.bytesPerSample === 2 ? new Uint16Array(chunk.bytes.buffer, at, count) : new Uint8Array(chunk.bytes.buffer, at, count);
    }
    const fits = scratch && scratch.BYTES_PER_ELEMENT === this.bytesPerSample && scratch.length >= count;
    const out = fits ? scratch.subarray(0, count) : this.bytesPerSample === 2 ? new Uint16Array(count) : new Uint8Array(count);
    this.readInto(e, new Uint8Array(out.buffer));
    return out;
  }

  private readInto(e: CacheEntry, target: Uint8Array): void {
    if (this.fd === undefined) throw new CacheError('ERR_CACHE_CLOSED', `image cache ${this.path} is closed`);
    let read = 0;
    while (read < e.byteLength) {
      const n = readSync(this.fd, target, read, e.byteLength - read, e.offset + read);
      if (n === 0) throw new CacheError('ERR_CACHE_TRUNCATED', `cache data ends inside the image for ${e.path}`);
      read += n;
    }
  }

  shape(i: number): [number, number, number] {
    const e = this.check(i);
    return [e.rows, e.columns, e.channels];
  }

  indexOfPath(path: string): number {
    return this.byPath.get(path) ?? -1;
  }

  readBatch(indices: ArrayLike<number>, out?: CachePixels): CacheBatch {
    if (indices.length === 0) throw new CacheError('ERR_CACHE_RANGE', 'readBatch needs at least one index');
    const first = this.check(indices[0]!);
    const per = first.rows * first.columns * first.channels;
    const total = per * indices.length;
    const data = out ?? (this.bytesPerSample === 2 ? new Uint16Array(total) : new Uint8Array(total));
    if (data.length < total || data.BYTES_PER_ELEMENT !== this.bytesPerSample) {
      throw new CacheError(
        'ERR_SHAPE',
        `readBatch output holds ${data.length} ${data.BYTES_PER_ELEMENT * 8}-bit values, needs ${total} of ${this.bytesPerSample * 8}-bit`,
      );
    }
    for (let b = 0; b < indices.length; b++) {
      const e = this.check(indices[b]!);
      if (e.rows !== first.rows || e.columns !== first.columns || e.channels !== first.channels) {
        throw new CacheError(
          'ERR_SHAPE',
          `readBatch needs one shape: image ${indices[b]} is ${e.rows}x${e.columns}x${e.channels}, image ${indices[0]} is ` +
            `${first.rows}x${first.columns}x${first.channels} (build with fit 'squarePad' or 'squareStretch', or use get())`,
        );
      }
      if (this.mode === 'memory') (data as Uint16Array).set(this.get(indices[b]!) as Uint16Array, b * per);
      else this.readInto(e, new Uint8Array(data.buffer, data.byteOffset + b * per * this.bytesPerSample, e.byteLength));
    }
    return {
      type: this.settings.dtype,
      data: data.length === total ? data : data.subarray(0, total),
      dims: [indices.length, first.rows, first.columns, first.channels],
    };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.chunks = [];
  }
}
