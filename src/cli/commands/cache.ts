import { choiceFlag, integerFlag } from '../flags.js';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import {
  buildImageCache,
  buildImageCacheOverRanks,
  dataParallel,
  launchEnvironment,
  mpiWorld,
  type BuildImageCacheOptions,
  openImageCache,
  type CacheBuildEvent,
  type CacheBuildSummary,
  type CacheDtype,
  type ResizeFilter,
  type ResizeFit,
} from '../../index.js';
import { parseWindowOption } from './dicom.js';

interface BuildFlags {
  out: string;
  size: string;
  dtype: string;
  window: string;
  fit: string;
  filter: string;
  color: string;
  workers?: string;
  retryFailed?: boolean;
  rebuild?: boolean;
  json?: boolean;
}

/** Renders build events: a cli-progress bar on a TTY, else a line every 10% (logs stay readable). */
export function progressRenderer(stream: NodeJS.WriteStream = process.stderr): (event: CacheBuildEvent) => void {
  const interactive = Boolean(stream.isTTY) && process.env.CI !== 'true';
  let bar: cliProgress.SingleBar | undefined;
  let lastDecile = -1;
  return (event) => {
    if (event.type === 'start') {
      stream.write(
        `cache: ${event.total} inputs, ${event.reused} unchanged (reused), ${event.skippedFailures} known failures, ` +
          `${event.toBuild} to decode\n`,
      );
      if (interactive && event.toBuild > 0) {
        bar = new cliProgress.SingleBar(
          { stream, format: 'cache [{bar}] {value}/{total} | {rate} img/s | {failed} failed | eta {eta_formatted}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(event.toBuild, 0, { rate: '0.0', failed: 0 });
      }
    } else if (event.type === 'progress') {
      if (bar) bar.update(event.done, { rate: event.imagesPerSec.toFixed(1), failed: event.failed });
      else {
        const decile = Math.floor((event.done / event.toBuild) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          const width = 30,
            filled = Math.round((event.done / event.toBuild) * width);
          stream.write(
            `cache [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${event.done}/${event.toBuild} ` +
              `${event.imagesPerSec.toFixed(1)} img/s, ${event.failed} failed\n`,
          );
        }
      }
    } else if (bar) {
      bar.stop();
    }
  };
}

export function summaryLines(s: CacheBuildSummary, maxFailures = 20): string[] {
  const lines = [
    `cache ${s.aborted ? 'interrupted (run again to resume)' : 'built'}: ${s.out}`,
    `  images:   ${s.total} inputs, ${s.built} decoded, ${s.reused} reused, ${s.failed} failed${s.imported > 0 ? `, ${s.imported} copied from other caches` : ''}`,
    `  time:     ${s.seconds.toFixed(1)} s, ${s.imagesPerSec.toFixed(1)} images/s decoded`,
    `  written:  ${(s.bytesWritten / 2 ** 20).toFixed(1)} MiB`,
    ...s.notes.map((n) => `  note:     ${n}`),
  ];
  if (s.failures.length) {
    lines.push('  failures:');
    for (const f of s.failures.slice(0, maxFailures)) {
      const message = f.message.startsWith(`${f.path}: `) ? f.message.slice(f.path.length + 2) : f.message;
      lines.push(`    ${f.code}  ${f.path}: ${message}`);
    }
    if (s.failures.length > maxFailures) lines.push(`    ... and ${s.failures.length - maxFailures} more (see index.json)`);
  }
  return lines;
}

export function registerCache(program: Command): void {
  const cache = program.command('cache').description('build and inspect the preprocessed image cache');
  cache
    .command('build')
    .description('decode DICOM/PNG/JPEG once into a windowed, resized binary cache (incremental and resumable)')
    .argument('<input>', 'folder (searched recursively), manifest (.txt, .csv, .jsonl) or single file list')
    .requiredOption('-o, --out <dir>', 'cache folder')
    .option('--size <n>', 'short side (or square side with --fit square*)', '512')
    .option('--dtype <type>', 'uint16 or uint8', 'uint16')
    .option('--window <window>', "'auto', 'none' or CENTER,WIDTH", 'auto')
    .option('--fit <fit>', 'shortSide, squarePad or squareStretch', 'shortSide')
    .option('--filter <filter>', 'area, triangle or lanczos3 (all antialiased)', 'area')
    .option('--color <mode>', 'grey (RGB sources to luminance) or keep', 'grey')
    .option('--workers <n>', 'decoder threads, 0 to decode in-process (default: cores - 1)')
    .option('--retry-failed', 'decode files that failed before even if unchanged')
    .option('--rebuild', 'ignore the existing cache and start over')
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, flags: BuildFlags) => {
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        const options: BuildImageCacheOptions = {
          out: flags.out,
          size: integerFlag('size', flags.size, 1),
          dtype: choiceFlag<CacheDtype>('dtype', flags.dtype, ['uint16', 'uint8']),
          window: parseWindowOption(flags.window),
          fit: choiceFlag<ResizeFit>('fit', flags.fit, ['shortSide', 'squarePad', 'squareStretch']),
          filter: choiceFlag<ResizeFilter>('filter', flags.filter, ['area', 'triangle', 'lanczos3']),
          color: choiceFlag('color', flags.color, ['grey', 'keep'] as const),
          workers: flags.workers === undefined ? undefined : integerFlag('workers', flags.workers, 0),
          retryFailed: flags.retryFailed,
          rebuild: flags.rebuild,
          onProgress: progressRenderer(),
          signal: controller.signal,
        };
        // started by mpirun or srun: every rank decodes its share, rank 0 assembles and reports
        const launch = launchEnvironment();
        const summary =
          launch.size > 1
            ? await buildImageCacheOverRanks(input, options, dataParallel(mpiWorld()))
            : await buildImageCache(input, options);
        if (launch.rank > 0) return;
        process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryLines(summary).join('\n')}\n`);
        if (summary.aborted) process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
  cache
    .command('info')
    .description('print what a cache holds')
    .argument('<dir>', 'cache folder')
    .action(async (dir: string) => {
      const c = await openImageCache(dir, { mode: 'pread' });
      const shapes = new Map<string, number>();
      for (let i = 0; i < c.length; i++) {
        const key = c.shape(i).join('x');
        shapes.set(key, (shapes.get(key) ?? 0) + 1);
      }
      const s = c.settings;
      process.stdout.write(
        [
          `cache:     ${dir}`,
          `images:    ${c.length} (${c.failures.length} failed inputs recorded)`,
          `settings:  size ${s.size}, ${s.dtype}, fit ${s.fit}, filter ${s.filter}, color ${s.color}, window ${JSON.stringify(s.window)}`,
          `shapes:    ${[...shapes].map(([k, n]) => `${k} (${n})`).join(', ') || 'none'}`,
        ].join('\n') + '\n',
      );
      c.close();
    });
}
