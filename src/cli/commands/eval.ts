import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadTrainConfig, MissingFileError, train, type TrainResult } from '../../index.js';
import { createRenderer } from '../render/progress.js';

interface EvalFlags {
  run: string;
  set: string[];
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate a finished run again from its last checkpoint (e.g. other prompts or label phrases) into a new folder <run>/eval-<UTC time>/',
    )
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
      const evalDir = await newEvalDir(runDir);
      let result: TrainResult;
      try {
        const run = train({ ...config, runsDir: resolve(runDir, '..'), name: config.name }, { resume: true, evalDir });
        const render = createRenderer();
        for await (const event of run) render(event);
        result = await run.result;
      } finally {
        // a failed evaluation, or a mode without one (dino), leaves the folder empty: remove it (rmdir keeps a non-empty one)
        await rmdir(evalDir).catch(() => undefined);
      }
      for (const e of result.evaluations) process.stdout.write(`${e.name}: macro AUROC ${e.macroAuroc.toFixed(3)}\n`);
      if (result.reportPath) process.stdout.write(`evaluation: ${evalDir}\nreport: ${result.reportPath}\n`);
      if (result.reportHtmlPath) process.stdout.write(`report (HTML): ${result.reportHtmlPath}\n`);
    });
}

/** eval-<UTC time to the second>, with -2, -3... when that name is taken; created here so no two evaluations share it. */
export async function newEvalDir(runDir: string, now = new Date()): Promise<string> {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  for (let n = 1; ; n++) {
    const dir = join(runDir, n === 1 ? `eval-${stamp}` : `eval-${stamp}-${n}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
