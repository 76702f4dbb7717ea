/**
 * Patient-level splitting and label-fraction subsets.
 *
 * A patient's studies always land in one split, so nothing about a patient leaks
 * from training into evaluation. With `stratifyBy`, patients are grouped by the
 * values of the named label columns (a patient counts as positive for a label if
 * any of their rows is) and each group is divided in the requested proportions,
 * keeping prevalence similar across splits. Order within a group comes from a
 * hash of (seed, patient id), so results do not depend on row order.
 *
 * Patients linked by identical image files (`manifest.duplicates`) form one split
 * group, which is placed as a unit under the key of its smallest patient id; a
 * patient in no such group is its own group, under its own id.
 */
import { hashKeys } from '../../random/index.js';
import { patientComponents } from './duplicates.js';
import { ManifestError, type Manifest, type ManifestRow, type Split } from './types.js';

export interface SplitOptions {
  train: number;
  val: number;
  test: number;
  seed: number;
  /** Label column(s), or 'view', to stratify on. */
  stratifyBy?: string | string[];
}

export interface FractionOptions {
  seed: number;
  stratifyBy?: string | string[];
}

/** Rows by split group: the patient's own id, or its duplicate group's key. */
function groupsOf(rows: ManifestRow[], groupKey: (patient: string) => string): Map<string, ManifestRow[]> {
  const byGroup = new Map<string, ManifestRow[]>();
  for (const row of rows) {
    const key = groupKey(row.patientId);
    const list = byGroup.get(key);
    if (list) list.push(row);
    else byGroup.set(key, [row]);
  }
  return byGroup;
}

/**
 * Patients linked by a duplicate image or by a shared `group` (source/site) value form one split
 * group, keyed by its smallest patient id; a manifest with neither splits exactly by patient.
 */
function groupKeyOf(manifest: Manifest): (patient: string) => string {
  const links = [...(manifest.duplicates?.groups ?? [])];
  const bySource = new Map<string, Set<string>>();
  for (const row of manifest.rows) {
    if (row.group === undefined) continue;
    const patients = bySource.get(row.group) ?? new Set<string>();
    bySource.set(row.group, patients.add(row.patientId));
  }
  for (const patients of bySource.values()) links.push({ sha256: '', paths: [], patients: [...patients].sort() });
  const components = patientComponents({ groups: links, imagesMerged: 0, patientsMerged: 0 });
  return (patient) => components.get(patient) ?? patient;
}

function strataKey(rows: ManifestRow[], columns: string[]): string {
  return columns
    .map((c) => {
      if (c === 'view') return [...new Set(rows.map((r) => r.view ?? ''))].sort().join('+');
      let best: number | null = null;
      for (const r of rows) {
        const v = r.labels[c];
        if (v !== null && v !== undefined && (best === null || v > best)) best = v;
      }
      return best === null ? '∅' : String(best);
    })
    .join('|');
}

function checkStratify(manifest: Manifest, stratifyBy: string | string[] | undefined): string[] {
  const columns = stratifyBy === undefined ? [] : Array.isArray(stratifyBy) ? stratifyBy : [stratifyBy];
  const known = new Set(manifest.labelColumns.map((l) => l.name));
  for (const c of columns) {
    if (c !== 'view' && !known.has(c)) {
      throw new ManifestError(
        `stratifyBy column "${c}" is not a label column of the manifest (label columns: ${[...known].join(', ') || 'none'})`,
        { column: c },
      );
    }
  }
  return columns;
}

/** Groups split groups into strata, each ordered by the seeded hash of the group's key. */
function orderedStrata(byGroup: Map<string, ManifestRow[]>, columns: string[], seed: number, salt: string): string[][] {
  const strata = new Map<string, string[]>();
  for (const [group, rows] of byGroup) {
    const key = strataKey(rows, columns);
    const list = strata.get(key);
    if (list) list.push(group);
    else strata.set(key, [group]);
  }
  const keys = [...strata.keys()].sort();
  return keys.map((k) => {
    const groups = strata.get(k) as string[];
    const rank = new Map(groups.map((g) => [g, hashKeys(seed, salt, g)]));
    return groups.sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number) || (a < b ? -1 : 1));
  });
}

/** Splits integer n in the given proportions by largest remainder. */
function apportion(n: number, fractions: number[]): number[] {
  const total = fractions.reduce((a, b) => a + b, 0);
  const exact = fractions.map((f) => (f / total) * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  return counts;
}

/** Assigns every row a split so that no patient, and no image shared by patients, appears in two splits. */
export function splitByPatient(manifest: Manifest, options: SplitOptions): Manifest {
  const fractions = [options.train, options.val, options.test];
  if (fractions.some((f) => !Number.isFinite(f) || f < 0) || fractions.reduce((a, b) => a + b, 0) <= 0) {
    throw new ManifestError(`splitByPatient: train/val/test must be non-negative with a positive sum, got ${fractions.join('/')}`);
  }
  const columns = checkStratify(manifest, options.stratifyBy);
  const groupKey = groupKeyOf(manifest);
  const byGroup = groupsOf(manifest.rows, groupKey);
  const assignment = new Map<string, Split>();
  const names: Split[] = ['train', 'val', 'test'];
  for (const groups of orderedStrata(byGroup, columns, options.seed, 'split')) {
    const counts = apportion(groups.length, fractions);
    let k = 0;
    counts.forEach((count, s) => {
      for (let i = 0; i < count; i++) assignment.set(groups[k++] as string, names[s] as Split);
    });
  }
  return { ...manifest, rows: manifest.rows.map((r) => ({ ...r, split: assignment.get(groupKey(r.patientId)) as Split })) };
}

/**
 * Keeps `fraction` of the training patients (rows with split 'train', or all rows
 * when the manifest has no splits), per stratum, at least one patient per non-empty
 * stratum. Validation and test rows are kept. Subsets are nested: with one seed,
 * the 1% subset lies inside the 10% subset, which lies inside 100%. Patients of one
 * duplicate-image group are kept or left out together.
 */
export function labelFraction(manifest: Manifest, fraction: number, options: FractionOptions): Manifest {
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new ManifestError(`labelFraction: fraction must be in (0, 1], got ${fraction}`);
  }
  const columns = checkStratify(manifest, options.stratifyBy);
  const hasSplits = manifest.rows.some((r) => r.split !== undefined);
  const isTrain = (r: ManifestRow): boolean => !hasSplits || r.split === 'train';
  const groupKey = groupKeyOf(manifest);
  const byGroup = groupsOf(manifest.rows.filter(isTrain), groupKey);
  const keep = new Set<string>();
  for (const groups of orderedStrata(byGroup, columns, options.seed, 'fraction')) {
    const count = Math.min(groups.length, Math.max(1, Math.round(fraction * groups.length)));
    for (let i = 0; i < count; i++) keep.add(groups[i] as string);
  }
  return { ...manifest, rows: manifest.rows.filter((r) => !isTrain(r) || keep.has(groupKey(r.patientId))) };
}
