/**
 * Where a run's preprocessed images come from: a `radlearn cache build` folder named by
 * `data.cache` when its entries hold exactly the pixels training needs, else train's own cache
 * `<cacheDir>/images-<size>-<fit>`, which decodes only what neither holds. The given folder is
 * only read, never written: it may be shared, read-only, or being rebuilt by its owner, and train
 * never holds its lock; images it lacks (or holds under other settings) are added to train's own
 * cache instead.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildImageCache } from '../data/cache/build.js';
import {
  describeSettings,
  entryValidUnder,
  readCacheIndex,
  settingsDifference,
  type CacheEntry,
  type CacheFailure,
  type CacheIndex,
} from '../data/cache/format.js';
import type { PreprocessSettings } from '../data/cache/preprocess.js';
import { openImageCache, type CachePixels, type ImageCache } from '../data/cache/reader.js';
import type { TrainConfig } from './config.js';
import { TrainDataError } from './dataset.js';
import { coresForThisProcess } from '../distributed/launch.js';

export interface ImageProgress {
  (stage: string, message: string, progress?: number): void;
}

export function cacheDirOf(config: TrainConfig): string {
  return resolve(config.cacheDir ?? join(config.runsDir, '.cache'));
}

/** The preprocessing whose pixels train feeds its encoders (a cache must have been built with these). */
export function trainCacheSettings(config: TrainConfig): PreprocessSettings {
  return { size: config.image.size, dtype: 'uint16', window: 'auto', fit: config.image.fit, filter: 'area', color: 'grey' };
}

/** Train's own image cache folder for this config's size and fit. */
export function ownImageCacheDir(config: TrainConfig): string {
  return join(cacheDirOf(config), `images-${config.image.size}-${config.image.fit}`);
}

/** The `radlearn cache build` command that makes a folder train can read as `data.cache`. */
export function cacheBuildCommand(config: TrainConfig, out: string): string {
  const s = trainCacheSettings(config);
  return `radlearn cache build ${config.data.manifest} --out ${out} --size ${s.size} --fit ${s.fit} --dtype ${s.dtype} --window ${String(s.window)} --filter ${s.filter} --color ${s.color}`;
}

export interface PreparedImages {
  /** Each usable image's cache folder (external or own), by resolved path. */
  sources: Map<string, string>;
  /** Requested images that are missing or could not be decoded (code ERR_MISSING_FILE for missing files). */
  failures: CacheFailure[];
  /** Images handed to the decoder by this call (into train's own cache), whether or not they decoded. */
  decoded: number;
  /** Images read from train's own cache without decoding. */
  reused: number;
  ownDir: string;
  external?: { dir: string; used: number };
}

export interface PrepareOptions {
  progress?: ImageProgress;
  /** What the user should know about `data.cache` (level 'warning' for a settings mismatch). */
  note?: (level: 'info' | 'warning', message: string) => void;
}

/**
 * Makes every path's pixels available: from `data.cache` where its entry is current (same file
 * size and mtime) and valid under training's settings, else from train's own cache, decoding
 * only the images that one lacks. Missing and undecodable files come back as failures.
 */
export async function prepareImages(config: TrainConfig, paths: readonly string[], options: PrepareOptions = {}): Promise<PreparedImages> {
  const need = trainCacheSettings(config);
  const ownDir = ownImageCacheDir(config);
  const wanted = [...new Set(paths.map((p) => resolve(p)))];
  const external = config.data.cache === undefined ? undefined : await readExternal(config, resolve(config.data.cache));
  const sources = new Map<string, string>();
  const todo: string[] = [];
  let bySettings = 0,
    absent = 0,
    changed = 0;
  for (const path of wanted) {
    const entry = external?.byPath.get(path);
    if (!external || !entry) {
      if (external) absent++;
      todo.push(path);
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info || info.size !== entry.size || info.mtimeMs !== entry.mtimeMs) {
      changed++;
      todo.push(path);
    } else if (!fits(entry, external.index.settings, need)) {
      bySettings++;
      todo.push(path);
    } else sources.set(path, external.dir);
  }
  const fromExternal = sources.size;
  if (external) explainExternal(config, external, need, { used: fromExternal, bySettings, absent, changed, ownDir }, options);

  let decoded = 0,
    reused = 0;
  const failures: CacheFailure[] = [];
  if (todo.length > 0) {
    const summary = await buildImageCache(todo, {
      out: ownDir,
      ...need,
      keepOthers: true,
      // the main thread only appends the decoded pixels, so every core decodes
      workers: coresForThisProcess(),
      onProgress: (e) => {
        if (e.type === 'start') decoded = e.toBuild;
        if (e.type === 'progress') options.progress?.('images', `decoding images ${e.done}/${e.toBuild}`, e.done / Math.max(1, e.toBuild));
      },
    });
    reused = summary.reused;
    failures.push(...summary.failures);
    const failed = new Set(summary.failures.map((f) => f.path));
    for (const path of todo) if (!failed.has(path)) sources.set(path, ownDir);
  }
  return { sources, failures, decoded, reused, ownDir, ...(external ? { external: { dir: external.dir, used: fromExternal } } : {}) };
}

interface External {
  dir: string;
  index: CacheIndex;
  byPath: Map<string, CacheEntry>;
}

async function readExternal(config: TrainConfig, dir: string): Promise<External> {
  const index = await readCacheIndex(dir);
  if (!index) {
    throw new TrainDataError(
      `config key data.cache: no radlearn image cache at ${dir} (no index.json); build one with: ${cacheBuildCommand(config, dir)}`,
      { key: 'data.cache', path: dir },
    );
  }
  return { dir, index, byPath: new Map(index.entries.map((e) => [e.path, e])) };
}

/** An entry of the given cache that holds exactly training's pixels: valid under its settings, at training's square size. */
function fits(entry: CacheEntry, built: PreprocessSettings, need: PreprocessSettings): boolean {
  return entryValidUnder(entry, built, need) && entry.rows === need.size && entry.columns === need.size && entry.channels === 1;
}

function explainExternal(
  config: TrainConfig,
  external: External,
  need: PreprocessSettings,
  counts: { used: number; bySettings: number; absent: number; changed: number; ownDir: string },
  options: PrepareOptions,
): void {
  const { dir, index } = external;
  const differences = settingsDifference(index.settings, need);
  if (counts.bySettings > 0) {
    const message =
      `data.cache ${dir} is ${describeSettings(index.settings)}; training needs ${describeSettings(need)} ` +
      `(${differences.join(', ')}), so ${counts.bySettings} of its images cannot be used`;
    if (config.data.strict) {
      throw new TrainDataError(`${message}; data.strict is set. Build a matching cache with: ${cacheBuildCommand(config, dir)}`, {
        key: 'data.cache',
        path: dir,
        differences,
      });
    }
    options.note?.('warning', `${message}: they are decoded into train's own cache ${counts.ownDir}`);
  } else if (differences.length > 0 && counts.used > 0) {
    options.note?.('info', `data.cache ${dir} differs in ${differences.join(', ')}, which does not change these images' pixels`);
  }
  const elsewhere = [
    counts.absent > 0 ? `${counts.absent} not in it` : '',
    counts.changed > 0 ? `${counts.changed} changed or missing since it was built` : '',
  ].filter(Boolean);
  const tail = elsewhere.length > 0 ? `; ${elsewhere.join(', ')}: from train's own cache ${counts.ownDir}` : '';
  options.note?.('info', `${counts.used} image(s) read from data.cache ${dir}${tail}`);
}

/** Prepared images read as the encoders' float32 input, from caches opened once for many reads. */
export interface ImageReader {
  /**
   * The images at `paths` as float32 [n, 1, S, S] in path order, scaled to [0, 1] then
   * (x - mean) / std, written into `out` (which must hold n·S·S values) or a new array.
   */
  read(paths: readonly string[], out?: Float32Array): { data: Float32Array; dims: [number, number, number, number] };
  close(): void;
}

/** Opens the caches holding `prepared`'s images; every path read must be in `prepared.sources`. */
export async function openImageReader(config: TrainConfig, prepared: PreparedImages): Promise<ImageReader> {
  const caches = new Map<string, ImageCache>();
  try {
    for (const dir of new Set(prepared.sources.values())) {
      // each image is read once, so only the images asked for are read (a folder may hold many more)
      caches.set(dir, await openImageCache(dir, { mode: 'pread' }));
    }
  } catch (error) {
    for (const cache of caches.values()) cache.close();
    throw error;
  }
  const need = trainCacheSettings(config);
  const size = config.image.size;
  const per = size * size;
  const luts = new Map<number, Float32Array>();
  const lutFor = (scale: number): Float32Array => {
    let lut = luts.get(scale);
    if (!lut) luts.set(scale, (lut = pixelTable(scale, config.image.mean, config.image.std)));
    return lut;
  };
  // a pread cache reads each image into one reused buffer (its values are converted at once)
  const scratch = new Map<string, CachePixels>();
  return {
    read(paths, out) {
      const data = out ?? new Float32Array(paths.length * per);
      if (data.length < paths.length * per)
        throw new TrainDataError(`readImages: the output holds ${data.length} values, ${paths.length} images need ${paths.length * per}`);
      paths.forEach((p, i) => {
        const full = resolve(p);
        const dir = prepared.sources.get(full);
        const cache = dir === undefined ? undefined : caches.get(dir);
        const index = cache ? cache.indexOfPath(full) : -1;
        if (!cache || index < 0)
          throw new TrainDataError(`image ${p} is missing from the image cache at ${dir ?? prepared.ownDir}`, { path: p });
        // data.cache is read without its lock: a rebuild since prepareImages must not pass other pixels off as training's
        if (dir !== prepared.ownDir && !fits(cache.entries[index]!, cache.settings, need))
          throw new TrainDataError(`data.cache ${dir} was rebuilt with other settings while this run read it; run again`, { path: dir });
        const [rows, cols, channels] = cache.shape(index);
        if (rows !== size || cols !== size)
          throw new TrainDataError(`image ${p} was cached at ${rows}x${cols}, expected ${size}x${size}`, { path: p });
        const reused = scratch.get(dir!);
        const px = cache.get(index, reused);
        if (cache.mode === 'pread' && px.buffer !== reused?.buffer) scratch.set(dir!, px);
        const lut = lutFor(px instanceof Uint16Array ? 65535 : 255);
        const target = data.subarray(i * per, (i + 1) * per);
        for (let k = 0; k < per; k++) target[k] = lut[px[k * channels]!]!;
      });
      return {
        data: data.length === paths.length * per ? data : data.subarray(0, paths.length * per),
        dims: [paths.length, 1, size, size],
      };
    },
    close() {
      for (const cache of caches.values()) cache.close();
    },
  };
}

/**
 * The prepared images as float32 [n, 1, S, S] in path order, scaled to [0, 1] then
 * (x - mean) / std. Every path must be in `prepared.sources`.
 */
export async function readImages(
  config: TrainConfig,
  paths: readonly string[],
  prepared: PreparedImages,
): Promise<{ data: Float32Array; dims: [number, number, number, number] }> {
  const reader = await openImageReader(config, prepared);
  try {
    return reader.read(paths);
  } finally {
    reader.close();
  }
}

/**
 * Every stored value's float: (v / scale - mean) / std evaluated in double and rounded to float32,
 * exactly as writing the expression into a Float32Array rounds it, so a lookup gives the same bits.
 */
export function pixelTable(scale: number, mean: number, std: number): Float32Array {
  const table = new Float32Array(scale + 1);
  for (let v = 0; v <= scale; v++) table[v] = (v / scale - mean) / std;
  return table;
}

/** One line per failure (the first `max`), then how many more: for warnings and errors. */
export function failureLines(failures: ReadonlyArray<{ path: string; code: string; message: string; row?: number }>, max = 20): string[] {
  const lines = failures.slice(0, max).map((f) => {
    const message = f.message.startsWith(`${f.path}: `) ? f.message.slice(f.path.length + 2) : f.message;
    return `${f.row === undefined ? '' : `row ${f.row}: `}${f.path}: ${f.code}: ${message}`;
  });
  if (failures.length > max) lines.push(`... and ${failures.length - max} more`);
  return lines;
}
