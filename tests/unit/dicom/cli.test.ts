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
import sharp from 'sharp';
import { encodeDicom, readImage, TransferSyntax, writeDicom } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

async function run(args: string[], stderr: string[] = []): Promise<string> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr.push(String(c));
    return true;
  });
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

  it('info describes a PNG or JPEG header: format, size, bit depth, channels, ICC profile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-cli-'));
    const grey = Buffer.from(syntheticPixels({ rows: 30, columns: 41, bitsAllocated: 8, seed: 4, noise: 0.2 }));
    const raw = { raw: { width: 41, height: 30, channels: 1 as const } };
    const png = join(dir, 'icc.png');
    await writeFile(png, await sharp(grey, raw).toColourspace('srgb').withIccProfile('p3').png().toBuffer());
    const info = await run(['dicom', 'info', png]);
    expect(info).toMatch(/format:\s+PNG\n/);
    expect(info).toContain('41 x 30');
    expect(info).toMatch(/bit depth:\s+8\n/);
    expect(info).toMatch(/channels:\s+3 \(srgb\)/);
    expect(info).toMatch(/icc profile:\s+RGB '[^']+', \d+ bytes \(not applied unless applyIccProfile\)/);
    // A progressive grey JPEG under a .png name: the content decides.
    const jpeg = join(dir, 'named.png');
    await writeFile(jpeg, await sharp(grey, raw).toColourspace('b-w').jpeg({ progressive: true }).toBuffer());
    const jpegInfo = await run(['dicom', 'info', jpeg]);
    expect(jpegInfo).toMatch(/format:\s+JPEG, progressive\n/);
    expect(jpegInfo).toMatch(/channels:\s+1 \(b-w\)/);
    expect(jpegInfo).toMatch(/icc profile:\s+none/);
    const json = JSON.parse(await run(['dicom', 'info', '--json', png])) as Record<string, unknown>;
    expect(json).toMatchObject({ format: 'png', width: 41, height: 30, bitDepth: 8, channels: 3, progressive: false });
    expect((json.iccProfile as { colourSpace: string }).colourSpace).toBe('RGB');
  });

  it('png warns when the file window maps the whole image to one end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-cli-'));
    const file = join(dir, 'white.dcm');
    const pixels = syntheticPixels({ rows: 16, columns: 16, bitsAllocated: 16, bitsStored: 12, seed: 3, noise: 0.1 });
    await writeFile(
      file,
      writeDicom({ rows: 16, columns: 16, bitsAllocated: 16, bitsStored: 12, pixels, windowCenter: -2000, windowWidth: 10 }),
    );
    const stderr: string[] = [];
    await run(['dicom', 'png', file, join(dir, 'white.png')], stderr);
    const warning = stderr.find((line) => line.startsWith('[warning] '));
    expect(warning).toContain('WindowCenter -2000, WindowWidth 10');
    expect(warning).toContain('100% of the pixels to white');
    expect(warning).toMatch(/data range is \d+ to \d+ \(stored values\)/);
    const quiet: string[] = [];
    await run(['dicom', 'png', file, join(dir, 'none.png'), '--window', 'none'], quiet);
    expect(quiet.some((line) => line.startsWith('[warning]'))).toBe(false);
  });
});
