/**
 * On-disk layout of a preprocessed image cache (one folder):
 *   index.json         — this file's CacheIndex, replaced atomically (tmp + rename)
 *   images-<id>.bin    — raw pixels, each image rows×columns×channels of uint16 LE or
 *                        uint8, starting at a 64-byte aligned offset; append-only
 * The index names the bin file and how many of its bytes are valid, so bytes
 * appended after the last index write (an interrupted build) are ignored and
 * overwritten on resume.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { RadlearnError } from '../../errors.js';
import type { CachedImageMeta, PreprocessSettings } from './preprocess.js';

export const CACHE_FORMAT = 'radlearn-image-cache';
export const CACHE_VERSION = 1;
export const CACHE_ALIGN = 64;
export const INDEX_FILE = 'index.json';

export interface CacheEntry {
  path: string;
  size: number;
  mtimeMs: number;
  offset: number;
  byteLength: number;
  rows: number;
  columns: number;
  channels: number;
  meta: CachedImageMeta;
}

export interface CacheFailure {
  path: string;
  size: number;
  mtimeMs: number;
  code: string;
  message: string;
}

export interface CacheIndex {
  format: typeof CACHE_FORMAT;
  version: number;
  settings: PreprocessSettings;
  binFile: string;
  binBytes: number;
  entries: CacheEntry[];
  failures: CacheFailure[];
  updatedAt: string;
}

export class CacheError extends RadlearnError {}

export async function readCacheIndex(dir: string): Promise<CacheIndex | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, INDEX_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let index: CacheIndex;
  try {
    index = JSON.parse(text) as CacheIndex;
  } catch {
    throw new CacheError('ERR_CACHE_INDEX', `${join(dir, INDEX_FILE)} is not valid JSON`, { path: join(dir, INDEX_FILE) });
  }
  if (index.format !== CACHE_FORMAT || index.version !== CACHE_VERSION || !Array.isArray(index.entries)) {
    throw new CacheError(
      'ERR_CACHE_INDEX',
      `${join(dir, INDEX_FILE)} is not a radlearn image cache index (format ${String(index.format)} v${String(index.version)})`,
      { path: join(dir, INDEX_FILE) },
    );
  }
  return index;
}

export async function writeCacheIndex(dir: string, index: CacheIndex): Promise<void> {
  index.updatedAt = new Date().toISOString();
  await writeFileAtomic(join(dir, INDEX_FILE), Buffer.from(JSON.stringify(index)), { createFolder: false });
}

export function bytesPerSample(settings: PreprocessSettings): number {
  return settings.dtype === 'uint16' ? 2 : 1;
}

export function alignUp(n: number): number {
  return Math.ceil(n / CACHE_ALIGN) * CACHE_ALIGN;
}

export function sameSettings(a: PreprocessSettings, b: PreprocessSettings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
