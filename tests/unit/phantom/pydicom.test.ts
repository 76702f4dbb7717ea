// The phantom's DICOM files as pydicom (Debian's python3-pydicom) reads them: both sites' bit depths,
// photometric interpretations, window tags and institution, and the stored values radlearn reads.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDicom } from '../../../src/data/dicom/read.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';

const SCRIPT = join(import.meta.dirname, 'pydicom_phantom.py');

function pydicomMissing(): string | null {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import pydicom, numpy'], { stdio: 'ignore' });
    return null;
  } catch {
    return '/usr/bin/python3 with pydicom and numpy is unavailable (Debian: python3-pydicom)';
  }
}
const missing = pydicomMissing();
const required = ['true', '1'].includes(process.env.CI ?? '') || process.env.RADLEARN_REQUIRE_PYDICOM === '1';

interface Read {
  bitsStored: number;
  photometric: string;
  institution: string;
  windowCenter: number;
  windowWidth: number;
  max: number;
  sha256: string;
}

describe('phantom DICOM read by pydicom', () => {
  it.skipIf(missing !== null && !required)('agrees with the ground truth and with radlearn on both sites', async () => {
    if (missing !== null) throw new Error(missing);
    const out = mkdtempSync(join(tmpdir(), 'radlearn-phantom-pydicom-'));
    const summary = await generatePhantom({ out, n: 40, size: 64, seed: 3 });
    const truth = readFileSync(summary.groundTruthPath, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            image_path: string;
            acquisition: { site: string; bitsStored: number; photometric: string; windowCenter: number; windowWidth: number };
          },
      );
    const paths = truth.map((t) => join(out, t.image_path));
    const read = JSON.parse(execFileSync('/usr/bin/python3', [SCRIPT, ...paths], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Read[];
    expect(new Set(read.map((r) => r.bitsStored))).toEqual(new Set([10, 12]));
    for (const [i, t] of truth.entries()) {
      const r = read[i]!;
      const a = t.acquisition;
      expect([r.bitsStored, r.photometric, r.institution], t.image_path).toEqual([
        a.bitsStored,
        a.photometric,
        `radlearn phantom site ${a.site}`,
      ]);
      expect([r.windowCenter, r.windowWidth]).toEqual([a.windowCenter, a.windowWidth]);
      expect(r.max).toBeLessThanOrEqual(2 ** a.bitsStored - 1);
      const ours = (await readDicom(paths[i]!)).storedPixels();
      const bytes = Buffer.from(Uint16Array.from(ours).buffer);
      expect(createHash('sha256').update(bytes).digest('hex'), t.image_path).toBe(r.sha256);
    }
  });
});
