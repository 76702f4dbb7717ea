/**
 * Data-parallel training under mpirun: `mpirun -np 2 radlearn train` computes what one process
 * computes with the same global batch (per-step losses within 1e-6 relative, final parameters
 * within 1e-5), a rerun is bit-identical, a killed rank fails the job, and --resume continues it
 * exactly. The one-process runs are in-process train() calls; the two-rank ones the built CLI.
 * Modes: contrastive and clip-finetune (the global contrastive loss), distill (BCE means over the
 * global batch), dino (centering and Sinkhorn-Knopp over both ranks).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train } from '../../../src/index.js';
import type { TrainConfigInput } from '../../../src/train/config.js';
import { decodeSafetensors } from '../../../src/train/safetensors.js';
import { mpiRequired, mpirunArgs, mpirunCli, mpirunEnv, mpirunMissing, repoRoot } from '../../helpers/mpi.js';

const missing = mpirunMissing();
if (missing && mpiRequired()) throw new Error(missing);
const withMpi = missing ? it.skip : it;

let root = '';
let manifest = '';

beforeAll(async () => {
  if (missing) return;
  root = mkdtempSync(join(tmpdir(), 'radlearn-data-parallel-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 48, size: 64, seed: 3 })).manifestPath;
});

const base = (name: string): Record<string, unknown> => ({
  name,
  runsDir: join(root, 'runs'),
  seed: 5,
  logEvery: 1,
  batchSize: 8,
  checkpoint: { every: 4, keep: 2 },
  data: { manifest, sentences: { min: 1, max: 3 } },
  image: { size: 64 },
  text: { vocabSize: 300, maxLength: 48 },
  head: { kind: 'mlp', hidden: 24, projectionDim: 16 },
  optim: { lr: 3e-3, warmupSteps: 3, ema: 0.9 },
  eval: { linearProbe: false },
});

function configFile(config: Record<string, unknown>): string {
  const path = join(root, `${config.name as string}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

const runDir = (name: string): string => join(root, 'runs', name);

function stepLosses(name: string): number[] {
  return readFileSync(join(runDir(name), 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; loss?: number })
    .filter((r) => r.type === 'step')
    .map((r) => r.loss!);
}

function finalTensors(name: string): { bytes: Buffer; tensors: Map<string, Float32Array> } {
  const dir = join(runDir(name), 'checkpoints');
  const last = readdirSync(dir)
    .filter((f) => /^step-\d{7}\.safetensors$/.test(f))
    .sort()
    .at(-1)!;
  const bytes = readFileSync(join(dir, last));
  const file = decodeSafetensors(new Uint8Array(bytes));
  return { bytes, tensors: new Map(Object.entries(file.tensors).map(([k, t]) => [k, t.data as Float32Array])) };
}

/** Losses within `lossTolerance` relative, every parameter (not the optimizer's moments) within `tolerance`. */
function expectSameTraining(one: string, two: string, tolerance: number, lossTolerance = 1e-6): void {
  const a = stepLosses(one);
  const b = stepLosses(two);
  expect(b.length).toBe(a.length);
  a.forEach((loss, i) => expect(Math.abs(b[i]! - loss) / Math.abs(loss), `step ${i + 1}`).toBeLessThanOrEqual(lossTolerance));
  const ta = finalTensors(one).tensors;
  const tb = finalTensors(two).tensors;
  expect([...tb.keys()]).toEqual([...ta.keys()]);
  for (const [name, values] of ta) {
    if (name.startsWith('optimizer.')) continue;
    const other = tb.get(name)!;
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - other[i]!));
    expect(worst, name).toBeLessThanOrEqual(tolerance);
  }
}

async function oneProcess(config: Record<string, unknown>): Promise<void> {
  await train(config as TrainConfigInput, { skipEvaluation: true }).result;
}

function twoRanks(config: Record<string, unknown>, extra: string[] = []): void {
  const run = mpirunCli(2, ['train', '--config', configFile(config), ...extra]);
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
}

/** The pid of rank `rank` of a job whose command line names `marker`. */
function rankPid(marker: string, rank: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(marker) || !cmdline.includes('radlearn.js')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`OMPI_COMM_WORLD_RANK=${rank}`)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

describe('data-parallel training over MPI ranks (mpirun -np 2 on one machine)', () => {
  withMpi(
    'contrastive heads: two ranks train what one process trains on the same global batch, and a rerun is bit-identical',
    async () => {
      const config = (name: string) => ({ ...base(name), mode: 'contrastive', steps: 12, loss: { groups: 'labels' } });
      await oneProcess(config('contrastive-1'));
      twoRanks(config('contrastive-2'));
      expectSameTraining('contrastive-1', 'contrastive-2', 1e-5);
      twoRanks(config('contrastive-2b'));
      expect(finalTensors('contrastive-2b').bytes.equals(finalTensors('contrastive-2').bytes)).toBe(true);
      // rank 0 alone wrote the run: one line per step, and the report
      expect(stepLosses('contrastive-2')).toHaveLength(12);
      expect(existsSync(join(runDir('contrastive-2'), 'report.md'))).toBe(true);
    },
    120_000,
  );

  withMpi(
    'a global batch that does not split evenly over the ranks is refused on every rank before any work',
    () => {
      const run = mpirunCli(2, ['train', '--config', configFile({ ...base('uneven'), mode: 'supervised', steps: 2, batchSize: 7 })]);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/config key batchSize: the global batch of 7 rows does not split evenly over 2 ranks/);
      expect(existsSync(runDir('uneven'))).toBe(false);
    },
    60_000,
  );

  withMpi(
    'distill (teacher then student, BCE means over the global batch): two ranks equal one process',
    async () => {
      const config = (name: string) => ({ ...base(name), mode: 'distill', steps: 8, distill: { teacherSteps: 6 } });
      await oneProcess(config('distill-1'));
      twoRanks(config('distill-2'));
      expectSameTraining('distill-1', 'distill-2', 1e-5);
    },
    120_000,
  );

  // KoLeo is taken within each rank's rows (as DINOv2), a different objective from one process's
  // over the whole batch, so the comparison leaves it out; DINO and iBOT with their centering or
  // Sinkhorn-Knopp statistics over both ranks must match.
  withMpi.each(['center', 'sinkhorn'])(
    "dino (%s): teacher statistics reduced over the ranks give one process's losses and parameters",
    async (normalization) => {
      const config = (name: string) => ({
        ...base(name),
        mode: 'dino',
        steps: 10,
        image: { size: 32 },
        data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
        optim: { lr: 2e-3, warmupSteps: 1 },
        dino: {
          vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
          head: { hidden: 32, bottleneck: 8, prototypes: 64 },
          crops: { localCount: 1, localSize: 0 },
          loss: { koleo: 0, normalization },
        },
      });
      await oneProcess(config(`dino-${normalization}-1`));
      twoRanks(config(`dino-${normalization}-2`));
      expectSameTraining(`dino-${normalization}-1`, `dino-${normalization}-2`, 1e-5);
    },
    120_000,
  );

  // A larger AdamW epsilon keeps the update linear in the gradient: with the default 1e-8 the few
  // gradients that are zero up to rounding (summed in another order) turn into whole +-lr steps,
  // as they do in one process with another finetune.chunkSize.
  const finetune = (name: string) => ({
    ...base(name),
    mode: 'clip-finetune',
    steps: 24,
    image: { size: 32 },
    optim: { lr: 3e-3, warmupSteps: 3, ema: 0.9, eps: 1e-3 },
    finetune: { chunkSize: 4, trainText: true },
  });

  withMpi(
    'clip-finetune with gradient caching: the global contrastive loss over both ranks equals one process',
    async () => {
      await oneProcess(finetune('finetune-1'));
      twoRanks(finetune('finetune-2'));
      // one process with chunks of 8 instead of 4 differs from itself by 1.7e-6 in these losses
      // (float32 sums in another order, over 24 steps): 1e-5 allows that, not a wrong gradient
      expectSameTraining('finetune-1', 'finetune-2', 1e-5, 1e-5);
    },
    180_000,
  );

  withMpi(
    'a killed rank ends the job with a message naming it; --resume with two ranks continues bit-identically',
    async () => {
      const config = finetune('finetune-killed');
      const path = configFile(config);
      const checkpoints = join(runDir('finetune-killed'), 'checkpoints');
      const job = spawn('mpirun', mpirunArgs(2, [process.execPath, join(repoRoot, 'bin', 'radlearn.js'), 'train', '--config', path]), {
        cwd: repoRoot,
        env: mpirunEnv(),
      });
      let output = '';
      job.stdout.on('data', (d: Buffer) => (output += d.toString()));
      job.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const ended = new Promise<number | null>((resolve) => job.on('close', (code) => resolve(code)));
      let killedAt = -1;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && job.exitCode === null) {
        if (existsSync(join(checkpoints, 'step-0000008.safetensors'))) {
          const pid = rankPid(path, 1);
          if (pid !== undefined) {
            killedAt = readdirSync(checkpoints).filter((f) => f.endsWith('.safetensors')).length;
            process.kill(pid, 'SIGKILL');
            break;
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      const code = await ended;
      expect(killedAt, output).toBeGreaterThan(0);
      expect(code, output).not.toBe(0);
      expect(output).toMatch(/rank 1[^\n]*(signal 9|killed)/i);
      expect(existsSync(join(checkpoints, 'step-0000024.safetensors')), 'the job ended before its last step').toBe(false);

      twoRanks(config, ['--resume']);
      if (!existsSync(join(runDir('finetune-2'), 'checkpoints'))) twoRanks(finetune('finetune-2'));
      expect(finalTensors('finetune-killed').bytes.equals(finalTensors('finetune-2').bytes)).toBe(true);
      expect(stepLosses('finetune-killed')).toEqual(stepLosses('finetune-2'));
    },
    240_000,
  );
});
