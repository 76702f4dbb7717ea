import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generatePhantom, InvalidArgumentError, PHANTOM_OBSERVATIONS, train, type TrainResult } from '../../index.js';
import { createRenderer } from '../render/progress.js';
import { interruptOnSigint } from './train.js';

interface DemoFlags { out: string; n: string; size: string; steps?: string; seed: string; batchSize?: string; probeSteps: string; frozen?: boolean; lr?: string }

function integer(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '  n/a');

/** The AUROC table printed at the end of the demo: one row per finding, one column per evaluation. */
export function aurocTable(result: TrainResult, labels: readonly string[]): string {
  const evals = result.evaluations;
  const header = ['finding', ...evals.map((e) => `${e.name} AUROC [95% CI]`)];
  const rows = labels.map((label) => [label, ...evals.map((e) => {
    const l = e.perLabel.find((p) => p.label === label);
    return l ? `${fmt(l.auroc)} [${fmt(l.ci[0])}, ${fmt(l.ci[1])}]` : '-';
  })]);
  rows.push(['macro', ...evals.map((e) => fmt(e.macroAuroc))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job end to end on the built-in phantom: generate data, train the built-in image and text encoders end to end with the reports (clip-finetune), evaluate zero-shot and linear probe, write the report; --frozen trains contrastive heads on frozen encoders instead')
    .option('-o, --out <dir>', 'output folder', 'radlearn-demo')
    .option('-n, --n <studies>', 'phantom studies', '4000')
    .option('--size <px>', 'image side in pixels', '128')
    .option('--frozen', 'train contrastive heads on frozen (random-init) encoders, the previous demo, for comparison')
    .option('--steps <n>', 'training steps (default 120 end to end, 1000 with --frozen)')
    .option('--batch-size <n>', 'batch size (default 128)')
    .option('--lr <x>', 'peak learning rate (default 1e-3 end to end, 5e-3 with --frozen)')
    .option('--probe-steps <n>', 'linear-probe optimisation steps', '300')
    .option('--seed <n>', 'seed for data and training', '1')
    .action(async (flags: DemoFlags) => {
      const started = performance.now();
      const out = resolve(flags.out);
      const n = integer('n', flags.n, 20);
      const size = integer('size', flags.size, 32);
      const seed = integer('seed', flags.seed, 0);
      const phantomDir = join(out, `phantom-n${n}-s${size}-seed${seed}`);
      const manifest = join(phantomDir, 'manifest.csv');
      if (existsSync(manifest)) process.stderr.write(`[phantom] reusing ${phantomDir}\n`);
      else {
        process.stderr.write(`[phantom] generating ${n} studies at ${size} px in ${phantomDir}\n`);
        await generatePhantom({ out: phantomDir, n, size, seed });
      }
      const controller = new AbortController();
      const release = interruptOnSigint(controller);
      const frozen = flags.frozen === true;
      const lr = flags.lr === undefined ? (frozen ? 5e-3 : 1e-3) : Number(flags.lr);
      if (!(lr > 0)) throw new InvalidArgumentError(`--lr must be a positive number, got '${flags.lr}'`);
      const steps = integer('steps', flags.steps ?? (frozen ? '1000' : '120'), 1);
      const batchSize = integer('batch-size', flags.batchSize ?? '128', 2);
      try {
        const run = train({
          name: frozen ? 'demo-frozen' : 'demo', mode: frozen ? 'contrastive' : 'clip-finetune', runsDir: join(out, 'runs'), seed,
          steps, batchSize,
          // each step pairs an image with 1-2 of its report's sentences (random sentence sampling)
          data: { manifest, sentences: { min: 1, max: 2 } },
          image: { model: 'builtin:resnet', size },
          text: { model: 'builtin:transformer', tokenizer: 'build', vocabSize: 2000, maxLength: 64 },
          // MLP projection heads; reports with the same labeler findings are positives of each other
          head: { kind: 'mlp', hidden: 256, projectionDim: 128 },
          loss: { kind: 'infonce', groups: 'labels' },
          optim: { lr, weightDecay: 0.01, warmupSteps: frozen ? 30 : 10 },
          // end to end: both encoders train (gradient caching in chunks of 32 rows); the heads learn 10x faster than the encoders
          ...(frozen ? {} : { finetune: { chunkSize: 32, groups: [{ pattern: '^(image|text)_projection\\.|^logit_', lrScale: 10 }] } }),
          checkpoint: { every: frozen ? 200 : 40, keep: 1 },
          eval: { probeSteps: integer('probe-steps', flags.probeSteps, 1), sweep: { fractions: [0.01, 0.1, 1], seeds: 3 } },
        }, { overwrite: true, signal: controller.signal });
        const render = createRenderer({ results: false });
        for await (const event of run) render(event);
        const result = await run.result;
        if (result.interrupted) {
          process.stdout.write(`interrupted at step ${result.steps}; checkpoint: ${result.checkpoint}\n`);
          process.exitCode = 130;
          return;
        }
        process.stdout.write(`\n${aurocTable(result, [...PHANTOM_OBSERVATIONS, 'No Finding', 'adverse_outcome'])}\n\n`);
        process.stdout.write(`report: ${result.reportPath}\n`);
        if (result.classifierPath) process.stdout.write(`classifier (image -> probabilities, ONNX): ${result.classifierPath}\n`);
        process.stdout.write(`demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      } finally {
        release();
      }
    });
}
