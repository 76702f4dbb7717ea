import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDicom } from '../../../src/data/dicom/read.js';
import { labelReport } from '../../../src/data/labeler/label.js';
import { loadManifest } from '../../../src/data/manifest/load.js';
import {
  generatePhantom,
  PHANTOM_GRADE_COLUMN,
  PHANTOM_LABEL_COLUMNS,
  phantomLabels,
  type PhantomSummary,
} from '../../../src/data/phantom/generate.js';
import { generateReport, PHANTOM_OBSERVATIONS } from '../../../src/data/phantom/report.js';
import { sampleStudies } from '../../../src/data/phantom/truth.js';

describe('phantom reports', () => {
  const seed = 21;
  const studies = sampleStudies(seed, 800);
  const reports = studies.map((s) => generateReport(s, seed));

  it('labelReport agrees with the image truth: F1 >= 0.95 for every observation the phantom generates', () => {
    for (const observation of [...PHANTOM_OBSERVATIONS, 'No Finding'] as const) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      studies.forEach((study, i) => {
        const predicted = labelReport((reports[i] as { text: string }).text)[observation];
        const positive = predicted === 1 || predicted === -1; // uncertain counts as positive (U-Ones)
        const truth = phantomLabels(study)[observation] === 1;
        if (positive && truth) tp++;
        else if (positive) fp++;
        else if (truth) fn++;
      });
      const f1 = (2 * tp) / (2 * tp + fp + fn);
      expect(tp, observation).toBeGreaterThan(20);
      expect(f1, `${observation}: tp ${tp} fp ${fp} fn ${fn}`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('labelReport recovers exactly what each report states', () => {
    let agree = 0;
    let total = 0;
    reports.forEach((report) => {
      const labels = labelReport(report.text);
      for (const [observation, stated] of Object.entries(report.stated)) {
        total++;
        if (labels[observation as keyof typeof labels] === stated) agree++;
      }
    });
    expect(agree / total).toBeGreaterThanOrEqual(0.99);
  });

  it('writes FINDINGS/IMPRESSION with negations, hedges and omissions, and never the prognostic label', () => {
    const text = reports.map((r) => r.text).join('\n');
    expect(reports.every((r) => /FINDINGS:/i.test(r.text) && /IMPRESSION:/i.test(r.text))).toBe(true);
    // site B's habits: title-case headings, "Negative for", PTX
    expect(text).toContain('Impression:');
    expect(text).toMatch(/Negative for [a-z ,]+\./);
    expect(text).toMatch(/ PTX\./);
    expect(text).toMatch(/No [a-z ,]*pneumothorax/);
    expect(text).toMatch(/Possible small (left|right) pleural effusion/);
    expect(reports.some((r) => Object.values(r.stated).includes(-1))).toBe(true);
    expect(reports.some((r) => r.stated['Pleural Effusion'] === null)).toBe(true); // negatives left unsaid
    expect(text).not.toMatch(/frail|outcome|osteopen|readmission/i);
    expect(new Set(reports.map((r) => r.text)).size).toBeGreaterThan(780);
  });
});

describe('generatePhantom', () => {
  let dirA: string;
  let dirB: string;
  let summary: PhantomSummary;
  beforeAll(async () => {
    dirA = await mkdtemp(join(tmpdir(), 'radlearn-phantom-a-'));
    dirB = await mkdtemp(join(tmpdir(), 'radlearn-phantom-b-'));
    summary = await generatePhantom({ out: dirA, n: 40, seed: 3, size: 64 });
    await generatePhantom({ out: dirB, n: 40, seed: 3, size: 64 });
  });

  it('writes a manifest with labels, patient ids and patient-level splits', async () => {
    expect(summary.studies).toBe(40);
    expect(summary.patients).toBeLessThan(40); // several studies per patient
    const manifest = await loadManifest(summary.manifestPath);
    expect(manifest.rows).toHaveLength(40);
    expect(manifest.labelColumns.map((l) => l.name)).toEqual([...PHANTOM_LABEL_COLUMNS, PHANTOM_GRADE_COLUMN]);
    expect(manifest.labelColumns.filter((l) => l.kind === 'binary').map((l) => l.name)).toEqual([...PHANTOM_LABEL_COLUMNS]);
    // the grade is an integer class column (0-4); binary training ignores it unless named
    expect(manifest.labelColumns.at(-1)?.kind).toBe('multiclass');
    expect(manifest.rows.every((r) => r.fields.site === 'A' || r.fields.site === 'B')).toBe(true);
    expect(Object.values(summary.sites).reduce((a, b) => a + b, 0)).toBe(40);
    expect(summary.grades.reduce((a, b) => a + b, 0)).toBe(40);
    const splitOf = new Map<string, string>();
    for (const row of manifest.rows) {
      expect(row.split).toBeDefined();
      if (splitOf.has(row.patientId)) expect(row.split).toBe(splitOf.get(row.patientId));
      splitOf.set(row.patientId, row.split as string);
      expect(row.reportText).toMatch(/IMPRESSION:/i);
      expect(row.imagePaths[0]?.startsWith(dirA)).toBe(true);
    }
    const truth = (await readFile(summary.groundTruthPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { study_id: string; patient: { frailty: number } });
    expect(truth.map((t) => t.study_id)).toEqual(manifest.rows.map((r) => r.studyId));
    expect(truth.every((t) => t.patient.frailty >= 0 && t.patient.frailty <= 1)).toBe(true);
  });

  it('writes 10- or 12-bit DICOM (by site) with MONOCHROME1/2, window tags and shutters', async () => {
    const manifest = await loadManifest(summary.manifestPath);
    const truth = (await readFile(summary.groundTruthPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { acquisition: { bitsStored: number; collimation: number[] } });
    const photometrics = new Set<string>();
    const depths = new Set<number>();
    for (const [i, row] of manifest.rows.entries()) {
      const image = await readDicom(row.imagePaths[0] as string);
      const { bitsStored, collimation } = truth[i]!.acquisition;
      const top = 2 ** bitsStored - 1;
      expect(image.rows).toBe(64);
      expect(image.bitsAllocated).toBe(16);
      expect(image.bitsStored).toBe(bitsStored);
      expect(bitsStored).toBe(row.fields.site === 'A' ? 12 : 10);
      depths.add(bitsStored);
      expect(image.modality).toBe('DX');
      expect(image.viewPosition).toBe(row.view);
      expect(image.patientId).toBe(row.patientId);
      expect(image.windowCenter?.length).toBe(1);
      expect(image.windowWidth?.[0]).toBeGreaterThan(top / 4);
      photometrics.add(image.photometricInterpretation);
      const stored = image.storedPixels();
      let max = 0;
      let min = top;
      for (const v of stored) {
        max = Math.max(max, v);
        min = Math.min(min, v);
      }
      expect(max).toBeLessThanOrEqual(top);
      expect(max - min).toBeGreaterThan(top * 0.35);
      // Beside the neck: air (dark in MONOCHROME2, inverted in MONOCHROME1), or an unexposed shutter (the opposite).
      const corner = (stored[64 * 1 + 1] as number) / top;
      const dark = image.photometricInterpretation === 'MONOCHROME2' ? corner < 0.25 : corner > 0.75;
      const shuttered = collimation[0]! * 64 >= 2 || collimation[2]! * 64 >= 2;
      if (collimation[0] === 0 && collimation[2] === 0) expect(dark).toBe(true);
      else if (shuttered) expect(dark).toBe(false);
    }
    expect(photometrics).toEqual(new Set(['MONOCHROME1', 'MONOCHROME2']));
    expect(depths).toEqual(new Set([10, 12]));
  });

  it('is deterministic per seed', async () => {
    expect(await readFile(join(dirB, 'manifest.csv'), 'utf8')).toBe(await readFile(join(dirA, 'manifest.csv'), 'utf8'));
    const file = 'images/P00000/P00000-S1.dcm';
    expect(Buffer.compare(await readFile(join(dirA, file)), await readFile(join(dirB, file)))).toBe(0);
  });

  it('rejects bad options', async () => {
    await expect(generatePhantom({ out: dirA, n: 0 })).rejects.toThrow(/n must be a positive integer/);
    await expect(generatePhantom({ out: dirA, n: 1, size: 8 })).rejects.toThrow(/size must be an integer in \[32, 4096\]/);
  });
});
