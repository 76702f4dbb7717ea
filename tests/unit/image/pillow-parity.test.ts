/**
 * Differential check against Pillow, the reader of torchvision and MONAI's PILReader: PNG and
 * JPEG files written by Pillow (grey, 16-bit grey, RGB, RGBA, palette, progressive, misnamed, and
 * with an embedded ICC profile) decode in radlearn to the values np.asarray(Image.open(path))
 * gives. Needs /usr/bin/python3 with numpy and Pillow (Debian: python3-numpy python3-pil);
 * skipped without them.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAnyImage, readImage, readImageInfo } from '../../../src/index.js';

interface PillowFile {
  name: string;
  path: string;
  mode: string;
  format: 'PNG' | 'JPEG';
  shape: number[];
  bits: 8 | 16;
  data: string;
  iccApplied?: string;
}

function pillowFiles(): PillowFile[] | string {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-pillow-'));
  const script = join(dirname(fileURLToPath(import.meta.url)), 'pillow_oracle.py');
  try {
    return JSON.parse(
      execFileSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as PillowFile[];
  } catch (error) {
    return `/usr/bin/python3 with numpy and Pillow unavailable: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`;
  }
}

function decodeReference(data: string, bits: 8 | 16): Uint8Array | Uint16Array {
  const bytes = Buffer.from(data, 'base64');
  const copy = new Uint8Array(bytes).buffer;
  return bits === 16 ? new Uint16Array(copy) : new Uint8Array(copy);
}

/** Pillow's values with alpha dropped (radlearn's readImage drops alpha). */
function withoutAlpha(values: Uint8Array | Uint16Array, shape: number[]): Uint8Array | Uint16Array {
  if (shape.length < 3 || (shape[2] !== 4 && shape[2] !== 2)) return values;
  const keep = shape[2] - 1;
  const out = new Uint8Array((values.length / shape[2]) * keep);
  for (let p = 0, o = 0; p < values.length; p += shape[2]) for (let c = 0; c < keep; c++) out[o++] = values[p + c]!;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const files = pillowFiles();
if (typeof files === 'string') console.warn(`skipping the Pillow parity tests: ${files}`);

/**
 * Pillow and sharp both decode JPEG with libjpeg-turbo (islow DCT, fancy upsampling), so the
 * values are expected to be equal; one level is allowed because the two may link different
 * libjpeg-turbo builds (SIMD paths), and the test reports the real maximum.
 */
const JPEG_TOLERANCE = 1;

describe.skipIf(typeof files === 'string')('Pillow parity: readImage decodes what np.asarray(Image.open(path)) gives', () => {
  const list = typeof files === 'string' ? [] : files;
  const observed: string[] = [];

  it.each(list.map((f) => [f.name, f] as const))('%s', async (_name, file) => {
    const image = await readImage(file.path);
    const expected = withoutAlpha(decodeReference(file.data, file.bits), file.shape);
    const channels = file.shape.length === 3 ? Math.min(file.shape[2]!, 3) : 1;
    expect([image.rows, image.columns, image.samplesPerPixel, image.bitsAllocated]).toEqual([
      file.shape[0],
      file.shape[1],
      channels,
      file.bits,
    ]);
    expect(image.format).toBe(file.format === 'PNG' ? 'png' : 'jpeg');
    const stored = image.storedPixels();
    const diff = maxAbsDiff(stored, expected);
    observed.push(`${file.name}: max |radlearn - Pillow| = ${diff}`);
    if (file.format === 'PNG') expect(diff).toBe(0);
    else expect(diff).toBeLessThanOrEqual(JPEG_TOLERANCE);
    // readAnyImage goes by content too, whatever the extension says.
    expect(maxAbsDiff((await readAnyImage(file.path)).storedPixels(), stored)).toBe(0);
  });

  it.each(list.filter((f) => f.iccApplied !== undefined).map((f) => [f.name, f] as const))(
    '%s: the embedded ICC profile is ignored by default and applied on request, as littleCMS applies it',
    async (_name, file) => {
      const info = await readImageInfo(file.path);
      expect(info.iccProfile?.colourSpace).toBe(file.mode === 'L' ? 'GRAY' : 'RGB');
      expect(info.iccProfile?.description).toMatch(/^radlearn test linear/);
      const plain = (await readImage(file.path)).storedPixels();
      const applied = (await readImage(file.path, { applyIccProfile: true })).storedPixels();
      // A linear-gamma profile moves mid-grey values by tens of levels: the option is not a no-op.
      const moved = maxAbsDiff(applied, plain);
      expect(moved).toBeGreaterThan(40);
      // Pillow's own ImageCms transform to sRGB (perceptual); for a grey file radlearn returns
      // one channel, and the converted R = G = B (neutral greys), so channel 0 is compared.
      const lcms = decodeReference(file.iccApplied!, 8);
      const reference = file.mode === 'L' ? lcms.filter((_, i) => i % 3 === 0) : lcms;
      const diff = maxAbsDiff(applied, reference);
      observed.push(`${file.name}: applying the ICC profile moves values by up to ${moved}; max |radlearn - ImageCms| = ${diff}`);
      expect(diff).toBeLessThanOrEqual(2);
    },
  );

  it('reports the figures', () => {
    console.log(observed.join('\n'));
    expect(observed.length).toBeGreaterThan(0);
  });
});
