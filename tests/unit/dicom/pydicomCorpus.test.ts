/**
 * Differential check on real files: every file in pydicom's corpus that pydicom (or Pillow,
 * for lossy JPEG) decodes must decode to exactly the same stored values in radlearn. Needs
 * /usr/bin/python3 with pydicom, numpy and Pillow (Debian: python3-pydicom python3-numpy
 * python3-pil; python3-gdcm adds JPEG-LS and 12-bit lossy JPEG references); skipped without them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DicomError, readDicom } from '../../../src/index.js';

interface Reference {
  path: string;
  name: string;
  decoder?: string;
  sha256?: string;
  error?: string;
}

function references(): Reference[] | undefined {
  try {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'pydicom_oracle.py');
    return JSON.parse(
      execFileSync('/usr/bin/python3', [script], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as Reference[];
  } catch {
    return undefined;
  }
}

/** Real files radlearn refuses on purpose although pydicom reads them, and why. */
const KNOWN_REFUSALS: Record<string, string> = {};

const refs = references();

describe.skipIf(refs === undefined)('pydicom corpus: radlearn decodes what pydicom decodes, to the same values', () => {
  const decodable = (refs ?? []).filter((r) => r.sha256 !== undefined);

  const outcomes = new Map<string, 'matched' | 'refused'>();
  afterAll(() => {
    const matched = [...outcomes.values()].filter((o) => o === 'matched').length;
    console.log(`pydicom corpus: pydicom decodes ${decodable.length} files; radlearn matches ${matched} exactly`);
  });

  it('has references for most of the corpus', () => {
    expect(decodable.length).toBeGreaterThan(40);
  });

  it.each(decodable.map((r) => [r.name, r] as const))('%s', async (name, ref) => {
    let image;
    try {
      image = await readDicom(ref.path);
    } catch (error) {
      expect(error).toBeInstanceOf(DicomError);
      expect((error as DicomError).code).toBe(KNOWN_REFUSALS[name] ?? 'decoded');
      outcomes.set(name, 'refused');
      return;
    }
    const hash = createHash('sha256');
    for (let frame = 0; frame < image.numberOfFrames; frame++) {
      const stored = image.storedPixels(frame);
      hash.update(new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
    }
    expect(hash.digest('hex')).toBe(ref.sha256);
    outcomes.set(name, 'matched');
  });

  const undecodable = (refs ?? []).filter((r) => r.sha256 === undefined);
  it.each(undecodable.map((r) => [r.name, r] as const))('%s: pydicom has no reference; radlearn decodes it or says why', async (_, ref) => {
    try {
      const image = await readDicom(ref.path);
      for (let frame = 0; frame < image.numberOfFrames; frame++) image.storedPixels(frame);
    } catch (error) {
      expect(error).toBeInstanceOf(DicomError);
    }
  });
});
