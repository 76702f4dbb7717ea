import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { parseTrainConfig } from '../../../src/train/config.js';
import { loadTrainDataset, TrainDataError } from '../../../src/train/dataset.js';

// Text modes need every training row's report: a row without one is left out (with a warning), or
// stops the run under data.strict; a report named by report_path is read from its file.
async function phantomTable(): Promise<{ dir: string; rows: string[][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-data-reports-'));
  const { manifestPath } = await generatePhantom({ out: join(dir, 'phantom'), n: 24, size: 32, seed: 3 });
  const rows = parseCsv(readFileSync(manifestPath, 'utf8'));
  // image paths relative to the phantom folder: rewrite them absolute for manifests written elsewhere
  const image = rows[0]!.indexOf('image_path');
  for (const row of rows.slice(1)) row[image] = join(dir, 'phantom', row[image]!);
  return { dir, rows };
}

const config = (manifest: string, strict = false) =>
  parseTrainConfig({ name: 'r', mode: 'contrastive', data: { manifest, ...(strict ? { strict: true } : {}) } });

describe('report text for the text modes', () => {
  it('drops training rows without a report, with a warning naming the first, and keeps the others', async () => {
    const { dir, rows } = await phantomTable();
    const report = rows[0]!.indexOf('report');
    const split = rows[0]!.indexOf('split');
    const blank = rows.findIndex((r, i) => i > 0 && r[split] === 'train');
    rows[blank]![report] = '';
    const path = join(dir, 'blank.csv');
    writeFileSync(path, formatCsv(rows));
    const warnings: string[] = [];
    const dataset = await loadTrainDataset(config(path), true, (m) => warnings.push(m));
    expect(dataset.size).toBe(rows.length - 2);
    expect(dataset.manifest.rows.map((r) => r.row)).not.toContain(blank);
    expect(warnings).toEqual([expect.stringContaining(`1 training row(s) have an empty or missing report (first: row ${blank})`)]);
    await expect(loadTrainDataset(config(path, true), true, () => {})).rejects.toBeInstanceOf(TrainDataError);
    // a mode without text keeps the row
    expect((await loadTrainDataset(config(path), false, () => {})).size).toBe(rows.length - 1);
  });

  it('reads reports named by a report_path column', async () => {
    const { dir, rows } = await phantomTable();
    const report = rows[0]!.indexOf('report');
    const texts = rows.slice(1).map((r) => r[report]!);
    rows[0]![report] = 'report_path';
    rows.slice(1).forEach((r, i) => {
      const file = join(dir, `report-${i}.txt`);
      writeFileSync(file, texts[i]!);
      r[report] = file;
    });
    const path = join(dir, 'paths.csv');
    writeFileSync(path, formatCsv(rows));
    const dataset = await loadTrainDataset(config(path), true, () => {});
    expect(dataset.reports).toEqual(texts);
    expect(dataset.sentences.length).toBeGreaterThan(0);
  });
});
