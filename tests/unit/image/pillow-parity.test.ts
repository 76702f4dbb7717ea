/**
 * Differential check against Pillow, the reader of torchvision and MONAI's PILReader: PNG and
 * JPEG files decode in radlearn to the values np.asarray(Image.open(path)) gives, with embedded
 * ICC profiles ignored by default and applied on request as littleCMS applies them. Two corpora:
 * files written by Pillow (grey, 16-bit grey, RGB, RGBA, palette, progressive, misnamed, with
 * ICC profiles; needs /usr/bin/python3 with numpy and Pillow) and real files assembled from
 * Debian packages by real_image_corpus.py (scikit-image's sample photographs and scans with their
 * camera and scanner profiles, real ICC profiles embedded losslessly, lossless progressive
 * transcodes, real CT/MR data as 16-bit PNG, misnamed and extensionless files; needs
 * python3-skimage, python3-pydicom, icc-profiles-free and libjpeg-turbo-progs). Skipped locally
 * without them; required under CI=true, where .ci/run installs them.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RadlearnError, readAnyImage, readImageInfo } from '../../../src/index.js';

interface PillowFile {
  name: string;
  path: string;
  mode: string;
  format: 'PNG' | 'JPEG';
  shape: number[];
  bits: 8 | 16;
  data: string;
  /** A PNG's bit depth as stored (IHDR). */
  fileBits?: number;
  iccDescription?: string;
  iccApplied?: string;
}

/**
 * Files whose ICC profile libpng (under libvips) rejects: radlearn reports the profile, reads the
 * pixels as Pillow does, and refuses to apply it (ERR_IMAGE_ICC) rather than pretend.
 */
const LIBPNG_REJECTS_PROFILE = new Set(['page.png', 'page_icc_no_extension']);

interface RealCorpus {
  files: PillowFile[];
  /** Files Pillow itself cannot decode. */
  refused: Array<{ name: string; path: string; pillow: string }>;
}

/** The script's JSON, or why it could not run. */
function runOracle<T>(script: string, needs: string): T | string {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-pillow-'));
  try {
    const path = join(dirname(fileURLToPath(import.meta.url)), script);
    return JSON.parse(
      execFileSync('/usr/bin/python3', [path, dir], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as T;
  } catch (error) {
    return `${script} needs ${needs}: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`;
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

/**
 * Pillow and sharp both decode JPEG with libjpeg-turbo (islow DCT, fancy upsampling), so the
 * values are expected to be equal; one level is allowed because the two may link different
 * libjpeg-turbo builds (SIMD paths), and the test reports the real maximum.
 */
const JPEG_TOLERANCE = 1;
/** Both apply profiles with littleCMS; rounding of the two pipelines may differ by a level or two. */
const ICC_TOLERANCE = 2;

function parityTests(list: PillowFile[], observed: string[]): void {
  it.each(list.map((f) => [f.name, f] as const))('%s', async (_name, file) => {
    const image = await readAnyImage(file.path);
    const expected = withoutAlpha(decodeReference(file.data, file.bits), file.shape);
    const channels = file.shape.length === 3 ? Math.min(file.shape[2]!, 3) : 1;
    // Pillow reads a 16-bit colour PNG as 8-bit, keeping the high byte; radlearn keeps all 16 bits
    const colour16 = file.fileBits === 16 && channels === 3;
    expect([image.rows, image.columns, image.samplesPerPixel, image.bitsAllocated]).toEqual([
      file.shape[0],
      file.shape[1],
      channels,
      colour16 ? 16 : file.bits,
    ]);
    expect(image.format).toBe(file.format === 'PNG' ? 'png' : 'jpeg');
    const stored = colour16 ? Uint8Array.from(image.storedPixels(), (v) => v >> 8) : image.storedPixels();
    const diff = maxAbsDiff(stored, expected);
    observed.push(`${file.name}: max |radlearn${colour16 ? ' >> 8 (16-bit colour)' : ''} - Pillow| = ${diff}`);
    if (file.format === 'PNG') expect(diff).toBe(0);
    else expect(diff).toBeLessThanOrEqual(JPEG_TOLERANCE);
  });

  it.each(list.filter((f) => f.iccApplied !== undefined).map((f) => [f.name, f] as const))(
    '%s: the embedded ICC profile is ignored by default and applied on request, as littleCMS applies it',
    async (_name, file) => {
      const info = await readImageInfo(file.path);
      expect(info.iccProfile?.colourSpace).toBe(file.mode === 'L' ? 'GRAY' : 'RGB');
      expect(info.iccProfile?.description?.trim()).toBe(file.iccDescription);
      if (LIBPNG_REJECTS_PROFILE.has(file.name)) {
        expect(info.iccProfile?.applicable).toBe(false);
        await expect(readAnyImage(file.path, { applyIccProfile: true })).rejects.toMatchObject({ code: 'ERR_IMAGE_ICC' });
        observed.push(`${file.name} (${file.iccDescription}): libpng rejects the profile; applyIccProfile refuses with ERR_IMAGE_ICC`);
        return;
      }
      expect(info.iccProfile?.applicable).toBe(true);
      const plain = (await readAnyImage(file.path)).storedPixels();
      const applied = (await readAnyImage(file.path, { applyIccProfile: true })).storedPixels();
      const moved = maxAbsDiff(applied, plain);
      // the test's own linear-gamma profiles move mid-grey values by tens of levels: the option is not a no-op
      if (file.iccDescription?.startsWith('radlearn test linear')) expect(moved).toBeGreaterThan(40);
      // Pillow's own ImageCms transform to sRGB; for a grey file radlearn returns one channel,
      // and the converted R = G = B (neutral greys), so channel 0 is compared.
      const lcms = decodeReference(file.iccApplied!, 8);
      const reference = file.mode === 'L' ? lcms.filter((_, i) => i % 3 === 0) : lcms;
      const diff = maxAbsDiff(applied, reference);
      observed.push(
        `${file.name} (${file.iccDescription}): applying the profile moves values by up to ${moved}; max |radlearn - ImageCms| = ${diff}`,
      );
      expect(diff).toBeLessThanOrEqual(ICC_TOLERANCE);
    },
  );
}

const required = process.env.CI === 'true';
const written = runOracle<PillowFile[]>('pillow_oracle.py', 'numpy and Pillow');
const real = runOracle<RealCorpus>('real_image_corpus.py', 'python3-skimage, python3-pydicom, icc-profiles-free and libjpeg-turbo-progs');
for (const skipped of [written, real]) if (typeof skipped === 'string') console.warn(`skipping Pillow parity: ${skipped}`);

describe.skipIf(typeof written === 'string' && !required)('Pillow parity on files written by Pillow', () => {
  const observed: string[] = [];
  it('has its oracle', () => expect(typeof written === 'string' ? written : '').toBe(''));
  parityTests(typeof written === 'string' ? [] : written, observed);
  it('reports the figures', () => {
    console.log(observed.join('\n'));
    expect(observed.length).toBeGreaterThan(0);
  });
});

describe.skipIf(typeof real === 'string' && !required)(
  'Pillow parity on real files (scikit-image samples, real ICC profiles, CT/MR)',
  () => {
    const observed: string[] = [];
    it('has its oracle', () => expect(typeof real === 'string' ? real : '').toBe(''));
    parityTests(typeof real === 'string' ? [] : real.files, observed);
    it.each((typeof real === 'string' ? [] : real.refused).map((f) => [f.name, f] as const))(
      '%s: refused with a typed error, as Pillow refuses it',
      async (_name, file) => {
        const error = await readAnyImage(file.path).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RadlearnError);
        observed.push(`${file.name}: Pillow "${file.pillow}", radlearn ${(error as RadlearnError).code}`);
      },
    );
    it('reports the figures', () => {
      console.log(observed.join('\n'));
      expect(observed.length).toBeGreaterThan(0);
    });
  },
);
