import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { formatDuration } from '../../train/study/cells.js';
import {
  applyOverrides,
  InvalidArgumentError,
  MissingFileError,
  parseStudyConfig,
  runStudy,
  StudyConfigError,
  type StudyEvent,
} from '../../index.js';
import { interruptOnSigint } from './train.js';
import { encoderChecksSection } from '../../train/study/report.js';

interface StudyFlags {
  config?: string;
  preset?: string;
  manifest?: string;
  out?: string;
  set: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function render(e: StudyEvent): void {
  if (e.type === 'stage') process.stderr.write(`[study] ${e.message}\n`);
  else if (e.type === 'cell') {
    const eta = e.remainingSeconds === undefined ? '' : `; about ${formatDuration(e.remainingSeconds)} left`;
    process.stderr.write(
      `[study] cell ${e.index + 1}/${e.total} ${e.cell.id} ${e.skipped ? 'done earlier (skipped)' : `done in ${e.seconds.toFixed(1)} s${eta}`}\n`,
    );
  } else if (e.event.type === 'stage' && e.event.stage !== 'data' && e.event.stage !== 'images')
    process.stderr.write(`[study]   ${e.arm}: ${e.event.message}\n`);
}

export function registerStudy(program: Command): void {
  program
    .command('study')
    .description(
      'when do reports help? pre-training (none | report-contrastive | image-only DINO) x downstream (linear probe | MLP head | report distillation) x label fraction x seeds; AUROC table and plots in <out>/report.md; resumable',
    )
    .option('-c, --config <file>', 'study config JSON (see docs/study.md)')
    .option('--preset <name>', 'quick (2 CPU cores, < 30 min) or full')
    .option('--manifest <file>', 'run on this manifest instead of the phantom')
    .option('-o, --out <dir>', 'study folder')
    .option('--set <key=value>', 'override a config key (repeatable), e.g. --set seeds=2', collect, [])
    .action(async (flags: StudyFlags) => {
      let raw: unknown = {};
      if (flags.config) {
        let text: string;
        try {
          text = await readFile(flags.config, 'utf8');
        } catch {
          throw new MissingFileError(flags.config, 'study config');
        }
        try {
          raw = JSON.parse(text);
        } catch (e) {
          throw new StudyConfigError(`${flags.config}: not valid JSON (${(e as Error).message})`);
        }
      }
      const sets = [...flags.set];
      if (flags.manifest) sets.push(`data.manifest=${flags.manifest}`);
      if (flags.out) sets.push(`out=${flags.out}`);
      if (flags.preset !== undefined && flags.preset !== 'quick' && flags.preset !== 'full')
        throw new InvalidArgumentError(`--preset must be quick or full, got '${flags.preset}'`);
      const config = parseStudyConfig(applyOverrides(raw, sets), flags.preset as 'quick' | 'full' | undefined);
      const controller = new AbortController();
      const release = interruptOnSigint(controller);
      try {
        const result = await runStudy(config, { signal: controller.signal, onEvent: render });
        if (result.table) process.stdout.write(`\n${result.table}\n\n`);
        if (result.encoderChecks?.length)
          process.stdout.write(`${encoderChecksSection(result.encoderChecks, config.data.grade ?? undefined)}\n\n`);
        if (result.reportPath) process.stdout.write(`report: ${result.reportPath}\n`);
        process.stdout.write(
          `study ${result.complete ? 'finished' : 'interrupted (rerun the same command to continue)'}: ${result.cells.length} cells, wall ${result.seconds.toFixed(1)} s, CPU ${result.cpuSeconds.toFixed(1)} s\n`,
        );
        if (!result.complete) process.exitCode = 130;
      } finally {
        release();
      }
    });
}
