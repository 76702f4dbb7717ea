import { integerFlag, positiveFlag } from '../flags.js';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generatePhantom, PHANTOM_OBSERVATIONS, train, type TrainResult } from '../../index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { createRenderer } from '../render/progress.js';
import { StageTimer } from '../render/stage-timer.js';
import { interruptOnSigint } from './train.js';
import { singleProcessOnly } from '../../distributed/mpi.js';

interface DemoFlags {
  out: string;
  n: string;
  size: string;
  steps: string;
  frozenSteps: string;
  seed: string;
  batchSize: string;
  probeSteps: string;
  frozen?: boolean;
  lr: string;
  chunkSize: string;
  workers: string;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '  n/a');

/** The AUROC table printed at the end of the demo: one row per finding, one column per evaluation. */
export function aurocTable(result: TrainResult, labels: readonly string[]): string {
  const evals = result.evaluations;
  const header = ['finding', ...evals.map((e) => `${e.name} AUROC [95% CI]`)];
  const rows = labels.map((label) => [
    label,
    ...evals.map((e) => {
      const l = e.perLabel.find((p) => p.label === label);
      return l ? `${fmt(l.auroc)} [${fmt(l.ci[0])}, ${fmt(l.ci[1])}]` : '-';
    }),
  ]);
  rows.push(['macro', ...evals.map((e) => fmt(e.macroAuroc))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Per finding: frozen-encoder heads vs end-to-end trained encoders, zero-shot and linear probe. */
export function comparisonTable(frozen: TrainResult, trained: TrainResult, labels: readonly string[]): string {
  const cell = (r: TrainResult, kind: string, label: string): string => {
    const e = r.evaluations.find((x) => x.name.startsWith(kind));
    const l = e?.perLabel.find((p) => p.label === label);
    return l ? `${fmt(l.auroc)} [${fmt(l.ci[0])}, ${fmt(l.ci[1])}]` : '-';
  };
  const macro = (r: TrainResult, kind: string): string => fmt(r.evaluations.find((x) => x.name.startsWith(kind))?.macroAuroc ?? NaN);
  const header = ['finding', 'zero-shot, frozen', 'zero-shot, end to end', 'linear probe, frozen', 'linear probe, end to end'];
  const rows = labels.map((l) => [
    l,
    cell(frozen, 'zero-shot', l),
    cell(trained, 'zero-shot', l),
    cell(frozen, 'linear probe', l),
    cell(trained, 'linear probe', l),
  ]);
  rows.push([
    'macro',
    macro(frozen, 'zero-shot'),
    macro(trained, 'zero-shot'),
    macro(frozen, 'linear probe'),
    macro(trained, 'linear probe'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job end to end on the built-in phantom: generate data, align the built-in image and text encoders with the reports (contrastive heads on the frozen encoders, then both encoders trained end to end), evaluate zero-shot and linear probe for both, write the reports',
    )
    .option('-o, --out <dir>', 'output folder', 'radlearn-demo')
    .option('-n, --n <studies>', 'phantom studies', '4000')
    .option('--size <px>', 'image side in pixels', '128')
    .option('--frozen', 'stop after the frozen-encoder stage (the previous demo)')
    .option('--frozen-steps <n>', 'contrastive head steps on the frozen encoders', '1000')
    .option('--steps <n>', 'end-to-end steps (image and text encoders, heads, temperature)', '300')
    .option('--batch-size <n>', 'batch size', '128')
    .option('--lr <x>', 'peak learning rate of the end-to-end stage', '1e-4')
    .option('--chunk-size <n>', 'rows per training-graph run in the end-to-end stage (gradient caching)', '32')
    .option(
      '--workers <n>',
      "end-to-end stage: worker threads running a step's chunks at once ('auto': one per core; 0: the main thread)",
      'auto',
    )
    .option('--probe-steps <n>', 'linear-probe optimisation steps', '300')
    .option('--seed <n>', 'seed for data and training', '1')
    .action(async (flags: DemoFlags) => {
      singleProcessOnly('radlearn demo');
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      const timer = new StageTimer();
      const out = resolve(flags.out);
      const n = integerFlag('n', flags.n, 20);
      const size = integerFlag('size', flags.size, 32);
      const seed = integerFlag('seed', flags.seed, 0);
      const lr = positiveFlag('lr', flags.lr);
      const batchSize = integerFlag('batch-size', flags.batchSize, 2);
      const workers = flags.workers === 'auto' ? ('auto' as const) : integerFlag('workers', flags.workers, 0);
      const phantomDir = join(out, `phantom-n${n}-s${size}-seed${seed}`);
      const manifest = join(phantomDir, 'manifest.csv');
      timer.enter('phantom');
      if (existsSync(manifest)) process.stderr.write(`[phantom] reusing ${phantomDir}\n`);
      else {
        process.stderr.write(`[phantom] generating ${n} studies at ${size} px in ${phantomDir}\n`);
        await generatePhantom({ out: phantomDir, n, size, seed });
      }
      const runsDir = join(out, 'runs');
      const common = {
        runsDir,
        seed,
        batchSize,
        // each step pairs an image with 1-2 of its report's sentences (random sentence sampling)
        data: { manifest, sentences: { min: 1, max: 2 } },
        image: { model: 'builtin:resnet', size },
        text: { model: 'builtin:transformer', tokenizer: 'build', vocabSize: 2000, maxLength: 64 },
        // MLP projection heads; reports with the same labeler findings are positives of each other
        head: { kind: 'mlp' as const, hidden: 256, projectionDim: 128 },
        loss: { kind: 'infonce' as const, groups: 'labels' as const },
        eval: { probeSteps: integerFlag('probe-steps', flags.probeSteps, 1), sweep: { fractions: [0.01, 0.1, 1], seeds: 3 } },
      };
      const controller = new AbortController();
      const release = interruptOnSigint(controller);
      const labels = [...PHANTOM_OBSERVATIONS, 'No Finding', 'adverse_outcome'];
      const stage = async (config: Parameters<typeof train>[0], prefix: string): Promise<TrainResult | undefined> => {
        const run = train(config, { overwrite: true, signal: controller.signal });
        const render = createRenderer({ results: false });
        for await (const event of run) {
          timer.observe(prefix, event);
          render(event);
        }
        const result = await run.result;
        if (result.interrupted) {
          process.stdout.write(`interrupted at step ${result.steps}; checkpoint: ${result.checkpoint}\n`);
          process.exitCode = 130;
          return undefined;
        }
        process.stdout.write(`\n${aurocTable(result, labels)}\n\nreport: ${result.reportPath}\n`);
        if (result.classifierPath) process.stdout.write(`classifier (image -> probabilities, ONNX): ${result.classifierPath}\n`);
        return result;
      };
      try {
        // 1. contrastive heads on the frozen (random-init) encoders
        process.stderr.write('[demo] stage 1: contrastive heads on frozen encoders\n');
        const frozen = await stage(
          {
            ...common,
            name: 'demo-frozen',
            mode: 'contrastive',
            steps: integerFlag('frozen-steps', flags.frozenSteps, 1),
            optim: { lr: 5e-3, weightDecay: 0.01, warmupSteps: 30 },
            checkpoint: { every: 200, keep: 1 },
          },
          'frozen',
        );
        if (!frozen) return;
        if (!flags.frozen) {
          // 2. unlock: both encoders, the heads (started from stage 1) and the temperature train end to end
          process.stderr.write('[demo] stage 2: image and text encoders trained end to end (clip-finetune)\n');
          const trained = await stage(
            {
              ...common,
              name: 'demo',
              mode: 'clip-finetune',
              steps: integerFlag('steps', flags.steps, 1),
              optim: { lr, weightDecay: 0.01, warmupSteps: 10 },
              checkpoint: { every: 100, keep: 1 },
              finetune: { chunkSize: integerFlag('chunk-size', flags.chunkSize, 1), initFrom: frozen.runDir, workers },
            },
            'end to end',
          );
          if (!trained) return;
          process.stdout.write(
            `\nfrozen encoders vs end-to-end trained encoders (test split, AUROC [95% DeLong CI]):\n${comparisonTable(frozen, trained, labels)}\n`,
          );
        }
        timer.close();
        await writeFileAtomic(join(out, 'timings.json'), `${JSON.stringify({ stages: timer.stages }, null, 2)}\n`);
        process.stdout.write(`\nwhere the time went (timings.json):\n${timer.table()}\n`);
        const cpu = process.cpuUsage(cpuStart);
        process.stdout.write(
          `demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (this process)\n`,
        );
      } finally {
        release();
      }
    });
}
