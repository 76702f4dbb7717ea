/**
 * On-disk layout of a preprocessed image cache (one folder):
 *   index.json         — this file's CacheIndex, replaced atomically (tmp + rename)
 *   images-<id>.bin    — raw pixels, each image rows×columns×channels of uint16 LE or
 *                        uint8, starting at a 64-byte aligned offset; append-only
 * The index names the bin file and how many of its bytes are valid, so bytes
 * appended after the last index write (an interrupted build) are ignored and
 * overwritten on resume.
 *
 * Version 2 records each entry's source channel count, which decides the entry's effective
 * settings (the settings that changed its pixels): an entry is reused under new folder settings
 * when its effective settings are the same. Version 1 indexes (no channel count) are read and
 * their entries reused only under identical settings; newer versions are refused.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { RadlearnError } from '../../errors.js';
import type { CachedImageMeta, PreprocessSettings } from './preprocess.js';

export const CACHE_FORMAT = 'radlearn-image-cache';
export const CACHE_VERSION = 2;
/** Index versions this code reads (older ones are upgraded when the folder is next built). */
export const CACHE_READABLE_VERSIONS: readonly number[] = [1, 2];
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
  if (index.format !== CACHE_FORMAT || !Array.isArray(index.entries)) {
    throw new CacheError(
      'ERR_CACHE_INDEX',
      `${join(dir, INDEX_FILE)} is not a radlearn image cache index (format ${String(index.format)} v${String(index.version)})`,
      { path: join(dir, INDEX_FILE) },
    );
  }
  if (!CACHE_READABLE_VERSIONS.includes(index.version)) {
    throw new CacheError(
      'ERR_CACHE_VERSION',
      `${join(dir, INDEX_FILE)} is image cache format v${String(index.version)}; this radlearn reads v${CACHE_READABLE_VERSIONS.join(' and v')}. ` +
        'Use the radlearn that wrote it, or rebuild the folder (radlearn cache build ... --rebuild)',
      { path: join(dir, INDEX_FILE), version: index.version },
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
  return settingsKey(a) === settingsKey(b);
}

/** The settings as one string with a fixed key order (how settings are compared). */
export function settingsKey(s: PreprocessSettings): string {
  return JSON.stringify({ size: s.size, dtype: s.dtype, window: s.window, fit: s.fit, filter: s.filter, color: s.color });
}

/**
 * The settings that decide an image's cached pixels, given its source channel count: `color`
 * changes nothing for a one-channel source, and a colour source is scaled by its bit depth under
 * both `window: 'auto'` and `'none'` (DicomImage.toImage). Unknown channels (a v1 entry): all
 * settings count.
 */
export function effectiveSettings(s: PreprocessSettings, sourceChannels: number | undefined): PreprocessSettings {
  if (sourceChannels === 1) return { ...s, color: 'grey' };
  if (sourceChannels === 3 && typeof s.window === 'string') return { ...s, window: 'auto' };
  return s;
}

/** Whether an entry cached under `built` holds exactly the pixels `wanted` would give. */
export function entryValidUnder(entry: CacheEntry, built: PreprocessSettings, wanted: PreprocessSettings): boolean {
  const channels = entry.meta.sourceChannels;
  return settingsKey(effectiveSettings(built, channels)) === settingsKey(effectiveSettings(wanted, channels));
}

/** How two settings differ, in words: `size 256 vs 128, fit shortSide vs squarePad` (empty when equal). */
export function settingsDifference(have: PreprocessSettings, want: PreprocessSettings): string[] {
  const show = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));
  return (['size', 'fit', 'dtype', 'window', 'filter', 'color'] as const).flatMap((k) =>
    JSON.stringify(have[k]) === JSON.stringify(want[k]) ? [] : [`${k} ${show(have[k])} vs ${show(want[k])}`],
  );
}

/** `256 px squarePad uint16` and the rest of the settings, for messages. */
export function describeSettings(s: PreprocessSettings): string {
  const window = typeof s.window === 'string' ? s.window : `${s.window.center},${s.window.width}`;
  return `${s.size} px ${s.fit} ${s.dtype}, window ${window}, filter ${s.filter}, color ${s.color}`;
}
