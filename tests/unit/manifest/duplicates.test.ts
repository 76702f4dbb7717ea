/**
 * Cross-patient duplicate images. The fixture is a MIMIC-CXR-JPG-shaped tree
 * (files/p1x/p1xxxxxxx/s5xxxxxxx/<dicom_id>.jpg) with a subject_id/study_id manifest; the files hold
 * random bytes, since the duplicate check compares bytes and never decodes them. Identical files
 * are planted under different patients (a pair, a chain A–B, B–C, one path listed under two
 * patients) next to a copy under the same patient and a same-size pair with different bytes.
 * Every expectation comes from hashing the files here with node:crypto, independently of the code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { defaultHashCachePath, findDuplicateImages, type HashScanStats } from '../../../src/data/manifest/duplicates.js';
import { HEAD_BYTES } from '../../../src/data/manifest/image-hashes.js';
import { buildManifest, loadManifest } from '../../../src/data/manifest/load.js';
import { labelFraction, splitByPatient } from '../../../src/data/manifest/split.js';
import type { Manifest, Split } from '../../../src/data/manifest/types.js';

interface Fixture {
  dir: string;
  manifestPath: string;
  /** relative image path of each row, and its patient */
  rows: Array<{ image: string; patient: string; study: string; label: number; split?: Split }>;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function writeImage(dir: string, rel: string, bytes: Buffer): void {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

const imagePath = (patient: number, study: number, image: number): string =>
  `files/p${String(patient).slice(0, 2)}/p${patient}/s${50000000 + patient * 10 + study}/${(patient * 1000 + study * 10 + image).toString(16).padStart(8, '0')}-dicom.jpg`;

/**
 * 24 patients (subject ids 10000001...), 1-3 studies each, one image per study, each image a
 * distinct size (so, apart from the planted files, no size collides) with random bytes.
 */
function makeFixture(splits?: (patient: string) => Split): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-dups-'));
  const rows: Fixture['rows'] = [];
  let size = 700;
  for (let p = 1; p <= 24; p++) {
    const patient = 10000000 + p;
    const studies = 1 + (p % 3);
    for (let s = 0; s < studies; s++) {
      const image = imagePath(patient, s, 0);
      writeImage(dir, image, randomBytes((size += 13)));
      rows.push({ image, patient: String(patient), study: `s${50000000 + patient * 10 + s}`, label: (p * 7 + s) % 3 === 0 ? 1 : 0 });
    }
  }
  const first = (p: number): string => rows.find((r) => r.patient === String(10000000 + p))!.image;
  const plant = (from: string, patient: number, study: number): string => {
    const image = imagePath(10000000 + patient, study, 1);
    mkdirSync(dirname(join(dir, image)), { recursive: true });
    copyFileSync(join(dir, from), join(dir, image));
    rows.push({ image, patient: String(10000000 + patient), study: `s${50000000 + (10000000 + patient) * 10 + study}`, label: 0 });
    return image;
  };
  // a pair: patient 1's image also filed under patient 2
  plant(first(1), 2, 7);
  // a chain: 3's image under 4, and 4's image under 5: one group of three patients
  plant(first(3), 4, 7);
  plant(first(4), 5, 7);
  // the same path listed under patients 7 and 8
  rows.push({ image: first(7), patient: String(10000008), study: 's-shared', label: 1 });
  // a copy under the same patient: not a merge
  plant(first(6), 6, 8);
  // same size, different bytes, different patients: read, but not a duplicate
  const sameSize = statSync(join(dir, first(9))).size;
  writeImage(dir, imagePath(10000010, 9, 1), randomBytes(sameSize));
  rows.push({ image: imagePath(10000010, 9, 1), patient: '10000010', study: 's-10-9', label: 0 });
  // a row whose image is missing: not this check's business
  rows.push({ image: 'files/p10/p10000011/s-missing/gone.jpg', patient: '10000011', study: 's-missing', label: 0 });

  if (splits) for (const r of rows) r.split = splits(r.patient);
  const header = ['path', 'subject_id', 'study_id', 'Cardiomegaly', ...(splits ? ['split'] : [])];
  const manifestPath = join(dir, 'mimic-cxr-jpg.csv');
  writeFileSync(
    manifestPath,
    formatCsv([header, ...rows.map((r) => [r.image, r.patient, r.study, String(r.label), ...(r.split ? [r.split] : [])])]),
  );
  return { dir, manifestPath, rows };
}

/** The oracle: groups of identical content listed under two or more patients, computed here. */
function expectedGroups(fx: Fixture): Array<{ sha256: string; paths: string[]; patients: string[] }> {
  const byHash = new Map<string, { paths: Set<string>; patients: Set<string> }>();
  for (const r of fx.rows) {
    const path = join(fx.dir, r.image);
    if (!existsSync(path)) continue;
    const h = sha(path);
    const g = byHash.get(h) ?? { paths: new Set(), patients: new Set() };
    g.paths.add(path);
    g.patients.add(r.patient);
    byHash.set(h, g);
  }
  return [...byHash]
    .filter(([, g]) => g.patients.size >= 2)
    .map(([sha256, g]) => ({ sha256, paths: [...g.paths].sort(), patients: [...g.patients].sort() }))
    .sort((a, b) => (a.paths[0]! < b.paths[0]! ? -1 : 1));
}

/** Files whose size is shared with a file of another patient: the only ones the check may read. */
function sizeCollisions(fx: Fixture): Set<string> {
  const owners = new Map<string, Set<string>>();
  for (const r of fx.rows) {
    const path = join(fx.dir, r.image);
    if (existsSync(path)) owners.set(path, (owners.get(path) ?? new Set()).add(r.patient));
  }
  const bySize = new Map<number, string[]>();
  for (const path of owners.keys()) bySize.set(statSync(path).size, [...(bySize.get(statSync(path).size) ?? []), path]);
  const out = new Set<string>();
  for (const paths of bySize.values()) {
    if (new Set(paths.flatMap((p) => [...owners.get(p)!])).size >= 2) for (const p of paths) out.add(p);
  }
  return out;
}

async function scan(manifest: Manifest, cache?: string | false): Promise<{ stats: HashScanStats; groups: string[][] }> {
  let stats: HashScanStats | undefined;
  const found = await findDuplicateImages(manifest, { ...(cache !== undefined ? { cache } : {}), onStats: (s) => (stats = s) });
  return { stats: stats!, groups: found.groups.map((g) => g.patients) };
}

let fx: Fixture;
beforeEach(() => {
  fx = makeFixture();
});

describe('loadManifest: duplicate images', () => {
  it('finds identical files under different patients, with counts and one warning', async () => {
    const warnings: string[] = [];
    const manifest = await loadManifest(fx.manifestPath, { onWarning: (w) => warnings.push(w) });
    const expected = expectedGroups(fx);
    // pair 1-2, chain 3-4 and 4-5, the path shared by 7 and 8; not patient 6's own copy, not the same-size pair
    expect(expected.map((g) => g.patients)).toEqual([
      ['10000001', '10000002'],
      ['10000003', '10000004'],
      ['10000004', '10000005'],
      ['10000007', '10000008'],
    ]);
    expect(manifest.duplicates?.groups).toEqual(expected);
    expect(manifest.duplicates?.imagesMerged).toBe(7);
    // {1,2}: one folded in; {3,4,5}: two; {7,8}: one
    expect(manifest.duplicates?.patientsMerged).toBe(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${fx.manifestPath}: 7 image files with identical bytes listed under different patients (4 groups)`);
    expect(warnings[0]).toContain("4 patients merged into another patient's split group");
    expect(warnings[0]).toMatch(/files\/p10\/p10000001\/.* = files\/p10\/p10000002\/.*\(patients 10000001, 10000002\)/);
  });

  it('never puts one file in two splits, over 20 seeds, while the patient-only split would', async () => {
    const manifest = await loadManifest(fx.manifestPath, { onWarning: () => undefined });
    const plain = await loadManifest(fx.manifestPath, { duplicates: 'off' });
    expect(plain.duplicates).toBeUndefined();
    const hashOf = new Map(
      fx.rows.filter((r) => existsSync(join(fx.dir, r.image))).map((r) => [join(fx.dir, r.image), sha(join(fx.dir, r.image))]),
    );
    const leaks = (m: Manifest): number => {
      const splits = new Map<string, Set<Split>>();
      for (const r of m.rows) {
        const h = hashOf.get(r.imagePaths[0]!);
        if (h) splits.set(h, (splits.get(h) ?? new Set()).add(r.split!));
      }
      return [...splits.values()].filter((s) => s.size > 1).length;
    };
    let leakySeedsWithoutGroups = 0;
    for (let seed = 0; seed < 20; seed++) {
      for (const stratifyBy of [undefined, 'Cardiomegaly']) {
        const options = { train: 0.5, val: 0.25, test: 0.25, seed, stratifyBy };
        const split = splitByPatient(manifest, options);
        expect(leaks(split)).toBe(0);
        // every patient, and every group of linked patients, in one split
        for (const group of [['10000001', '10000002'], ['10000003', '10000004', '10000005'], ['10000007', '10000008'], ['10000006']]) {
          expect(new Set(split.rows.filter((r) => group.includes(r.patientId)).map((r) => r.split)).size).toBe(1);
        }
        if (leaks(splitByPatient(plain, options)) > 0) leakySeedsWithoutGroups++;
        // label fractions keep or drop a linked group as a whole
        const kept = new Set(labelFraction(split, 0.3, { seed, stratifyBy }).rows.map((r) => r.patientId));
        for (const group of [['10000003', '10000004', '10000005']]) {
          const inTrain = group.filter((p) => split.rows.some((r) => r.patientId === p && r.split === 'train'));
          expect(inTrain.filter((p) => kept.has(p)).length === 0 || inTrain.every((p) => kept.has(p))).toBe(true);
        }
      }
    }
    expect(leakySeedsWithoutGroups).toBeGreaterThan(0);
    expect(splitByPatient(manifest, { train: 0.5, val: 0.25, test: 0.25, seed: 3 }).duplicates).toBe(manifest.duplicates);
  });

  it('reads only files whose size collides with another patient’s file', async () => {
    const manifest = await loadManifest(fx.manifestPath, { duplicates: 'off' });
    const { stats } = await scan(manifest, false);
    const candidates = sizeCollisions(fx);
    const existing = new Set(fx.rows.map((r) => join(fx.dir, r.image)).filter((p) => existsSync(p)));
    // the planted copies and the same-size pair; patient 6's private copy and every unique size stay unread
    expect(candidates.size).toBe(9);
    expect(existing.size).toBeGreaterThan(candidates.size + 40);
    expect(stats).toEqual({
      files: existing.size + 1,
      skipped: 1,
      sizeCollisions: candidates.size,
      headReads: 0,
      fullReads: candidates.size,
      cacheHits: 0,
    });
    // the cache holds exactly the files read
    await findDuplicateImages(manifest);
    const cache = JSON.parse(readFileSync(defaultHashCachePath(fx.manifestPath), 'utf8')) as { files: Record<string, { sha256: string }> };
    expect(new Set(Object.keys(cache.files))).toEqual(candidates);
    for (const [path, entry] of Object.entries(cache.files)) expect(entry.sha256).toBe(sha(path));
  });

  it('reuses the hash cache on a second load and reads a file again when its mtime or size changes', async () => {
    const cachePath = defaultHashCachePath(fx.manifestPath);
    expect(cachePath).toBe(join(fx.dir, '.mimic-cxr-jpg.csv.hashes.json'));
    await loadManifest(fx.manifestPath, { onWarning: () => undefined });
    expect(existsSync(cachePath)).toBe(true);
    const manifest = await loadManifest(fx.manifestPath, { duplicates: 'off' });
    const again = await scan(manifest);
    expect(again.stats.fullReads).toBe(0);
    expect(again.stats.cacheHits).toBe(9);
    const cacheBefore = readFileSync(cachePath, 'utf8');

    // patient 10's different same-size file becomes a copy of patient 9's: same size, new mtime
    const nine = join(fx.dir, fx.rows.find((r) => r.patient === '10000009')!.image);
    const ten = join(fx.dir, imagePath(10000010, 9, 1));
    writeFileSync(ten, readFileSync(nine));
    const later = new Date(Date.now() + 60_000);
    utimesSync(ten, later, later);
    const changed = await scan(manifest);
    expect(changed.stats.fullReads).toBe(1);
    expect(changed.groups).toContainEqual(['10000009', '10000010']);
    expect(readFileSync(cachePath, 'utf8')).not.toBe(cacheBefore);

    // patient 2's copy grows by a byte: its size no longer collides, and the pair is gone
    const copy = join(fx.dir, imagePath(10000002, 7, 1));
    writeFileSync(copy, Buffer.concat([readFileSync(copy), Buffer.from([0])]));
    const grown = await scan(manifest);
    expect(grown.stats.fullReads).toBe(0);
    expect(grown.stats.sizeCollisions).toBe(7);
    expect(grown.groups).not.toContainEqual(['10000001', '10000002']);
    const cache = JSON.parse(readFileSync(cachePath, 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(cache.files)).not.toContain(copy);
  });

  it('ignores and rewrites a corrupt cache file', async () => {
    const cachePath = defaultHashCachePath(fx.manifestPath);
    const manifest = await loadManifest(fx.manifestPath, { duplicates: 'off' });
    for (const junk of ['{"format":"radlearn-image-hashes","version":1,"headBytes":65536,"files":{', '[]', '{"files":7}', '\u0000\u0001']) {
      writeFileSync(cachePath, junk);
      const { stats, groups } = await scan(manifest);
      expect(stats.fullReads).toBe(9);
      expect(groups).toEqual(expectedGroups(fx).map((g) => g.patients));
      const cache = JSON.parse(readFileSync(cachePath, 'utf8')) as { format: string; files: Record<string, unknown> };
      expect(cache.format).toBe('radlearn-image-hashes');
      expect(Object.keys(cache.files)).toHaveLength(9);
    }
    // an entry whose hash is not a SHA-256 is read again, not trusted
    const cache = JSON.parse(readFileSync(cachePath, 'utf8')) as { files: Record<string, { sha256: string }> };
    const [first] = Object.keys(cache.files).sort();
    cache.files[first!]!.sha256 = 'not-a-hash';
    writeFileSync(cachePath, JSON.stringify(cache));
    expect((await scan(manifest)).stats.fullReads).toBe(1);
  });

  it('warns, and still finds every group, when the cache cannot be written', async () => {
    const blocker = join(fx.dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const warnings: string[] = [];
    const manifest = await loadManifest(fx.manifestPath, { hashCache: join(blocker, 'hashes.json'), onWarning: (w) => warnings.push(w) });
    expect(manifest.duplicates?.groups.map((g) => g.patients)).toEqual(expectedGroups(fx).map((g) => g.patients));
    expect(warnings[0]).toMatch(/could not write the image hash cache .*not-a-folder\/hashes\.json \(E[A-Z]+\)/);
    expect(warnings).toHaveLength(2);
  });

  it("with duplicates: 'off' checks nothing and writes no cache; a manifest without cross-patient copies gets empty groups", async () => {
    const manifest = await loadManifest(fx.manifestPath, { duplicates: 'off' });
    expect(manifest.duplicates).toBeUndefined();
    expect(existsSync(defaultHashCachePath(fx.manifestPath))).toBe(false);
    const clean = join(fx.dir, 'clean.csv');
    writeFileSync(clean, formatCsv([['path', 'subject_id'], ...fx.rows.slice(0, 10).map((r) => [r.image, r.patient])]));
    const warnings: string[] = [];
    const loaded = await loadManifest(clean, { onWarning: (w) => warnings.push(w) });
    expect(loaded.duplicates).toEqual({ groups: [], imagesMerged: 0, patientsMerged: 0 });
    expect(warnings).toEqual([]);
    // nothing was read, so nothing is cached
    expect(existsSync(defaultHashCachePath(clean))).toBe(false);
  });

  it('leaves in-memory manifests alone until asked; findDuplicateImages fills them without a cache', async () => {
    const records = fx.rows.map((r) => ({ path: join(fx.dir, r.image), subject_id: r.patient }));
    const manifest = buildManifest(['path', 'subject_id'], records);
    expect(manifest.duplicates).toBeUndefined();
    const duplicates = await findDuplicateImages(manifest);
    expect(duplicates.groups).toEqual(expectedGroups(fx));
    expect((await findDuplicateImages(manifest, { concurrency: 1 })).groups).toEqual(duplicates.groups);
    await expect(findDuplicateImages(manifest, { concurrency: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/concurrency must be a positive integer, got 0/),
    });
    const split = splitByPatient({ ...manifest, duplicates }, { train: 1, val: 1, test: 1, seed: 0 });
    expect(new Set(split.rows.filter((r) => ['10000003', '10000005'].includes(r.patientId)).map((r) => r.split)).size).toBe(1);
  });
});

describe('duplicate images across given splits', () => {
  it('moves each group that spans splits into its most held-out split, naming the images', async () => {
    const given: Record<string, Split> = {
      '10000001': 'train',
      '10000002': 'test',
      '10000003': 'train',
      '10000004': 'val',
      '10000005': 'train',
    };
    const split = makeFixture((p) => given[p] ?? (Number(p) % 2 === 0 ? 'train' : 'val'));
    const warnings: string[] = [];
    const manifest = await loadManifest(split.manifestPath, { onWarning: (w) => warnings.push(w) });
    const byPatient = (p: string): Split[] => [...new Set(manifest.rows.filter((r) => r.patientId === p).map((r) => r.split!))];
    expect(byPatient('10000001')).toEqual(['test']);
    expect(byPatient('10000002')).toEqual(['test']);
    for (const p of ['10000003', '10000004', '10000005']) expect(byPatient(p)).toEqual(['val']);
    // 7 (val) and 8 (train) share a path: both go to val
    expect(byPatient('10000007')).toEqual(['val']);
    expect(byPatient('10000008')).toEqual(['val']);
    // everyone else as given
    for (const r of manifest.rows) {
      if (!['10000001', '10000002', '10000003', '10000004', '10000005', '10000007', '10000008'].includes(r.patientId)) {
        expect(r.split).toBe(split.rows[r.row - 1]!.split);
      }
    }
    const movedRows = manifest.rows.filter((r) => r.split !== split.rows[r.row - 1]!.split).length;
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain(`moved ${movedRows} rows so that each duplicate group lies in its most held-out split`);
    expect(warnings[1]).toContain('patients 10000001, 10000002 from train to test (images files/p10/p10000001/');
    expect(warnings[1]).toContain('patients 10000003, 10000004, 10000005 from train to val');
    expect(warnings[1]).toContain(imagePath(10000004, 7, 1));
    // and a new split of the same manifest keeps the groups together too
    const resplit = splitByPatient(manifest, { train: 0.5, val: 0.25, test: 0.25, seed: 11 });
    expect(new Set(resplit.rows.filter((r) => ['10000003', '10000005'].includes(r.patientId)).map((r) => r.split)).size).toBe(1);
  });

  it('hashes the first 64 KiB of large files first and reads whole only files whose heads also match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-dups-large-'));
    const head = randomBytes(HEAD_BYTES);
    const size = HEAD_BYTES + 5000;
    const files: Record<string, Buffer> = {
      'a.dcm': Buffer.concat([head, randomBytes(5000)]),
      'b.dcm': Buffer.concat([head, randomBytes(5000)]), // same head and size as a, different tail
      'c.dcm': randomBytes(size), // same size, different head
      'd.dcm': randomBytes(size + 1), // unique size
    };
    files['e.dcm'] = files['a.dcm']!; // identical to a
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const manifest = buildManifest(
      ['path', 'patient_id'],
      ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({ path: `${n}.dcm`, patient_id: `P${i}` })),
      { baseDir: dir },
    );
    const { stats, groups } = await scan(manifest, join(dir, 'hashes.json'));
    expect(stats).toMatchObject({ sizeCollisions: 4, headReads: 4, fullReads: 3 });
    expect(groups).toEqual([['P0', 'P4']]);
    expect((await scan(manifest, join(dir, 'hashes.json'))).stats).toMatchObject({ headReads: 0, fullReads: 0, cacheHits: 7 });
  });
});
