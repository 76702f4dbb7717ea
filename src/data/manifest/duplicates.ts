/**
 * Cross-patient duplicate images: the same image file (identical bytes) listed under two patient
 * ids. Public collections contain such copies (re-identified patients, files copied between
 * studies); left alone, a patient-level split can put one copy in training and the other in the
 * test set. Patients linked by a shared image form one split group (connected components: A–B
 * and B–C make one group of three), which splitByPatient and labelFraction keep together.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { hashSharedFiles, type HashScanStats } from './image-hashes.js';
import type { DuplicateImages, Manifest, Split } from './types.js';

export type { HashScanStats } from './image-hashes.js';

export interface FindDuplicatesOptions {
  /**
   * Hash cache file: default `.<manifest file name>.hashes.json` next to the manifest (no cache
   * for a manifest without a path); false: no cache.
   */
  cache?: string | false;
  /** Files read at once (default 8). */
  concurrency?: number;
  /** Told when the hash cache cannot be written (the result is still complete). */
  onWarning?: (message: string) => void;
  /** The scan's counts: files stat'ed, read, and taken from the cache. */
  onStats?: (stats: HashScanStats) => void;
}

/** Where the hash cache of a manifest file lives unless told otherwise. */
export function defaultHashCachePath(manifestPath: string): string {
  const absolute = resolve(manifestPath);
  return resolve(dirname(absolute), `.${basename(absolute)}.hashes.json`);
}

/**
 * Finds image files with identical bytes (SHA-256) under more than one patient. Only files whose
 * size collides with a file of another patient are read (see image-hashes.ts); missing or
 * unreadable files are skipped. A file listed twice under the same patient is not a duplicate here.
 */
export async function findDuplicateImages(manifest: Manifest, options: FindDuplicatesOptions = {}): Promise<DuplicateImages> {
  if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1)) {
    throw new InvalidArgumentError(`findDuplicateImages: concurrency must be a positive integer, got ${options.concurrency}`);
  }
  const owners = new Map<string, Set<string>>();
  for (const row of manifest.rows) {
    for (const path of row.imagePaths) {
      const set = owners.get(path);
      if (set) set.add(row.patientId);
      else owners.set(path, new Set([row.patientId]));
    }
  }
  const cachePath =
    options.cache === false ? undefined : (options.cache ?? (manifest.path ? defaultHashCachePath(manifest.path) : undefined));
  const { sha256, stats } = await hashSharedFiles(owners, {
    ...(cachePath !== undefined ? { cachePath } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  options.onStats?.(stats);

  const byHash = new Map<string, string[]>();
  for (const [path, hash] of sha256) {
    const list = byHash.get(hash);
    if (list) list.push(path);
    else byHash.set(hash, [path]);
  }
  const groups: DuplicateImages['groups'] = [];
  for (const [hash, paths] of byHash) {
    const patients = new Set<string>();
    for (const p of paths) for (const who of owners.get(p) ?? []) patients.add(who);
    if (patients.size >= 2) groups.push({ sha256: hash, paths: [...paths].sort(), patients: [...patients].sort() });
  }
  groups.sort((a, b) => (a.paths[0]! < b.paths[0]! ? -1 : a.paths[0]! > b.paths[0]! ? 1 : 0));
  return summarize(groups);
}

/** The counts of a list of groups: files involved, and patients folded into another's group. */
function summarize(groups: DuplicateImages['groups']): DuplicateImages {
  const images = new Set<string>();
  for (const g of groups) for (const p of g.paths) images.add(p);
  const components = patientComponents({ groups, imagesMerged: 0, patientsMerged: 0 });
  const representatives = new Set(components.values());
  return { groups, imagesMerged: images.size, patientsMerged: components.size - representatives.size };
}

/**
 * Each patient in a duplicate group → its split group's key: the smallest patient id of its
 * connected component (union-find over the groups). Patients in no group are absent, and keep their
 * own id as key, so a manifest without duplicates splits exactly as before.
 */
export function patientComponents(duplicates: DuplicateImages | undefined): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (p: string): string => {
    let root = p;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    for (let q = p; q !== root;) {
      const next = parent.get(q) as string;
      parent.set(q, root);
      q = next;
    }
    return root;
  };
  for (const group of duplicates?.groups ?? []) {
    for (const p of group.patients) if (!parent.has(p)) parent.set(p, p);
    for (const p of group.patients.slice(1)) {
      const a = find(group.patients[0]!);
      const b = find(p);
      // the smaller id becomes the root, so the key does not depend on the order of the groups
      if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const out = new Map<string, string>();
  for (const p of parent.keys()) out.set(p, find(p));
  return out;
}

const shown = (manifest: Manifest, path: string): string => {
  const rel = relative(manifest.baseDir, path);
  return rel.startsWith('..') ? path : rel;
};

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const listed = (items: string[], max: number): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/** The warning for a manifest whose duplicates merge patients into shared split groups. */
export function duplicateImagesWarning(manifest: Manifest, duplicates: DuplicateImages): string {
  const source = manifest.path ?? '<manifest>';
  const examples = duplicates.groups
    .slice(0, 3)
    .map((g) => `${g.paths.map((p) => shown(manifest, p)).join(' = ')} (patients ${g.patients.join(', ')})`);
  return (
    `${source}: ${count(duplicates.imagesMerged, 'image file')} with identical bytes listed under different patients ` +
    `(${count(duplicates.groups.length, 'group')}); ${count(duplicates.patientsMerged, 'patient')} merged into another patient's split group ` +
    `so that no copy lands in two splits. ${duplicates.groups.length > 3 ? 'First groups' : 'Groups'}: ${examples.join('; ')}`
  );
}

const HELD_OUT: Record<Split, number> = { train: 0, val: 1, test: 2 };

export interface ResolveSplitsOptions {
  /** Told which rows moved, naming the images; default process.emitWarning. */
  onWarning?: (message: string) => void;
}

/**
 * For a manifest that carries its own splits: every split group (patients linked by duplicate
 * images) whose rows lie in more than one split moves as a whole into the most held-out of those
 * splits (test over val over train), with a warning naming the images.
 *
 * Why move rather than refuse: official splits (MIMIC-CXR, CheXpert) are what results are compared
 * on, and a user cannot fix them short of editing the file; moving toward the held-out split never
 * removes a row from evaluation and only takes the leaked rows (and their patients' other rows,
 * which belong to the same person) out of training. Moving toward train would shrink the test set
 * and train on a copy of a test image's patient. Rows without a split are left as they are.
 */
export function resolveDuplicateSplits(manifest: Manifest, options: ResolveSplitsOptions = {}): Manifest {
  const components = patientComponents(manifest.duplicates);
  if (components.size === 0) return manifest;
  const target = new Map<string, Split>();
  const seen = new Map<string, Set<Split>>();
  for (const row of manifest.rows) {
    const key = components.get(row.patientId);
    if (key === undefined || row.split === undefined) continue;
    const set = seen.get(key) ?? new Set<Split>();
    seen.set(key, set.add(row.split));
    const best = target.get(key);
    if (best === undefined || HELD_OUT[row.split] > HELD_OUT[best]) target.set(key, row.split);
  }
  const spanning = new Set([...seen].filter(([, splits]) => splits.size > 1).map(([key]) => key));
  if (spanning.size === 0) return manifest;

  const moves: string[] = [];
  let moved = 0;
  const rows = manifest.rows.map((row) => {
    const key = components.get(row.patientId);
    if (key === undefined || !spanning.has(key) || row.split === undefined) return row;
    const to = target.get(key) as Split;
    if (row.split === to) return row;
    moved++;
    return { ...row, split: to };
  });
  for (const key of [...spanning].sort()) {
    const images = (manifest.duplicates?.groups ?? [])
      .filter((g) => components.get(g.patients[0]!) === key)
      .flatMap((g) => g.paths.map((p) => shown(manifest, p)));
    const patients = [...components].filter(([, k]) => k === key).map(([p]) => p);
    const from = [...(seen.get(key) as Set<Split>)].filter((s) => s !== target.get(key)).sort((a, b) => HELD_OUT[a] - HELD_OUT[b]);
    moves.push(`patients ${patients.join(', ')} from ${from.join('+')} to ${target.get(key)} (images ${listed(images, 6)})`);
  }
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'RadlearnWarning'));
  warn(
    `${manifest.path ?? '<manifest>'}: identical images sit in different splits of the manifest's own split column; ` +
      `moved ${count(moved, 'row')} so that each duplicate group lies in its most held-out split: ${listed(moves, 5)}`,
  );
  return { ...manifest, rows };
}

/**
 * loadManifest's duplicate pass: sets `duplicates` (empty groups when none were found), warns when
 * patients were merged, and moves duplicate groups that span the manifest's own splits.
 */
export async function withDuplicateImages(manifest: Manifest, options: FindDuplicatesOptions = {}): Promise<Manifest> {
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'RadlearnWarning'));
  const duplicates = await findDuplicateImages(manifest, { ...options, onWarning: warn });
  const out: Manifest = { ...manifest, duplicates };
  if (duplicates.groups.length === 0) return out;
  warn(duplicateImagesWarning(out, duplicates));
  return resolveDuplicateSplits(out, { onWarning: warn });
}
