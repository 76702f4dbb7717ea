import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTrainConfig, MissingFileError, train } from '../../index.js';
import { createRenderer } from '../render/progress.js';

interface EvalFlags {
  run: string;
  set: string[];
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a finished run again from its last checkpoint (e.g. other prompts or label phrases), rewriting its report')
    .requiredOption('-r, --run <dir>', 'run folder (runs/<name>)')
    .option(
      '--set <key=value>',
      'override an eval.* or export key, e.g. --set eval.phrases.Lung\\ Lesion=nodule (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (flags: EvalFlags) => {
      const runDir = resolve(flags.run);
      const configPath = join(runDir, 'config.json');
      if (!existsSync(configPath)) throw new MissingFileError(configPath, 'run config');
      const config = await loadTrainConfig(configPath, flags.set);
      // the run folder is <runsDir>/<name>; keep it even if the run was moved
      const run = train({ ...config, runsDir: resolve(runDir, '..'), name: config.name }, { resume: true });
      const render = createRenderer();
      for await (const event of run) render(event);
      const result = await run.result;
      for (const e of result.evaluations) process.stdout.write(`${e.name}: macro AUROC ${e.macroAuroc.toFixed(3)}\n`);
      if (result.reportPath) process.stdout.write(`report: ${result.reportPath}\n`);
    });
}
