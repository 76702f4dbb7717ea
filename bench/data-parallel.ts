/**
 * Data-parallel step time (too heavy for the unit suite; needs Open MPI's mpirun): the same
 * clip-finetune run (trainable image and text encoders, global batch 32 at 128 px) as one
 * process and as 2 ranks, with each step's time and the milliseconds it spent in collectives
 * (metrics.commMs: the gathers, the gradient all-reduce, and waiting there for the slower rank).
 *
 *   npx tsx bench/data-parallel.ts [--ranks 2] [--steps 24] [--studies 200]
 *
 * Medians over the steps after the first 2 (warm-up). On one machine the ranks share its cores,
 * so the point is the communication share, not a speed-up; each rank sizes its threads by its
 * share of the cores (src/distributed/launch.ts), as a multi-rank run does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../src/index.js';
import { flag } from './harness.js';

const ranks = Number(flag('ranks', '2'));
const steps = Number(flag('steps', '24'));
const studies = Number(flag('studies', '200'));
const batch = 32;

const root = mkdtempSync(join(tmpdir(), 'radlearn-bench-dp-'));
const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: studies, size: 128, seed: 4 })).manifestPath;
const cli = join(import.meta.dirname, '..', 'bin', 'radlearn.js');

function configFile(name: string, workers: number | 'auto'): string {
  const path = join(root, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      mode: 'clip-finetune',
      runsDir: join(root, 'runs'),
      seed: 5,
      steps,
      batchSize: batch,
      logEvery: 1,
      checkpoint: { every: 100_000, keep: 1 },
      data: { manifest, sentences: { min: 1, max: 3 } },
      image: { size: 128 },
      text: { vocabSize: 1000, maxLength: 64 },
      head: { kind: 'mlp', hidden: 128, projectionDim: 64 },
      optim: { lr: 1e-3, warmupSteps: 3 },
      eval: { linearProbe: false, zeroShot: false },
      finetune: { trainText: true, workers },
    }),
  );
  return path;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row {
  label: string;
  stepMs: number;
  commMs: number;
  wallS: number;
}

function measure(label: string, name: string, workers: number | 'auto', np: number): Row {
  const config = configFile(name, workers);
  const command = [process.execPath, cli, 'train', '--config', config];
  const asRoot = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  const started = performance.now();
  const run =
    np === 1
      ? spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' })
      : spawnSync('mpirun', [...asRoot, '--oversubscribe', '--bind-to', 'none', '-np', String(np), ...command], {
          encoding: 'utf8',
          env: { ...process.env, OMPI_MCA_btl: 'self,vader' },
        });
  const wallS = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${label} failed:\n${run.stderr}`);
  const records = readFileSync(join(root, 'runs', name, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; stepMs: number; metrics: { commMs?: number } })
    .filter((r) => r.type === 'step')
    .slice(2);
  return { label, stepMs: median(records.map((r) => r.stepMs)), commMs: median(records.map((r) => r.metrics.commMs ?? 0)), wallS };
}

// one process and the ranks in turn, twice, so the drift of a shared host shows in the table
const rows = [1, 2].flatMap((round) => [
  measure(`1 process (round ${round})`, `one-${round}`, 'auto', 1),
  measure(`${ranks} ranks (round ${round})`, `ranks-${round}`, 'auto', ranks),
]);
const base = rows[0]!.stepMs;
process.stdout.write(`clip-finetune, global batch ${batch} at 128 px, ${steps} steps (medians after 2 warm-up steps)\n\n`);
process.stdout.write(
  '| run | step ms | in collectives ms | share | samples/s | vs 1 process | whole command s |\n|---|---|---|---|---|---|---|\n',
);
for (const r of rows)
  process.stdout.write(
    `| ${r.label} | ${r.stepMs.toFixed(1)} | ${r.commMs.toFixed(1)} | ${((100 * r.commMs) / r.stepMs).toFixed(1)}% | ${((1000 * batch) / r.stepMs).toFixed(0)} | ${(r.stepMs / base).toFixed(2)} | ${r.wallS.toFixed(1)} |\n`,
  );
