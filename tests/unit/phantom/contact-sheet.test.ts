import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { writePhantomContactSheet } from '../../../src/data/phantom/contact-sheet.js';
import { sampleStudies } from '../../../src/data/phantom/truth.js';

describe('the phantom contact sheet', () => {
  it('shows one study per grade, site and projection, the first that fits, as a deterministic PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-sheet-'));
    const a = await writePhantomContactSheet({ path: join(dir, 'a.png'), seed: 2, tile: 48 });
    const b = await writePhantomContactSheet({ path: join(dir, 'b.png'), seed: 2, tile: 48 });
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    const meta = await sharp(a.path).metadata();
    expect([meta.width, meta.height]).toEqual([4 * 48, 5 * (48 + 34)]);
    expect(a.cells).toHaveLength(20);
    const studies = sampleStudies(2, 6000);
    for (const cell of a.cells) {
      expect(cell.studyId).not.toBeNull();
      const first = studies.find(
        (s) => s.findings.cardiomegalyGrade === cell.grade && s.patient.site === cell.site && s.acquisition.view === cell.view,
      );
      expect(cell.studyId).toBe(first!.studyId);
    }
    await expect(writePhantomContactSheet({ path: join(dir, 'c.png'), tile: 8 })).rejects.toThrow(
      /tile must be an integer in \[32, 1024\]/,
    );
  });
});
