import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/data/manifest/csv.js';
import { StudyConfigError } from '../../../src/train/study/config.js';
import { writeExternalManifest } from '../../../src/train/study/external.js';

function manifest(rows: string[][], header = ['image', 'patient_id', 'hospital', 'effusion']): string {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-external-'));
  const path = join(dir, 'data.csv');
  writeFileSync(path, [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
  return path;
}

/** 60 patients at hospital X, 20 at Y, 10 at Z; one image each, no split column. */
const rows = Array.from({ length: 90 }, (_, i) => [
  `img/${i}.png`,
  `P${i}`,
  i < 60 ? 'X' : i < 80 ? 'Y' : 'Z',
  String(i % 3 === 0 ? 1 : 0),
]);

describe('the study manifest for external validation', () => {
  it('keeps in-site rows in patient-level splits and makes every other site test-only, with a role column', async () => {
    const source = manifest(rows);
    const out = await writeExternalManifest(source, { column: 'hospital', train: ['X'] });
    expect(out.manifest).toBe(join(source, '..', 'data.external-hospital-X.csv'));
    const [header, ...body] = parseCsv(readFileSync(out.manifest, 'utf8'));
    expect(header).toEqual(['image', 'patient_id', 'hospital', 'effusion', 'split', 'meta.study_site']);
    const inSite = body.filter((r) => r[2] === 'X');
    expect(new Set(inSite.map((r) => r[4]))).toEqual(new Set(['train', 'val', 'test']));
    expect(inSite.every((r) => r[5] === 'in-site')).toBe(true);
    expect(body.filter((r) => r[2] !== 'X').every((r) => r[4] === 'test' && r[5] === r[2])).toBe(true);
    expect(out.counts.Y).toEqual({ test: 20 });
    expect(out.counts.Z).toEqual({ test: 10 });
    expect(Object.values(out.counts['in-site']!).reduce((a, b) => a + b, 0)).toBe(60);
    // deriving again from the derived manifest changes nothing (its role column is rewritten, not repeated)
    const again = await writeExternalManifest(out.manifest, { column: 'hospital', train: ['X'] });
    expect(readFileSync(again.manifest, 'utf8')).toBe(readFileSync(out.manifest, 'utf8'));
    // the source's own split is kept for in-site rows
    const withSplit = manifest(
      rows.map((r, i) => [...r, i % 2 ? 'train' : 'val']),
      ['image', 'patient_id', 'hospital', 'effusion', 'split'],
    );
    const kept = parseCsv(
      readFileSync((await writeExternalManifest(withSplit, { column: 'hospital', train: ['X', 'Y'] })).manifest, 'utf8'),
    );
    kept.slice(1).forEach((r, i) => expect(r[4]).toBe(i < 80 ? (i % 2 ? 'train' : 'val') : 'test'));
  });

  it('names what is wrong: a missing column, an absent site, nothing left to test on', async () => {
    const source = manifest(rows);
    await expect(writeExternalManifest(source, { column: 'site', train: ['X'] })).rejects.toThrow(
      /data\.external\.column: .* has no column "site"/,
    );
    await expect(writeExternalManifest(source, { column: 'hospital', train: ['W'] })).rejects.toThrow(
      /has no rows with W \(values: X, Y, Z\)/,
    );
    await expect(writeExternalManifest(source, { column: 'hospital', train: ['X', 'Y', 'Z'] })).rejects.toBeInstanceOf(StudyConfigError);
    await expect(writeExternalManifest(source.replace(/\.csv$/, '.jsonl'), { column: 'hospital', train: ['X'] })).rejects.toThrow(
      /is not a \.csv manifest/,
    );
  });
});
