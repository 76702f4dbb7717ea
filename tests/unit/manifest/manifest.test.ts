import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, loadManifest } from '../../../src/data/manifest/load.js';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';
import { labelFraction, splitByPatient } from '../../../src/data/manifest/split.js';
import { type Manifest } from '../../../src/data/manifest/types.js';
import { Rng } from '../../../src/random/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-'));
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('CSV', () => {
  it('parses quoted fields with commas, quotes, newlines, CRLF and a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"line one\nline two",\r\n\r\n';
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'line one\nline two', ''],
    ]);
  });

  it('round-trips through formatCsv', () => {
    const rows = [
      ['id', 'report'],
      ['1', 'FINDINGS: a, b.\nIMPRESSION: "c"'],
      ['2', ' padded '],
    ];
    expect(parseCsv(formatCsv(rows))).toEqual(rows);
  });

  it('names the line of an unclosed quote or a stray quote', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3', 'm.csv')).toThrow(/m\.csv: quoted field opened on line 2 is never closed/);
    expect(() => parseCsv('a,b\n1,x"y', 'm.csv')).toThrow(/m\.csv line 2: a quote inside an unquoted field/);
  });
});

describe('loadManifest', () => {
  it('reads a CSV with roles found by name, multi-image rows and inferred label kinds', async () => {
    const path = await write(
      'ok.csv',
      [
        'image_path,report,patient_id,study_id,view,Cardiomegaly,KL grade,site,split',
        'a.dcm;b.dcm,"FINDINGS: Big heart.",p1,s1,PA,1,3,north,train',
        '/abs/c.dcm,"No acute process.",p2,s2,AP,-1,0,south,Validation',
        'd.dcm,,p2,s3,,,4,south,',
      ].join('\n'),
    );
    const m = await loadManifest(path);
    expect(m.rows).toHaveLength(3);
    expect(m.rows[0]?.imagePaths).toEqual([join(dir, 'a.dcm'), join(dir, 'b.dcm')]);
    expect(m.rows[1]?.imagePaths).toEqual(['/abs/c.dcm']);
    expect(m.rows[0]?.reportText).toBe('FINDINGS: Big heart.');
    expect(m.rows[2]?.reportText).toBeUndefined();
    expect(m.rows.map((r) => r.split)).toEqual(['train', 'val', undefined]);
    expect(m.rows[2]?.view).toBeUndefined();
    expect(m.labelColumns).toEqual([
      { name: 'Cardiomegaly', kind: 'binary', values: [-1, 1] },
      { name: 'KL grade', kind: 'multiclass', values: [0, 3, 4] },
    ]);
    expect(m.rows[2]?.labels).toEqual({ Cardiomegaly: null, 'KL grade': 4 });
    expect(m.rows[0]?.fields.site).toBe('north');
  });

  it('reads JSONL with arrays, numbers and explicit label kinds', async () => {
    const path = await write(
      'ok.jsonl',
      [
        JSON.stringify({ images: ['x.png', 'y.png'], text: 'IMPRESSION: Normal.', subject_id: 7, study: 'A', grade: 2, split: 'test' }),
        '',
        JSON.stringify({ images: 'z.png', text: 'Effusion.', subject_id: 8, study: 'B', grade: 0, split: 'train' }),
      ].join('\n'),
    );
    const m = await loadManifest(path, { labelKinds: { grade: 'ordinal' } });
    expect(m.rows.map((r) => r.patientId)).toEqual(['7', '8']);
    expect(m.rows[0]?.imagePaths).toHaveLength(2);
    expect(m.labelColumns).toEqual([{ name: 'grade', kind: 'ordinal', values: [0, 2] }]);
  });

  it('uses explicit column names and label columns', async () => {
    const path = await write('named.csv', 'file,who,txt,y,notes\na.png,p1,hello,1,7\n');
    const m = await loadManifest(path, { columns: { image: 'file', patientId: 'who', report: 'txt' }, labelColumns: ['y'] });
    expect(m.rows[0]?.reportText).toBe('hello');
    expect(m.labelColumns.map((l) => l.name)).toEqual(['y']);
    expect(m.rows[0]?.studyId).toBe('row1');
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      'label.csv',
      'image,patient_id,Edema\n' + 'a.png,p1,1\n'.repeat(9) + 'b.png,p2,yes\n',
      /label\.csv row 10, column Edema: label "yes" is not a number/,
    ],
    [
      'binary.csv',
      'image,patient_id,Edema\na.png,p1,1\nb.png,p2,0.5\n',
      /binary\.csv row 2, column Edema: multiclass label 0\.5 is not an integer class/,
    ],
    ['patient.csv', 'image,patient_id\na.png,p1\nb.png,\n', /patient\.csv row 2, column patient_id: empty patient id/],
    ['image.csv', 'image,patient_id\na.png,p1\n,p2\n', /image\.csv row 2, column image: empty image path/],
    [
      'split.csv',
      'image,patient_id,split\na.png,p1,holdout\n',
      /split\.csv row 1, column split: split "holdout" is not one of train, val, test/,
    ],
    ['fields.csv', 'image,patient_id\na.png,p1,extra\n', /fields\.csv row 1: 3 fields, but the header has 2/],
    [
      'twopatients.csv',
      'image,patient_id,study_id\na.png,p1,s1\nb.png,p2,s1\n',
      /row 2, column patient_id: study s1 belongs to patient p1 in row 1, here to p2/,
    ],
    ['noimage.csv', 'patient_id,report\np1,x\n', /no image column/],
    ['nopatient.csv', 'image,report\na.png,x\n', /no patient id column/],
    ['duplicate.csv', 'image,patient_id,image\na,b,c\n', /column "image" appears twice/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name} naming the row and column`, async () => {
      const path = await write(name, text);
      await expect(loadManifest(path)).rejects.toMatchObject({ code: 'ERR_MANIFEST', message: expect.stringMatching(message) });
    });
  }

  it('names the line of bad JSONL and reports a missing file with its path', async () => {
    const path = await write('bad.jsonl', '{"image":"a","patient_id":"p"}\n{oops\n');
    await expect(loadManifest(path)).rejects.toThrow(/bad\.jsonl line 2: not valid JSON/);
    await expect(loadManifest(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ERR_MISSING_FILE' });
  });
});

/** A random manifest: patients with 1..5 studies, a rare and a common binary label. */
function randomManifest(patients: number, seed: number): Manifest {
  const rng = new Rng(seed, 'manifest-test');
  const records: Record<string, unknown>[] = [];
  for (let p = 0; p < patients; p++) {
    const studies = rng.intBetween(1, 5);
    const rare = rng.chance(0.08);
    for (let s = 0; s < studies; s++) {
      records.push({
        image: `p${p}/s${s}.dcm`,
        patient_id: `p${p}`,
        study_id: `p${p}-s${s}`,
        rare: rare ? 1 : 0,
        common: rng.chance(0.4) ? 1 : 0,
      });
    }
  }
  return buildManifest(['image', 'patient_id', 'study_id', 'rare', 'common'], records, { baseDir: '/data' });
}

describe('splitByPatient', () => {
  const manifest = randomManifest(997, 5);

  it('never puts one patient in two splits and hits the proportions', () => {
    const out = splitByPatient(manifest, { train: 0.7, val: 0.1, test: 0.2, seed: 3 });
    const seen = new Map<string, string>();
    for (const row of out.rows) {
      expect(row.split).toBeDefined();
      const prior = seen.get(row.patientId);
      if (prior) expect(row.split).toBe(prior);
      seen.set(row.patientId, row.split as string);
    }
    const counts = { train: 0, val: 0, test: 0 };
    for (const split of seen.values()) counts[split as 'train']++;
    expect(counts.train + counts.val + counts.test).toBe(997);
    expect(Math.abs(counts.train - 698)).toBeLessThanOrEqual(1);
    expect(Math.abs(counts.val - 100)).toBeLessThanOrEqual(1);
    expect(Math.abs(counts.test - 199)).toBeLessThanOrEqual(1);
    expect(manifest.rows[0]?.split).toBeUndefined(); // input untouched
  });

  it('keeps a rare label present in every split when stratified', () => {
    const out = splitByPatient(manifest, { train: 0.8, val: 0.1, test: 0.1, seed: 1, stratifyBy: 'rare' });
    const rarePatients = (split: string): number =>
      new Set(out.rows.filter((r) => r.split === split && r.labels.rare === 1).map((r) => r.patientId)).size;
    const total = rarePatients('train') + rarePatients('val') + rarePatients('test');
    expect(rarePatients('val')).toBeGreaterThanOrEqual(Math.floor(total * 0.1));
    expect(rarePatients('test')).toBeGreaterThanOrEqual(Math.floor(total * 0.1));
  });

  it('is deterministic per seed, independent of row order, and changes with the seed', () => {
    const a = splitByPatient(manifest, { train: 0.7, val: 0.15, test: 0.15, seed: 9 });
    const shuffled = { ...manifest, rows: new Rng(1).shuffled(manifest.rows) };
    const b = splitByPatient(shuffled, { train: 0.7, val: 0.15, test: 0.15, seed: 9 });
    const byPatient = (m: Manifest): Map<string, string | undefined> => new Map(m.rows.map((r) => [r.patientId, r.split]));
    expect(byPatient(b)).toEqual(byPatient(a));
    const c = splitByPatient(manifest, { train: 0.7, val: 0.15, test: 0.15, seed: 10 });
    expect(byPatient(c)).not.toEqual(byPatient(a));
  });

  it('rejects bad fractions and unknown stratification columns', () => {
    expect(() => splitByPatient(manifest, { train: -1, val: 0, test: 0, seed: 1 })).toThrow(/non-negative with a positive sum/);
    expect(() => splitByPatient(manifest, { train: 1, val: 0, test: 0, seed: 1, stratifyBy: 'nope' })).toThrow(/stratifyBy column "nope"/);
  });
});

describe('labelFraction', () => {
  const split = splitByPatient(randomManifest(800, 8), { train: 0.8, val: 0.1, test: 0.1, seed: 2 });
  const trainPatients = (m: Manifest): Set<string> => new Set(m.rows.filter((r) => r.split === 'train').map((r) => r.patientId));

  it('keeps the requested share of training patients, nested across fractions, and all val/test rows', () => {
    const all = trainPatients(split);
    const p1 = labelFraction(split, 0.01, { seed: 4, stratifyBy: 'rare' });
    const p10 = labelFraction(split, 0.1, { seed: 4, stratifyBy: 'rare' });
    const p100 = labelFraction(split, 1, { seed: 4, stratifyBy: 'rare' });
    expect(trainPatients(p100)).toEqual(all);
    expect(Math.abs(trainPatients(p10).size - all.size * 0.1)).toBeLessThanOrEqual(2);
    for (const p of trainPatients(p1)) expect(trainPatients(p10).has(p)).toBe(true);
    for (const p of trainPatients(p10)) expect(all.has(p)).toBe(true);
    const nonTrain = (m: Manifest): number => m.rows.filter((r) => r.split !== 'train').length;
    expect(nonTrain(p1)).toBe(nonTrain(split));
    // at least one rare-positive patient survives even at 1%
    expect(p1.rows.some((r) => r.split === 'train' && r.labels.rare === 1)).toBe(true);
  });

  it('treats a manifest without splits as all training and validates the fraction', () => {
    const m = randomManifest(200, 3);
    expect(new Set(labelFraction(m, 0.5, { seed: 1 }).rows.map((r) => r.patientId)).size).toBe(100);
    expect(() => labelFraction(m, 0, { seed: 1 })).toThrow(/fraction must be in \(0, 1\]/);
    expect(() => labelFraction(m, 1.5, { seed: 1 })).toThrow(/fraction must be in \(0, 1\]/);
  });
});

describe('writeManifestCsv and readReportText', () => {
  it('saves splits and reloads to the same rows, with portable relative paths', async () => {
    const { writeManifestCsv } = await import('../../../src/index.js');
    const path = await write(
      'save-src.csv',
      'image_path,report,patient_id,study_id,Edema\nimgs/a.dcm,"FINDINGS: x, y.",p1,s1,1\nimgs/b.dcm;imgs/c.dcm,No edema.,p2,s2,0\n',
    );
    const split = splitByPatient(await loadManifest(path), { train: 1, val: 1, test: 0, seed: 1 });
    const out = join(dir, 'saved.csv');
    await writeManifestCsv(split, out);
    const text = await (await import('node:fs/promises')).readFile(out, 'utf8');
    expect(text.split('\n')[0]).toBe('image_path,report,patient_id,study_id,Edema,split');
    expect(text).toContain('imgs/b.dcm;imgs/c.dcm');
    const again = await loadManifest(out);
    expect(again.rows.map((r) => [r.imagePaths, r.reportText, r.patientId, r.split, r.labels.Edema])).toEqual(
      split.rows.map((r) => [r.imagePaths, r.reportText, r.patientId, r.split, r.labels.Edema]),
    );
  });

  it('reads a report from its text column or its file, and names a missing file', async () => {
    const { readReportText } = await import('../../../src/index.js');
    await write('r1.txt', 'IMPRESSION: Small left effusion.');
    const path = await write('paths.csv', 'image,patient_id,report_path\na.png,p1,r1.txt\nb.png,p2,missing.txt\n');
    const m = await loadManifest(path);
    expect(await readReportText(m.rows[0]!)).toBe('IMPRESSION: Small left effusion.');
    await expect(readReportText(m.rows[1]!)).rejects.toMatchObject({
      code: 'ERR_MISSING_FILE',
      message: expect.stringMatching(/report for row 2/),
    });
  });
});
