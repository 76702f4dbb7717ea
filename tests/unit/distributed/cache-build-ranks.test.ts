/**
 * `mpirun -np 2 radlearn cache build`: the ranks decode their shares into shard folders and rank
 * 0 assembles the cache, which holds the same images (bit for bit) and failures as one process's
 * build; a second run decodes nothing. Without MPI: what a build would decode, and a build that
 * copies images from another cache instead of decoding them.
 */
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImageCache, inputsToDecode } from '../../../src/data/cache/build.js';
import { openImageCache } from '../../../src/data/cache/reader.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { mpiRequired, mpirunCli, mpirunMissing } from '../../helpers/mpi.js';

const missing = mpirunMissing();
if (missing && mpiRequired()) throw new Error(missing);
const withMpi = missing ? it.skip : it;

let root = '';
let images = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-cache-ranks-'));
  await generatePhantom({ out: join(root, 'phantom'), n: 23, size: 64, seed: 2 });
  images = join(root, 'phantom', 'images');
  // one input that cannot be decoded, so failures travel through the shards too
  writeFileSync(join(images, 'broken.dcm'), Buffer.from('not a dicom file at all'));
});

/** path -> pixel bytes, and the failing paths with their codes. */
async function contents(dir: string): Promise<{ pixels: Map<string, Buffer>; failures: string[] }> {
  const cache = await openImageCache(dir);
  try {
    const pixels = new Map<string, Buffer>();
    cache.entries.forEach((e, i) => {
      const p = cache.get(i);
      pixels.set(e.path, Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    });
    return { pixels, failures: cache.failures.map((f) => `${f.path} ${f.code}`).sort() };
  } finally {
    cache.close();
  }
}

describe('cache build across MPI ranks', () => {
  withMpi(
    'two ranks build the cache one process builds (same pixels, same failures), then reuse it',
    async () => {
      const one = join(root, 'one');
      const two = join(root, 'two');
      await buildImageCache(images, { out: one, size: 32, workers: 0 });
      const run = mpirunCli(2, ['cache', 'build', images, '--out', two, '--size', '32', '--workers', '0']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/2 ranks decoded 23 image\(s\) into their shards/);
      expect(run.stdout).toMatch(/24 inputs, 23 decoded, 0 reused, 1 failed/);
      expect(existsSync(join(two, '.ranks')), 'the shards are removed').toBe(false);
      const a = await contents(one);
      const b = await contents(two);
      expect([...b.pixels.keys()].sort()).toEqual([...a.pixels.keys()].sort());
      for (const [path, bytes] of a.pixels) expect(b.pixels.get(path)!.equals(bytes), path).toBe(true);
      expect(b.failures).toEqual(a.failures);

      const again = mpirunCli(2, ['cache', 'build', images, '--out', two, '--size', '32', '--workers', '0']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/24 inputs, 0 decoded, 23 reused, 1 failed/);
    },
    120_000,
  );
});

describe('cache builds that take images from other caches (one process)', () => {
  it('lists only what the cache does not hold, and copies from another cache instead of decoding', async () => {
    const source = join(root, 'source');
    await buildImageCache(images, { out: source, size: 32, workers: 0 });
    const all = (await contents(source)).pixels;
    const paths = [...all.keys()];
    expect(await inputsToDecode(paths, { out: source, size: 32 })).toEqual([]);
    // other settings change the pixels: everything is to decode
    expect(await inputsToDecode(paths, { out: source, size: 16 })).toEqual(paths);
    expect(await inputsToDecode([join(images, 'broken.dcm')], { out: source, size: 32 })).toEqual([]);
    expect(await inputsToDecode([join(images, 'broken.dcm')], { out: source, size: 32, retryFailed: true })).toEqual([
      join(images, 'broken.dcm'),
    ]);

    const copy = join(root, 'copy');
    const summary = await buildImageCache(images, { out: copy, size: 32, workers: 0, reuseFrom: [source] });
    expect(summary).toMatchObject({ built: 0, imported: 23, failed: 1 });
    const copied = (await contents(copy)).pixels;
    for (const [path, bytes] of all) expect(copied.get(path)!.equals(bytes), path).toBe(true);

    // a file changed since the other cache read it is decoded again rather than copied
    const touched = paths.find((p) => !p.endsWith('broken.dcm'))!;
    utimesSync(touched, new Date(), new Date(Date.now() + 5000));
    const changed = await buildImageCache(images, { out: join(root, 'changed'), size: 32, workers: 0, reuseFrom: [source] });
    expect(changed).toMatchObject({ imported: 22, built: 1, failed: 1 });
  });
});
