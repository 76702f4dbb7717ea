/**
 * Manifests without cross-patient duplicate images must split exactly as they did before split
 * groups existed (the phantom demo's AUROC table depends on its splits). The digest below was
 * taken with splitByPatient / labelFraction as they were before duplicate groups were added.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../../src/data/manifest/load.js';
import { labelFraction, splitByPatient } from '../../../src/data/manifest/split.js';
import type { Manifest } from '../../../src/data/manifest/types.js';

/** A deterministic manifest: patients with 1-4 studies, two binary labels (with uncertain and empty values) and views. */
function pinnedManifest(patients: number, salt: number): Manifest {
  let state = (0x9e3779b9 ^ salt) >>> 0;
  const next = (): number => {
    // xorshift32: enough spread for a fixture, and independent of radlearn's RNG family
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const records: Record<string, unknown>[] = [];
  for (let p = 0; p < patients; p++) {
    const studies = 1 + Math.floor(next() * 4);
    for (let s = 0; s < studies; s++) {
      const a = next();
      const b = next();
      records.push({
        image_path: `img/p${p}/s${s}.png`,
        patient_id: `P${String(p).padStart(5, '0')}`,
        study_id: `p${p}s${s}`,
        view: next() < 0.6 ? 'PA' : 'AP',
        common: a < 0.3 ? '1' : a < 0.35 ? '-1' : a < 0.4 ? '' : '0',
        rare: b < 0.04 ? '1' : '0',
      });
    }
  }
  return buildManifest(['image_path', 'patient_id', 'study_id', 'view', 'common', 'rare'], records, { baseDir: '/data' });
}

function assignments(withEmptyDuplicates = false): string {
  const lines: string[] = [];
  for (const [patients, salt] of [
    [7, 1],
    [150, 2],
    [900, 3],
  ] as const) {
    const built = pinnedManifest(patients, salt);
    // loadManifest sets empty groups when it found no cross-patient copies
    const manifest: Manifest = withEmptyDuplicates ? { ...built, duplicates: { groups: [], imagesMerged: 0, patientsMerged: 0 } } : built;
    for (const seed of [0, 1, 7, 42]) {
      for (const stratifyBy of [undefined, 'rare', ['common', 'view']]) {
        const split = splitByPatient(manifest, { train: 0.7, val: 0.15, test: 0.15, seed, stratifyBy });
        lines.push(split.rows.map((r) => r.split).join(','));
        for (const fraction of [0.01, 0.1, 0.5]) {
          lines.push(
            labelFraction(split, fraction, { seed, stratifyBy })
              .rows.map((r) => r.row)
              .join(','),
          );
        }
      }
      lines.push(
        labelFraction(manifest, 0.25, { seed })
          .rows.map((r) => r.row)
          .join(','),
      );
    }
  }
  return lines.join('\n');
}

describe('splits of manifests without duplicate images', () => {
  it('are exactly those of the patient-level split before duplicate groups', () => {
    const digest = createHash('sha256').update(assignments()).digest('hex');
    expect(digest).toBe('03eb694a2d083768f638cf16399ec440fc790d13280dd4a26ea53157ee9740b4');
    expect(assignments(true)).toBe(assignments(false));
  });
});
