import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageCache, openImageCache, type BuildImageCacheOptions, type CacheIndex } from '../../../src/index.js';
import { preprocessImage } from '../../../src/data/cache/preprocess.js';
import { syntheticPixels } from '../dicom/fixtures.js';
import { encodePng } from '../image/pngFixture.js';

/** `grey` one-channel and `rgb` three-channel 8-bit PNGs of slightly different sizes, in a fresh folder. */
async function images(grey: number, rgb: number, prefix = 'img'): Promise<{ dir: string; paths: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-incr-'));
  const paths: string[] = [];
  for (let i = 0; i < grey + rgb; i++) {
    const colour = i >= grey;
    const rows = 30 + i,
      columns = 41 - i;
    const samples = syntheticPixels({ rows, columns, samples: colour ? 3 : 1, bitsAllocated: 8, seed: 10 + i, noise: 0.3 }) as Uint8Array;
    const path = join(dir, `${prefix}${i}${colour ? '-rgb' : ''}.png`);
    await writeFile(path, encodePng(samples, columns, rows, colour ? 2 : 0));
    paths.push(path);
  }
  return { dir, paths };
}

const readIndex = async (out: string): Promise<CacheIndex> => JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as CacheIndex;

/** Every cached image equals a fresh preprocessImage of its file under the folder's settings. */
async function expectCacheCurrent(out: string, count: number): Promise<void> {
  const cache = await openImageCache(out, { mode: 'pread' });
  try {
    expect(cache.length).toBe(count);
    for (let i = 0; i < cache.length; i++) {
      const expected = await preprocessImage(cache.entries[i]!.path, cache.settings);
      expect(Buffer.from(cache.get(i).buffer).equals(Buffer.from(expected.data.buffer))).toBe(true);
    }
  } finally {
    cache.close();
  }
}

const base: Omit<BuildImageCacheOptions, 'out'> = { size: 24, dtype: 'uint8', fit: 'squarePad', workers: 0 };

describe('the cache is incremental per entry (file identity, effective settings)', () => {
  it('adding images to the input decodes only the new ones', async () => {
    const { paths } = await images(6, 0);
    const more = await images(2, 0, 'new');
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    expect((await buildImageCache(paths, { ...base, out })).built).toBe(6);
    const second = await buildImageCache([...paths, ...more.paths], { ...base, out });
    expect([second.built, second.reused, second.failed]).toEqual([2, 6, 0]);
    expect(second.notes).toEqual([]);
    await expectCacheCurrent(out, 8);
  });

  it('a settings change re-decodes only the images whose pixels it changes', async () => {
    const { paths } = await images(4, 2);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    expect((await buildImageCache(paths, { ...base, out, color: 'keep' })).built).toBe(6);
    // colour handling changes nothing for one-channel sources: only the two RGB images are decoded again
    const grey = await buildImageCache(paths, { ...base, out, color: 'grey' });
    expect([grey.built, grey.reused]).toEqual([2, 4]);
    expect(grey.notes.join('\n')).toContain('settings changed (color keep vs grey)');
    expect(grey.notes.join('\n')).toContain('2 cached image(s) are decoded again under the new settings, 4 kept');
    await expectCacheCurrent(out, 6);
    // a colour source is scaled by its bit depth under both 'auto' and 'none': only the grey images change
    const none = await buildImageCache(paths, { ...base, out, color: 'grey', window: 'none' });
    expect([none.built, none.reused]).toEqual([4, 2]);
    await expectCacheCurrent(out, 6);
    // a new size changes every image, and the data file is replaced rather than grown
    const resized = await buildImageCache(paths, { ...base, out, color: 'grey', window: 'none', size: 20 });
    expect([resized.built, resized.reused]).toEqual([6, 0]);
    expect((await readdir(out)).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    await expectCacheCurrent(out, 6);
  });

  it('keepOthers keeps entries of files outside the input; without it the input defines the cache', async () => {
    const { paths } = await images(5, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths.slice(0, 3), { ...base, out });
    const added = await buildImageCache(paths.slice(3), { ...base, out, keepOthers: true });
    expect([added.total, added.built, added.reused]).toEqual([2, 2, 0]);
    expect((await readIndex(out)).entries.map((e) => e.path)).toEqual([...paths.slice(3), ...paths.slice(0, 3)]);
    await expectCacheCurrent(out, 5);
    const only = await buildImageCache(paths.slice(0, 2), { ...base, out });
    expect([only.built, only.reused]).toEqual([0, 2]);
    expect((await readIndex(out)).entries.map((e) => e.path)).toEqual(paths.slice(0, 2));
  });

  it('a build with nothing to decode or drop leaves index.json untouched; a missing file still rewrites it', async () => {
    const { paths } = await images(4, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths, { ...base, out });
    const before = await readFile(join(out, 'index.json'), 'utf8');
    const beforeTime = (await stat(join(out, 'index.json'))).mtimeMs;
    // a subset with keepOthers (train's own cache, once per stage) and the whole input
    for (const input of [paths.slice(1, 3), paths]) {
      const again = await buildImageCache(input, { ...base, out, keepOthers: true });
      expect([again.total, again.built, again.reused, again.failed]).toEqual([input.length, 0, input.length, 0]);
    }
    expect(await readFile(join(out, 'index.json'), 'utf8')).toBe(before);
    expect((await stat(join(out, 'index.json'))).mtimeMs).toBe(beforeTime);
    await expectCacheCurrent(out, 4);
    await unlink(paths[0]!);
    const gone = await buildImageCache(paths, { ...base, out });
    expect([gone.built, gone.reused, gone.failed]).toEqual([0, 3, 1]);
    expect((await readIndex(out)).failures.map((f) => f.code)).toEqual(['ERR_MISSING_FILE']);
  });

  it('replaced images are appended until they make up half the data file, then the live ones are copied to a new one', async () => {
    const { paths } = await images(4, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths, { ...base, out });
    const firstBin = (await readIndex(out)).binFile;
    let when = Date.now() / 1000 + 10;
    const touch = async (path: string) => {
      when += 10;
      await utimes(path, when, when);
    };
    await touch(paths[0]!);
    const one = await buildImageCache(paths, { ...base, out });
    expect([one.built, one.reused]).toEqual([1, 3]);
    expect((await readIndex(out)).binFile).toBe(firstBin); // 4 of 5 stored images live: appended
    await touch(paths[1]!);
    await touch(paths[2]!);
    const three = await buildImageCache(paths, { ...base, out });
    expect([three.built, three.reused]).toEqual([2, 2]);
    const index = await readIndex(out);
    // 2 live of 5 stored before this build: the 2 kept were copied into a new file, then 2 appended
    expect(index.binFile).not.toBe(firstBin);
    expect(index.binBytes).toBe(4 * 576); // 24 x 24 uint8, already 64-byte aligned
    expect(three.notes.join('\n')).toMatch(/data file rewritten with the 2 live image\(s\)/);
    expect(await readdir(out)).toEqual(expect.arrayContaining([index.binFile]));
    expect((await readdir(out)).filter((f) => f.endsWith('.bin'))).toEqual([index.binFile]);
    await expectCacheCurrent(out, 4);
  });
});

describe('the index format is versioned', () => {
  it('a v1 index is read, reused under identical settings and rewritten as v2; under other settings its entries count as unknown', async () => {
    const { paths } = await images(3, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths, { ...base, out });
    // what radlearn wrote before the source channel count was recorded
    const v2 = await readIndex(out);
    expect(v2.version).toBe(2);
    expect(v2.entries.every((e) => e.meta.sourceChannels === 1)).toBe(true);
    const v1 = { ...v2, version: 1, entries: v2.entries.map((e) => ({ ...e, meta: { ...e.meta, sourceChannels: undefined } })) };
    await writeFile(join(out, 'index.json'), JSON.stringify(v1));
    await expectCacheCurrent(out, 3);
    const same = await buildImageCache(paths, { ...base, out });
    expect([same.built, same.reused]).toEqual([0, 3]);
    expect(same.notes).toEqual(['index.json was format v1; rewritten as v2']);
    expect((await readIndex(out)).version).toBe(2);
    // without the channel count a v1 entry cannot be shown to be unaffected by a colour change
    await writeFile(join(out, 'index.json'), JSON.stringify({ ...v1, binFile: (await readIndex(out)).binFile }));
    const colour = await buildImageCache(paths, { ...base, out, color: 'keep' });
    expect([colour.built, colour.reused]).toEqual([3, 0]);
  });

  it('a newer index is refused by the reader and the builder, naming the version; --rebuild replaces it', async () => {
    const { paths } = await images(2, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths, { ...base, out });
    await writeFile(join(out, 'index.json'), JSON.stringify({ ...(await readIndex(out)), version: 3 }));
    await expect(openImageCache(out)).rejects.toMatchObject({ code: 'ERR_CACHE_VERSION', message: expect.stringContaining('format v3') });
    await expect(buildImageCache(paths, { ...base, out })).rejects.toMatchObject({ code: 'ERR_CACHE_VERSION' });
    const rebuilt = await buildImageCache(paths, { ...base, out, rebuild: true });
    expect(rebuilt.built).toBe(2);
    expect((await readdir(out)).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    await expectCacheCurrent(out, 2);
  });

  it('an unreadable index is rebuilt with a note saying why', async () => {
    const { paths } = await images(2, 0);
    const out = await mkdtemp(join(tmpdir(), 'radlearn-incr-out-'));
    await buildImageCache(paths, { ...base, out });
    await writeFile(join(out, 'index.json'), '{ not json');
    const again = await buildImageCache(paths, { ...base, out });
    expect(again.built).toBe(2);
    expect(again.notes[0]).toMatch(/index\.json is not valid JSON: every image is decoded again/);
    expect((await readdir(out)).filter((f) => f.endsWith('.bin'))).toHaveLength(1); // the old data file is not left behind
    await expectCacheCurrent(out, 2);
  });
});
