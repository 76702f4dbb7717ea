/**
 * A cache build spread over the ranks of an MPI job (`mpirun -np N radlearn cache build`): rank r
 * decodes every N-th input that the cache does not hold yet into its own shard folder
 * (out/.ranks/<r>-of-<N>/, itself an incremental cache, so an interrupted build resumes there),
 * then rank 0 assembles the cache from what it held and the shards' images (copying bytes,
 * decoding nothing) and removes the shards. The result is the cache one process would build;
 * only the order of the data file differs.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataParallel } from '../../distributed/data-parallel.js';
import { agreeOnText, allRanks, rankZeroOnly } from '../../distributed/turns.js';
import { buildImageCache, inputsToDecode, type BuildImageCacheOptions, type CacheBuildSummary } from './build.js';
import { resolveInputs } from './manifest.js';

const SHARDS = '.ranks';

const shardDir = (out: string, rank: number, size: number): string => join(out, SHARDS, `${rank}-of-${size}`);

/**
 * Builds the cache with every rank of `parallel`. Rank 0 returns the whole build's summary (built:
 * the images all ranks decoded); the others their shard's.
 */
export async function buildImageCacheOverRanks(
  input: string | string[],
  options: BuildImageCacheOptions,
  parallel: DataParallel,
): Promise<CacheBuildSummary> {
  const started = performance.now();
  const { rank, size } = parallel;
  const paths = [...new Set(await resolveInputs(input))];
  agreeOnText(parallel, createHash('sha256').update(JSON.stringify(paths)).digest('hex'), 'the inputs of the cache build');
  const mine = paths.filter((_, i) => i % size === rank);
  const shard = await allRanks(parallel, 'decoding its share of the images', async () =>
    buildImageCache(await inputsToDecode(mine, options), {
      ...options,
      out: shardDir(options.out, rank, size),
      reuseFrom: undefined,
      keepOthers: false,
      rebuild: false,
      onProgress: rank === 0 ? options.onProgress : undefined,
    }),
  );
  const [built, bytes] = parallel.sum(Float64Array.of(shard.built, shard.bytesWritten));
  // an interrupted rank leaves its shard to resume from; the cache is assembled once every shard is complete
  if (parallel.any(shard.aborted)) return { ...shard, aborted: true };
  const whole = await rankZeroOnly(parallel, 'assembling the cache from the shards', async () => {
    const summary = await buildImageCache(paths, {
      ...options,
      reuseFrom: Array.from({ length: size }, (_, r) => shardDir(options.out, r, size)),
      onProgress: undefined,
    });
    await rm(join(options.out, SHARDS), { recursive: true, force: true });
    return summary;
  });
  if (!whole) return shard;
  const seconds = (performance.now() - started) / 1000;
  return {
    ...whole,
    built: built!,
    bytesWritten: bytes! + whole.bytesWritten,
    seconds,
    imagesPerSec: built! > 0 ? built! / seconds : 0,
    notes: [...whole.notes, `${size} ranks decoded ${built} image(s) into their shards; rank 0 assembled the cache from them`],
  };
}
