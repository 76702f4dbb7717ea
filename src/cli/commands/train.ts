import type { Command } from 'commander';
import { DEVICE_SETTINGS, launchEnvironment, loadTrainConfig, train } from '../../index.js';
import { choiceFlag } from '../flags.js';
import { createRenderer } from '../render/progress.js';

interface TrainFlags {
  config: string;
  set: string[];
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
  cache?: string;
  strict?: boolean;
  device?: string;
}

/** --cache and --strict as the config overrides they stand for (a JSON string, so a path is never read as a number). */
export function dataFlagOverrides(flags: { cache?: string; strict?: boolean }): string[] {
  return [
    ...(flags.cache === undefined ? [] : [`data.cache=${JSON.stringify(flags.cache)}`]),
    ...(flags.strict ? ['data.strict=true'] : []),
  ];
}

/** --device as the config override it stands for. */
export function deviceFlagOverrides(flags: { device?: string }): string[] {
  return flags.device === undefined ? [] : [`device=${JSON.stringify(choiceFlag('device', flags.device, DEVICE_SETTINGS))}`];
}

/**
 * Ctrl-C once: finish the current step, write a checkpoint, exit 130. Twice: exit at once.
 * Returns a function that removes the handler.
 */
export function interruptOnSigint(controller: AbortController): () => void {
  let count = 0;
  const handler = (): void => {
    count++;
    if (count > 1) process.exit(130);
    process.stderr.write('\ninterrupt: writing a checkpoint after this step (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'train heads on frozen encoders (contrastive, supervised, distill) or the encoders themselves (clip-finetune, supervised-finetune, dino), evaluate on the test split, export classifier.onnx',
    )
    .requiredOption('-c, --config <file>', 'training config (JSON); see docs/training.md')
    .option(
      '--set <key=value>',
      'override a config key, e.g. --set optim.lr=3e-4 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--cache <dir>',
      'read preprocessed images from this `radlearn cache build` folder when its settings match (same as --set data.cache=DIR)',
    )
    .option(
      '--strict',
      'stop on a missing or undecodable image, or a --cache whose settings do not match, instead of skipping (data.strict)',
    )
    .option(
      '--device <auto|cpu|cuda>',
      "where onnxruntime's sessions and radlearn's kernels run (same as --set device=...; default auto: CUDA where available, else the CPU)",
    )
    .option('--resume', 'continue the run from its latest checkpoint')
    .option('--overwrite', 'discard an existing run of the same name')
    .option('--json', 'print the result summary as JSON')
    .action(async (flags: TrainFlags) => {
      const config = await loadTrainConfig(flags.config, [...flags.set, ...dataFlagOverrides(flags), ...deviceFlagOverrides(flags)]);
      const controller = new AbortController();
      const release = interruptOnSigint(controller);
      try {
        const run = train(config, { resume: flags.resume, overwrite: flags.overwrite, signal: controller.signal });
        // in a job of several processes rank 0 speaks for all of them
        const quiet = launchEnvironment().rank > 0;
        const render = quiet ? () => undefined : createRenderer();
        for await (const event of run) render(event);
        const result = await run.result;
        if (quiet) return;
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ runDir: result.runDir, steps: result.steps, interrupted: result.interrupted, lastLoss: result.lastLoss, checkpoint: result.checkpoint, report: result.reportPath, reportHtml: result.reportHtmlPath, classifier: result.classifierPath, evaluations: result.evaluations }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(`run folder: ${result.runDir}\n`);
          if (result.reportPath) process.stdout.write(`report: ${result.reportPath}\n`);
          if (result.reportHtmlPath) process.stdout.write(`report (HTML): ${result.reportHtmlPath}\n`);
          if (result.classifierPath) process.stdout.write(`classifier: ${result.classifierPath}\n`);
        }
        if (result.interrupted) {
          process.stdout.write(`interrupted at step ${result.steps}; resume with: radlearn train --config ${flags.config} --resume\n`);
          process.exitCode = 130;
        }
      } finally {
        release();
      }
    });
}
