/**
 * Acceptance check (too heavy for the unit suite): build a cache from 500 synthetic
 * 2048×2048 16-bit DICOMs through the `radlearn cache build` command (progress bar
 * or progress lines, then the summary), then time random batches of 256 cached
 * 512×512 images.
 *
 *   npx tsx bench/cache-build-500.ts [--count 500] [--size 2048] [--workers 2] [--src DIR] [--keep]
 *
 * Sources are generated once into --src (default: $TMPDIR/radlearn-bench-500) and reused.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCache } from '../src/cli/commands/cache.js';
import { openImageCache, writeDicom } from '../src/index.js';
import { radiographSpec } from './cases/dicom.js';
import { flag, time } from './harness.js';

const count = Number(flag('count', '500'));
const size = Number(flag('size', '2048'));
const workers = flag('workers', '2');
const src = flag('src', join(tmpdir(), `radlearn-bench-${count}-${size}`));
const out = join(tmpdir(), `radlearn-bench-cache-${process.pid}`);

await mkdir(src, { recursive: true });
const existing = new Set(await readdir(src));
const genStart = performance.now();
let generated = 0;
for (let i = 0; i < count; i++) {
  const name = `cxr${String(i).padStart(4, '0')}.dcm`;
  if (existing.has(name)) continue;
  await writeFile(join(src, name), writeDicom(radiographSpec(size, i)));
  generated++;
}
process.stderr.write(
  `sources: ${count} x ${size}x${size} 16-bit DICOM in ${src} (${generated} generated in ` +
    `${((performance.now() - genStart) / 1000).toFixed(1)} s)\n`,
);

const program = new Command('radlearn');
registerCache(program);
await program.parseAsync([
  'node',
  'radlearn',
  'cache',
  'build',
  src,
  '--out',
  out,
  '--size',
  '512',
  '--dtype',
  'uint16',
  '--workers',
  workers,
]);

const cache = await openImageCache(out, { mode: 'memory' });
const batch = 256;
const per = cache.shape(0).reduce((a, b) => a * b, 1);
const target = new Uint16Array(batch * per);
let seed = 7;
const indices = () =>
  Uint32Array.from({ length: batch }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % cache.length;
  });
const copy = await time(() => cache.readBatch(indices(), target), { warmup: 2, minRuns: 20, maxRuns: 100, minTimeMs: 2000 });
const views = await time(
  () => {
    let n = 0;
    for (const i of indices()) n += cache.get(i).length;
    return n;
  },
  { warmup: 2, minRuns: 20, maxRuns: 1000, minTimeMs: 500 },
);
const gb = (batch * per * 2) / 1e9;
process.stdout.write(
  [
    `read: random batch of ${batch} x ${cache.shape(0).join('x')} uint16 (${(gb * 1000).toFixed(0)} MB)`,
    `  readBatch copy into one tensor: median ${copy.medianMs.toFixed(2)} ms, p90 ${copy.p90Ms.toFixed(2)} ms, ` +
      `${(gb / (copy.medianMs / 1000)).toFixed(2)} GB/s`,
    `  get() zero-copy views:          median ${(views.medianMs * 1000).toFixed(1)} us for ${batch} views (no bytes copied)`,
  ].join('\n') + '\n',
);
cache.close();
await rm(out, { recursive: true, force: true });
if (!process.argv.includes('--keep')) await rm(src, { recursive: true, force: true });
