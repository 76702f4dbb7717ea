import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commands } from './commands/index.js';

function packageVersion(): string {
  const path = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Builds the `radlearn` program; exported so tests can drive it without a subprocess. */
export function buildProgram(): Command {
  const program = new Command('radlearn')
    .description('Train medical image encoders and classifiers from images paired with radiology reports')
    .version(packageVersion())
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
