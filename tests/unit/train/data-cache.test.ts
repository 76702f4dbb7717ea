import { beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCache } from '../../../src/cli/commands/cache.js';
import { dataFlagOverrides, registerTrain } from '../../../src/cli/commands/train.js';
import { preprocessImage } from '../../../src/data/cache/preprocess.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import {
  buildImageCache,
  loadManifest,
  loadTrainConfig,
  parseTrainConfig,
  train,
  type DataSummary,
  type TrainEvent,
} from '../../../src/index.js';
import { configHash } from '../../../src/train/config-hash.js';
import type { TrainConfig, TrainConfigInput } from '../../../src/train/config.js';
import { loadImages } from '../../../src/train/features.js';
import { pixelTable, prepareImages, trainCacheSettings } from '../../../src/train/images.js';

let root = '';
let manifest = '';
let paths: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-data-cache-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 24, size: 64, seed: 3 })).manifestPath;
  paths = (await loadManifest(manifest)).rows.map((r) => r.imagePaths[0]!);
});

function config(name: string, data: Partial<TrainConfigInput['data']> = {}): TrainConfig {
  return parseTrainConfig({
    name,
    mode: 'supervised',
    runsDir: join(root, 'runs'),
    cacheDir: mkdtempSync(join(root, 'own-')),
    steps: 2,
    batchSize: 4,
    data: { manifest, ...data },
    image: { size: 32 },
  });
}

async function runAndCollect(cfg: TrainConfig): Promise<{ events: TrainEvent[]; summary: DataSummary; stages: string[] }> {
  const run = train(cfg, { skipEvaluation: true });
  const events: TrainEvent[] = [];
  for await (const e of run) events.push(e);
  await run.result;
  const data = events.find((e) => e.type === 'data');
  expect(data).toBeDefined();
  return {
    events,
    summary: (data as { summary: DataSummary }).summary,
    stages: events.flatMap((e) => (e.type === 'stage' ? [`[${e.stage}] ${e.message}`] : [])),
  };
}

/** `radlearn cache build` with the flags a user would type, output captured. */
async function cliCacheBuild(args: string[]): Promise<string> {
  const program = new Command('radlearn');
  registerCache(program);
  const out: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.exitOverride().parseAsync(['node', 'radlearn', 'cache', 'build', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return out.join('');
}

const folderState = (dir: string): string =>
  readdirSync(dir)
    .sort()
    .map((f) => `${f}:${readFileSync(join(dir, f)).toString('base64')}`)
    .join('\n');

describe('train reads a `radlearn cache build` folder (data.cache)', () => {
  it('with matching settings nothing is decoded, on the first run or the second (CLI --cache), and the folder is not written', async () => {
    const ext = join(root, 'ext-match');
    expect(await cliCacheBuild([manifest, '--out', ext, '--size', '32', '--fit', 'squarePad', '--workers', '0'])).toContain(
      '24 inputs, 24 decoded, 0 reused, 0 failed',
    );
    const before = folderState(ext);

    const first = config('match1', { cache: ext });
    const { summary, stages } = await runAndCollect(first);
    expect(summary.images).toMatchObject({ checked: 24, decoded: 0, reused: 0, fromDataCache: 24, dataCache: ext, droppedRows: 0 });
    expect(stages.join('\n')).toContain(`[images] 24 image(s) read from data.cache ${ext}`);
    expect(stages.join('\n')).not.toMatch(/decoding images/);
    expect(existsSync(join(first.cacheDir!, 'images-32-squarePad'))).toBe(false); // train's own cache never made
    expect(folderState(ext)).toBe(before);

    // the second run through the CLI flag, printed by the CLI renderer
    const cfgPath = join(root, 'match2.json');
    const second = config('match2');
    writeFileSync(cfgPath, JSON.stringify({ ...second, data: { manifest } }));
    const program = new Command('radlearn');
    registerTrain(program);
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
    try {
      await program.exitOverride().parseAsync(['node', 'radlearn', 'train', '--config', cfgPath, '--cache', ext]);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    const log = err.join('');
    expect(log).toContain(`[images] 24 image(s) read from data.cache ${ext}`);
    expect(log).toMatch(
      /\[data\] images \(all rows\): 24 checked, 0 missing, 0 undecodable, 0 rows dropped; 24 from data.cache, 0 from train's cache, 0 decoded/,
    );
    expect(log).toMatch(/\[data\] label \(pos\/neg\/unc\/missing\)\s+train\s+val\s+test/);
    expect(log).not.toMatch(/decoding images/);
    expect(existsSync(join(second.cacheDir!, 'images-32-squarePad'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'runs', 'match2', 'config.json'), 'utf8')).data.cache).toBe(ext);
    expect(folderState(ext)).toBe(before);
  });

  it('feeds the encoders byte-identical pixels from data.cache and from train’s own cache', async () => {
    const subset = paths.slice(0, 8);
    const ext = join(root, 'ext-pixels');
    await buildImageCache(paths, { out: ext, ...trainCacheSettings(config('p')), workers: 0 });
    const fromExternal = config('pixels-ext', { cache: ext });
    const own = config('pixels-own');
    const a = await loadImages(fromExternal, subset);
    const b = await loadImages(own, subset);
    expect(existsSync(join(fromExternal.cacheDir!, 'images-32-squarePad'))).toBe(false);
    expect(existsSync(join(own.cacheDir!, 'images-32-squarePad'))).toBe(true);
    expect(a.dims).toEqual([8, 1, 32, 32]);
    expect(b.dims).toEqual(a.dims);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    // and both are the preprocessing of the file itself, normalised with image.mean / image.std
    const one = await preprocessImage(subset[5]!, trainCacheSettings(own));
    const expected = Float32Array.from(one.data, (v) => (v / 65535 - 0.5) / 0.25);
    expect(Buffer.from(a.data.buffer, 5 * 1024 * 4, 1024 * 4).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('with other settings it names each difference and falls back to train’s own cache; data.strict makes it fatal', async () => {
    const ext = join(root, 'ext-256');
    await buildImageCache(paths, { out: ext, size: 48, fit: 'squarePad', workers: 0 });
    const before = folderState(ext);
    const { summary, stages } = await runAndCollect(config('mismatch', { cache: ext }));
    const warning = stages.find((s) => s.startsWith('[warning]'))!;
    expect(warning).toContain(
      `data.cache ${ext} is 48 px squarePad uint16, window auto, filter area, color grey; ` +
        'training needs 32 px squarePad uint16, window auto, filter area, color grey (size 48 vs 32), so 24 of its images cannot be used',
    );
    expect(warning).toContain("they are decoded into train's own cache");
    expect(summary.images).toMatchObject({ decoded: 24, fromDataCache: 0 });
    expect(folderState(ext)).toBe(before);

    await expect(train(config('mismatch-strict', { cache: ext, strict: true })).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_DATA',
      message: expect.stringMatching(
        /\(size 48 vs 32\).*data\.strict is set\. Build a matching cache with: radlearn cache build .* --size 32 --fit squarePad/s,
      ),
    });

    const short = join(root, 'ext-short');
    await buildImageCache(paths.slice(0, 3), { out: short, size: 32, fit: 'shortSide', dtype: 'uint8', workers: 0 });
    const notes: string[] = [];
    const prepared = await prepareImages(config('fit', { cache: short }), paths.slice(0, 3), {
      note: (level, m) => notes.push(`${level}: ${m}`),
    });
    expect(prepared.decoded).toBe(3);
    expect(notes[0]).toMatch(/^warning: .*\(fit shortSide vs squarePad, dtype uint8 vs uint16\), so 3 of its images cannot be used/);
  });

  it('uses entries whose pixels a setting difference does not change, and takes images it lacks from train’s own cache', async () => {
    // the phantom is one-channel, so a cache built with color 'keep' holds exactly training's pixels
    const keep = join(root, 'ext-keep');
    await buildImageCache(paths.slice(0, 16), { out: keep, ...trainCacheSettings(config('k')), color: 'keep', workers: 0 });
    const cfg = config('partial', { cache: keep });
    const notes: string[] = [];
    const first = await prepareImages(cfg, paths, { note: (level, m) => notes.push(`${level}: ${m}`) });
    expect([first.external?.used, first.decoded, first.reused]).toEqual([16, 8, 0]);
    expect(notes).toEqual([
      `info: data.cache ${keep} differs in color keep vs grey, which does not change these images' pixels`,
      `info: 16 image(s) read from data.cache ${keep}; 8 not in it: from train's own cache ${join(cfg.cacheDir!, 'images-32-squarePad')}`,
    ]);
    const second = await prepareImages(cfg, paths);
    expect([second.external?.used, second.decoded, second.reused]).toEqual([16, 0, 8]);
  });

  it('train’s own cache decodes only the images added to the manifest', async () => {
    const cfg = config('grow');
    expect((await prepareImages(cfg, paths.slice(0, 16))).decoded).toBe(16);
    const grown = await prepareImages(cfg, paths);
    expect([grown.decoded, grown.reused]).toEqual([8, 16]);
    // a smaller manifest later (another run's) keeps the other images in the folder
    expect((await prepareImages(cfg, paths.slice(20))).decoded).toBe(0);
    expect((await prepareImages(cfg, paths)).decoded).toBe(0);
  });

  it('--cache and --strict are the data.cache and data.strict keys, which do not change the run’s config hash', async () => {
    const file = join(root, 'flags.json');
    writeFileSync(file, JSON.stringify({ name: 'flags', mode: 'supervised', data: { manifest } }));
    const sets = dataFlagOverrides({ cache: '2024', strict: true });
    const withFlags = await loadTrainConfig(file, sets);
    expect(withFlags.data.cache).toBe('2024'); // a path, never read as a number
    expect(withFlags.data.strict).toBe(true);
    const without = await loadTrainConfig(file);
    expect(without.data.cache).toBeUndefined();
    expect(configHash(withFlags)).toBe(configHash(without));
    await expect(train(config('nocache', { cache: join(root, 'nowhere') })).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_DATA',
      message: expect.stringContaining(`config key data.cache: no radlearn image cache at ${join(root, 'nowhere')}`),
    });
  });
});

describe('pixelTable', () => {
  it('gives, for every stored value, the bits the normalisation expression gives', () => {
    for (const scale of [65535, 255]) {
      for (const [mean, std] of [
        [0.5, 0.25],
        [0.485, 0.229],
        [0, 1],
      ] as const) {
        const table = pixelTable(scale, mean, std);
        const values = Uint32Array.from({ length: scale + 1 }, (_, v) => v);
        const expected = Float32Array.from(values, (v) => (v / scale - mean) / std);
        expect(Buffer.from(table.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      }
    }
  });
});
