/**
 * The benchmark harness behind `npm run bench`: each file in bench/cases/ exports `cases`,
 * a list of BenchCase; every case returns rows (one per op, backend and shape). Baselines
 * run in the same process and rows carry the ratio against them. Timings are medians over
 * repeated runs after a warm-up; GPU kernels are timed with CUDA events inside the addon.
 */

export interface BenchRow {
  op: string;
  backend: string;
  shape: string;
  medianMs: number;
  p90Ms: number;
  itemsPerSec?: number;
  /** What an "item" is for itemsPerSec (images, reports, parameters...). */
  itemName?: string;
  gbPerSec?: number;
  gflops?: number;
  /** Percent of a measured or documented peak, when known. */
  peakPercent?: number;
  /** Extra memory the op needed beyond inputs/outputs (bytes). */
  peakMemoryBytes?: number;
  /** Speed ratio against a baseline row of the same case: baselineMs / medianMs. */
  ratio?: { vs: string; value: number };
  note?: string;
}

export interface BenchContext {
  /** Smaller shapes and fewer repetitions (`--quick`). */
  quick: boolean;
  /** Whether a CUDA device is available to the addon. */
  cuda: boolean;
}

export interface BenchCase {
  name: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

/** Deterministic bench inputs, uniform in [-scale/2, scale/2) (an LCG: cheap, and the same everywhere). */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

export interface Timing {
  medianMs: number;
  p90Ms: number;
  samples: number[];
}

function quantile(sorted: number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { medianMs: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), samples };
}

/**
 * Times `fn` (sync or async): `warmup` untimed runs, then runs until both `minRuns` and
 * `minTimeMs` are reached (capped at `maxRuns`).
 */
export async function time(
  fn: () => unknown,
  {
    warmup = 1,
    minRuns = 5,
    maxRuns = 50,
    minTimeMs = 300,
  }: { warmup?: number; minRuns?: number; maxRuns?: number; minTimeMs?: number } = {},
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const begin = performance.now();
  while (samples.length < maxRuns && (samples.length < minRuns || performance.now() - begin < minTimeMs)) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

/** Attaches baseline ratios: for each row with `vs`, ratio = baseline median / row median. */
export function withRatio(row: BenchRow, baseline: BenchRow | undefined): BenchRow {
  if (!baseline) return row;
  return { ...row, ratio: { vs: `${baseline.op} (${baseline.backend})`, value: baseline.medianMs / row.medianMs } };
}

function format(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  if (Math.abs(value) >= 1e6) return value.toExponential(2);
  return value.toFixed(digits);
}

export function formatTable(rows: BenchRow[]): string {
  const header = ['op', 'backend', 'shape', 'median ms', 'p90 ms', 'items/s', 'GB/s', 'GFLOP/s', '% peak', 'extra MB', 'ratio', 'note'];
  const body = rows.map((r) => [
    r.op,
    r.backend,
    r.shape,
    format(r.medianMs, 3),
    format(r.p90Ms, 3),
    r.itemsPerSec === undefined ? '' : `${format(r.itemsPerSec, 0)}${r.itemName ? ' ' + r.itemName : ''}`,
    format(r.gbPerSec),
    format(r.gflops, 1),
    format(r.peakPercent, 1),
    r.peakMemoryBytes === undefined ? '' : format(r.peakMemoryBytes / 2 ** 20, 1),
    r.ratio ? `${r.ratio.value.toFixed(2)}x vs ${r.ratio.vs}` : '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** A standalone bench script's `--name value` flag from the command line, or the fallback. */
export function flag(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
}
