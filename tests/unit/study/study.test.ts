import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellFingerprint, cellPath, readCell, remainingSeconds, studyCells } from '../../../src/train/study/cells.js';
import { parseStudyConfig, StudyConfigError } from '../../../src/train/study/config.js';
import { runStudy, type StudyEvent } from '../../../src/train/study/run.js';
import { parseCsv } from '../../../src/data/manifest/csv.js';

describe('study config and cells', () => {
  it('enumerates pre-training x downstream x fraction x seed cells with stable ids', () => {
    const c = parseStudyConfig({
      seeds: 2,
      fractions: [0.01, 1],
      pretraining: ['none', 'image-only'],
      downstream: ['linear-probe', 'report-distill', 'mlp-head-frozen'],
    });
    const cells = studyCells(c);
    expect(cells.length).toBe(2 * 2 * 3 * 2);
    expect(new Set(cells.map((x) => x.id)).size).toBe(cells.length);
    expect(cells[0]!.id).toBe('none__linear-probe__f0.01__s0');
  });

  it('applies presets, lets explicit keys win, and names bad keys', () => {
    const q = parseStudyConfig({ seeds: 2 }, 'quick');
    expect(q.seeds).toBe(2);
    expect(q.data.phantom.n).toBeGreaterThan(0);
    expect(() => parseStudyConfig({ pretraining: ['clip'] })).toThrow(/pretraining\.0/);
    expect(() => parseStudyConfig({ vit: { patchSize: 10 }, imageSize: 64 })).toThrow(StudyConfigError);
    expect(() => parseStudyConfig({ typo: 1 })).toThrow(/typo|root/);
  });

  it('estimates the remaining time from the finished cells', () => {
    expect(remainingSeconds([], 5)).toBeUndefined();
    expect(remainingSeconds([2, 4], 5)).toBeCloseTo(15);
  });
});

describe('runStudy on a tiny phantom', () => {
  it('saves every cell, skips finished cells on rerun, redoes a missing one, writes the table and report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'radlearn-study-'));
    const config = parseStudyConfig({
      out,
      data: { phantom: { n: 80, size: 32, seed: 4 } },
      imageSize: 32,
      vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
      seeds: 1,
      pretraining: ['none', 'report-contrastive', 'image-only'],
      downstream: ['linear-probe', 'full-finetune', 'report-distill'],
      fractions: [0.25, 1],
      steps: { dino: 3, contrastive: 4, clipFinetune: 3, downstream: 4, finetune: 3, teacher: 4 },
      batchSize: { dino: 8, contrastive: 16, clipFinetune: 8, downstream: 16, finetune: 8 },
      dino: { head: { hidden: 16, bottleneck: 8, prototypes: 32 }, crops: { localCount: 1 } },
    });
    const cells = studyCells(config);
    const events: StudyEvent[] = [];
    const first = await runStudy(config, { onEvent: (e) => events.push(e) });
    expect(first.complete).toBe(true);
    expect(first.cells.length).toBe(cells.length);
    for (const c of cells) expect(existsSync(cellPath(out, c))).toBe(true);
    const done = events.filter((e) => e.type === 'cell');
    expect(done.every((e) => e.type === 'cell' && !e.skipped)).toBe(true);
    expect(done.slice(0, -1).every((e) => e.type === 'cell' && e.remainingSeconds !== undefined && e.remainingSeconds > 0)).toBe(true);
    // Each label's test-split classes, read from the manifest: a DeLong interval needs 2 positives
    // and 2 negatives, an AUROC one of each. Only those labels may have NaN bounds, and they must.
    // External validation (the phantom's default): site A's test rows are the in-site test split,
    // every site B row is an external test case.
    const [header, ...rows] = parseCsv(readFileSync(join(out, 'phantom-v2-n80-s32-seed4', 'manifest.external-site-A.csv'), 'utf8'));
    const column = (name: string): number => header!.indexOf(name);
    expect(rows.filter((row) => row[column('site')] === 'B').every((row) => row[column('split')] === 'test')).toBe(true);
    expect(rows.every((row) => row[column('meta.study_site')] === (row[column('site')] === 'A' ? 'in-site' : 'B'))).toBe(true);
    const test = rows.filter((row) => row[column('split')] === 'test' && row[column('site')] === 'A');
    const classes = (label: string): { positives: number; negatives: number } => {
      const values = test.map((row) => row[header!.indexOf(label)]);
      return { positives: values.filter((v) => v === '1').length, negatives: values.filter((v) => v === '0').length };
    };
    let intervals = 0;
    for (const r of first.cells) {
      expect(r.perLabel.map((l) => l.label)).toContain('adverse_outcome');
      for (const l of r.perLabel) {
        const { positives, negatives } = classes(l.label);
        expect(positives + negatives, l.label).toBe(test.length);
        if (Math.min(positives, negatives) < 2) {
          expect(l.ci[0], `${r.id} ${l.label}`).toBeNaN();
          expect(l.ci[1], `${r.id} ${l.label}`).toBeNaN();
          expect(Number.isNaN(l.auroc), `${r.id} ${l.label}`).toBe(Math.min(positives, negatives) === 0);
        } else {
          intervals++;
          expect(l.ci[0], `${r.id} ${l.label}`).toBeLessThanOrEqual(l.auroc);
          expect(l.auroc, `${r.id} ${l.label}`).toBeLessThanOrEqual(l.ci[1]);
        }
      }
    }
    expect(intervals).toBeGreaterThan(0);
    const siteB = rows.filter((row) => row[column('site')] === 'B');
    for (const r of first.cells) {
      expect(r.external?.map((e) => e.site)).toEqual(['B']);
      const onB = r.external![0]!.perLabel;
      expect(onB.map((l) => l.label)).toEqual(r.perLabel.map((l) => l.label));
      for (const l of onB) {
        const positives = siteB.filter((row) => row[column(l.label)] === '1').length;
        expect(Number.isNaN(l.auroc), `${r.id} ${l.label} on B`).toBe(positives === 0 || positives === siteB.length);
      }
    }
    expect(first.table).toMatch(/\| image-only \| report-distill \| 100% \| 1 \|/);
    expect(first.table).toContain('external B: mentioned macro AUROC');
    expect(first.table).toContain('external B: adverse_outcome AUROC [CI]');
    // the frozen encoders' kNN and grade probe, in-site and on site B, each arm against random init
    const checks = first.encoderChecks!;
    expect(checks.map((c) => c.pretraining)).toEqual(['none', 'report-contrastive', 'image-only']);
    for (const c of checks) {
      expect(c.groups.map((g) => g.group)).toEqual(['in-site', 'B']);
      expect(c.groups[0]!.cases).toBe(test.length);
      expect(c.groups[1]!.cases).toBe(siteB.length);
      for (const g of c.groups) {
        expect(g.knnMacroAuroc.ci[0]).toBeLessThanOrEqual(g.knnMacroAuroc.ci[1]);
        expect(g.grade?.accuracy.estimate).toBeGreaterThanOrEqual(0);
        expect(g.knnVsNone === undefined).toBe(c.pretraining === 'none');
      }
    }
    const report = readFileSync(first.reportPath!, 'utf8');
    expect(report).toContain('## Study table');
    expect(report).toContain('adverse_outcome AUROC');
    expect(report).toContain('## Frozen encoders: kNN and grade probe');
    expect(report).toContain('cardiomegaly_grade quadratic-weighted kappa');
    expect(report).toMatch(/External validation by site/);
    // the DINO run's summary reaches the report: trained, or on its log K plateau
    expect(report).toMatch(/Pre-training image-only, seed 0: (the DINO loss ended at|the DINO loss \(mean)/);
    // the pre-training runs' loss curves: contrastive heads, clip-finetune, DINO, iBOT and the log K line
    const curves = readFileSync(join(out, 'loss-curves.svg'), 'utf8');
    for (const name of [
      'report-contrastive: contrastive',
      'report-contrastive: clip-finetune',
      'image-only: DINO',
      'image-only: iBOT',
      'log K (',
    ])
      expect(curves).toContain(name);
    expect(report).toContain('loss-curves.svg');

    // rerun: nothing is recomputed; then one cell file is lost and only it is redone
    const saved = readFileSync(cellPath(out, cells[3]!), 'utf8');
    const again: StudyEvent[] = [];
    await runStudy(config, { onEvent: (e) => again.push(e) });
    expect(again.filter((e) => e.type === 'cell').every((e) => e.type === 'cell' && e.skipped)).toBe(true);
    expect(again.some((e) => e.type === 'train')).toBe(false);
    rmSync(cellPath(out, cells[3]!));
    const third: StudyEvent[] = [];
    const r3 = await runStudy(config, { onEvent: (e) => third.push(e) });
    const redone = third.filter((e) => e.type === 'cell' && !e.skipped);
    expect(redone.map((e) => e.type === 'cell' && e.cell.id)).toEqual([cells[3]!.id]);
    expect(r3.cells.length).toBe(cells.length);
    // a changed setting makes saved cells stale
    const changed = parseStudyConfig({ ...JSON.parse(JSON.stringify(config)), lr: { ...config.lr, downstream: 1e-2 } });
    expect(await readCell(out, cells[0]!, cellFingerprint(changed, cells[0]!))).toBeUndefined();
    expect(await readCell(out, cells[0]!, cellFingerprint(config, cells[0]!))).toBeDefined();
    // same seed, same data: the redone cell reproduces its AUROCs
    const before = JSON.parse(saved) as { perLabel: unknown };
    // (compared as saved: JSON writes NaN as null)
    expect(JSON.parse(JSON.stringify(r3.cells.find((c) => c.id === cells[3]!.id)!.perLabel))).toEqual(before.perLabel);
  });
});
