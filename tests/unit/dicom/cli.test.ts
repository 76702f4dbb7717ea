import { describe, expect, it, vi } from 'vitest';
import { mkdtemp, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerDicom } from '../../../src/cli/commands/dicom.js';

// src/cli/main.ts reads package.json relative to dist/, so tests register the command on a bare program.
function buildProgram(): Command {
  const program = new Command('radlearn');
  registerDicom(program);
  return program;
}
import { encodeDicom, readImage, TransferSyntax } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

async function run(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'radlearn', ...args]);
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('radlearn dicom', () => {
  it('info prints the metadata; png writes the windowed image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-cli-'));
    const rows = 40,
      columns = 52;
    const pixels = syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 12, seed: 2, noise: 0.1 });
    const file = join(dir, 'x.dcm');
    await writeFile(
      file,
      await encodeDicom({
        rows,
        columns,
        bitsAllocated: 16,
        bitsStored: 12,
        pixels,
        modality: 'DX',
        viewPosition: 'PA',
        patientId: 'PAT7',
        windowCenter: 2048,
        windowWidth: 3000,
        photometricInterpretation: 'MONOCHROME1',
        transferSyntaxUID: TransferSyntax.JpegLsLossless,
      }),
    );
    const info = await run(['dicom', 'info', file]);
    expect(info).toContain('1.2.840.10008.1.2.4.80 (JPEG-LS Lossless)');
    expect(info).toContain('52 x 40');
    expect(info).toContain('MONOCHROME1');
    expect(info).toContain('C 2048 W 3000');
    expect(info).toContain('PAT7');
    const json = JSON.parse(await run(['dicom', 'info', '--json', file])) as Record<string, unknown>;
    expect(json.rows).toBe(40);

    const out = join(dir, 'x.png');
    await run(['dicom', 'png', file, out, '--window', '2048,3000', '--depth', '16']);
    const png = await readImage(out);
    expect([png.rows, png.columns, png.bitsAllocated]).toEqual([rows, columns, 16]);
    const stored = png.storedPixels();
    for (let i = 0; i < stored.length; i++) {
      const linear = Math.min(1, Math.max(0, (pixels[i]! - 2047.5) / 2999 + 0.5));
      expect(Math.abs(stored[i]! - Math.round((1 - linear) * 65535))).toBeLessThanOrEqual(1); // MONOCHROME1 inverted
    }
    await run(['dicom', 'png', file, join(dir, 'auto.png')]);
    expect((await stat(join(dir, 'auto.png'))).size).toBeGreaterThan(100);
    await expect(run(['dicom', 'png', file, join(dir, 'bad.png'), '--window', '12'])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
