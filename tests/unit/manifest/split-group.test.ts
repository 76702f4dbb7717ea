import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../../src/data/manifest/load.js';
import { splitByPatient } from '../../../src/data/manifest/split.js';

// A `group` column (source or site) makes every patient of a group share one split.
const columns = ['image_path', 'patient_id', 'group', 'y'];
const records = Array.from({ length: 60 }, (_, i) => ({
  image_path: `img/${i}.png`,
  patient_id: `p${i % 30}`,
  group: i % 30 < 12 ? `site${i % 4}` : '',
  y: String(i % 2),
}));

describe('splitByPatient with a group column', () => {
  it('keeps each group in one split over 20 seeds, and rows without a group split by patient', () => {
    const manifest = buildManifest(columns, records, { baseDir: '/data' });
    expect(manifest.labelColumns.map((c) => c.name)).toEqual(['y']);
    expect(manifest.rows.filter((r) => r.group !== undefined)).toHaveLength(24);
    let ungroupedSpread = 0;
    for (let seed = 0; seed < 20; seed++) {
      const split = splitByPatient(manifest, { train: 0.5, val: 0.25, test: 0.25, seed, stratifyBy: 'y' });
      const splitsOf = new Map<string, Set<string>>();
      for (const row of split.rows) {
        const key = row.group ?? row.patientId;
        splitsOf.set(key, (splitsOf.get(key) ?? new Set()).add(row.split!));
      }
      for (const [key, splits] of splitsOf) expect(splits.size, `${key} at seed ${seed}`).toBe(1);
      ungroupedSpread += new Set(split.rows.filter((r) => r.group === undefined).map((r) => r.split)).size;
    }
    // the 18 patients without a group still spread over the three splits
    expect(ungroupedSpread).toBeGreaterThan(40);
  });

  it('without a group column splits exactly as by patient alone', () => {
    const plain = buildManifest(['image_path', 'patient_id', 'y'], records, { baseDir: '/data' });
    const blank = buildManifest(
      columns,
      records.map((r) => ({ ...r, group: '' })),
      { baseDir: '/data' },
    );
    const options = { train: 0.6, val: 0.2, test: 0.2, seed: 7, stratifyBy: 'y' };
    expect(splitByPatient(blank, options).rows.map((r) => r.split)).toEqual(splitByPatient(plain, options).rows.map((r) => r.split));
  });
});
