import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, MissingFileError, matchSentences } from '../../index.js';
import { integerFlag } from '../flags.js';

interface MatchFlags {
  run: string;
  image: string;
  report: string;
  top?: string;
  json?: boolean;
}

export function registerMatch(program: Command): void {
  program
    .command('match')
    .description('rank a report’s sentences by similarity to its image under a trained contrastive run')
    .requiredOption('-r, --run <dir>', 'run folder of a contrastive run (runs/<name>)')
    .requiredOption('-i, --image <file>', 'the image: DICOM, PNG or JPEG')
    .requiredOption('--report <file>', 'the report as a text file')
    .option('--top <n>', 'print only the n most similar sentences')
    .option('--json', 'print the ranking as JSON')
    .action(async (flags: MatchFlags) => {
      const top = flags.top === undefined ? undefined : integerFlag('top', flags.top, 1);
      let text: string;
      try {
        text = await readFile(flags.report, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(flags.report, 'report');
        throw new InvalidArgumentError(`--report ${flags.report}: cannot read it (${(error as Error).message})`, { path: flags.report });
      }
      const result = await matchSentences(flags.run, flags.image, text);
      const shown = result.sentences.slice(0, top ?? result.sentences.length);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ run: flags.run, image: flags.image, report: flags.report, sentences: shown }, null, 2)}\n`,
        );
        return;
      }
      if (shown.length === 0) {
        process.stdout.write(`${flags.report}: no sentences to rank\n`);
        return;
      }
      process.stdout.write(`sentences of ${flags.report} ranked by cosine similarity to ${flags.image}:\n`);
      shown.forEach((s, rank) => process.stdout.write(`${String(rank + 1).padStart(3)}. ${s.score.toFixed(3).padStart(6)}  ${s.text}\n`));
    });
}
