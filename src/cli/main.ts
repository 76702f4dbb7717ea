import { Command } from 'commander';
import { radlearnVersion } from '../index.js';
import { commands } from './commands/index.js';

/** Builds the `radlearn` program; exported so tests can drive it without a subprocess. */
export function buildProgram(): Command {
  const program = new Command('radlearn')
    .description('Train medical image encoders and classifiers from images paired with radiology reports')
    .version(radlearnVersion())
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
