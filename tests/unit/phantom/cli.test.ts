import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { registerPhantom } from '../../../src/cli/commands/phantom.js';
import { loadManifest } from '../../../src/data/manifest/load.js';

describe('radlearn phantom', () => {
  it('writes the dataset and prints a summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-phantom-cli-'));
    const program = new Command('radlearn');
    registerPhantom(program);
    const chunks: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.exitOverride().parseAsync(['node', 'radlearn', 'phantom', '--out', dir, '--n', '9', '--size', '48', '--seed', '4']);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(chunks.join('')).toMatch(/phantom written: 9 studies of \d+ patients, 48x48, seed 4/);
    expect((await loadManifest(join(dir, 'manifest.csv'))).rows).toHaveLength(9);
  });
});
