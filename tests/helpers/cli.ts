import type { Command } from 'commander';
import { vi } from 'vitest';

/**
 * Runs a command in-process on `program` (argv after 'radlearn') and returns what it printed.
 * In-process because src/cli/main.ts reads package.json relative to dist/.
 */
export async function captureCli(program: Command, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (stdout.push(String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (stderr.push(String(c)), true));
  try {
    await program.exitOverride().parseAsync(['node', 'radlearn', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout: stdout.join(''), stderr: stderr.join('') };
}
