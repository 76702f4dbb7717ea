/**
 * The main job as a user runs it: `radlearn demo` in a child process (the compiled CLI; run
 * `npx tsc -p tsconfig.json` first), once with the end-to-end stage's chunks on worker threads
 * (the default) and once with them in the main thread (`--workers 0`, the baseline), each in a
 * fresh folder. One row per stage from the demo's timings.json: wall time, CPU utilisation of the
 * whole process and samples/s; the total row is the child's wall time as seen from outside.
 * --quick: 800 studies, 200 + 30 steps (the full demo: 4000 studies, 1000 + 300 steps).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageTiming } from '../../src/cli/render/stage-timer.js';
import { withRatio, type BenchCase, type BenchRow } from '../harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runDemo(workers: string, quick: boolean): BenchRow[] {
  const bin = join(root, 'bin', 'radlearn.js');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js')))
    throw new Error('bench demo: build the CLI first (npx tsc -p tsconfig.json)');
  const out = mkdtempSync(join(tmpdir(), 'radlearn-bench-demo-'));
  try {
    const size = quick ? ['--n', '800', '--frozen-steps', '200', '--steps', '30'] : [];
    const started = performance.now();
    const child = spawnSync(process.execPath, [bin, 'demo', '--out', out, '--workers', workers, ...size], { encoding: 'utf8' });
    const wallMs = performance.now() - started;
    if (child.status !== 0) throw new Error(`radlearn demo --workers ${workers} failed (${child.status}):\n${child.stderr.slice(-2000)}`);
    const { stages } = JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8')) as { stages: StageTiming[] };
    const backend = workers === '0' ? 'chunks in main thread' : `chunk workers ${workers}`;
    const rows: BenchRow[] = stages.map((s) => ({
      op: s.stage,
      backend,
      shape: quick ? 'n=800 steps=200+30' : 'n=4000 steps=1000+300',
      medianMs: s.wallSeconds * 1000,
      p90Ms: s.wallSeconds * 1000,
      ...(s.samplesPerSec === undefined ? {} : { itemsPerSec: s.samplesPerSec, itemName: 'samples' }),
      note: `CPU ${s.cpuPercent.toFixed(0)}%`,
    }));
    const cpu = stages.reduce((sum, s) => sum + s.cpuSeconds, 0);
    rows.push({
      op: 'radlearn demo (whole process)',
      backend,
      shape: rows[0]!.shape,
      medianMs: wallMs,
      p90Ms: wallMs,
      note: `CPU ${((100 * cpu * 1000) / wallMs).toFixed(0)}%`,
    });
    return rows;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export const cases: BenchCase[] = [
  {
    name: 'demo',
    async run({ quick }) {
      const baseline = runDemo('0', quick);
      const workers = runDemo('auto', quick);
      const byStage = new Map(baseline.map((r) => [r.op, r]));
      return [...baseline, ...workers.map((r) => withRatio(r, byStage.get(r.op)))];
    },
  },
];
