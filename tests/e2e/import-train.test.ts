import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/data/manifest/load.js';
import { splitByPatient } from '../../src/data/manifest/split.js';
import { writeChexpertFixture } from '../helpers/datasets/chexpert.js';
import { writeIuFixture } from '../helpers/datasets/iu-xray.js';
import { writeMimicFixture } from '../helpers/datasets/mimic-cxr-jpg.js';
import { covidRows, writeCovidCollection } from '../unit/import/covid-fixture.js';

// From a dataset as published to a trained run, through the CLI only: `radlearn manifest`, then
// `radlearn train`, whose data summary must state rows, patients, dropped images, merged
// duplicates and label counts per split.
const root = join(import.meta.dirname, '..', '..');
const cli = process.env.RADLEARN_CLI ?? join(root, 'bin', 'radlearn.js');
const exec = promisify(execFile);
const radlearn = async (args: string[]): Promise<string> => (await exec(process.execPath, [cli, ...args], { cwd: root })).stdout;

interface DataSummary {
  rows: number;
  patients: number;
  splits: Record<'train' | 'val' | 'test', number>;
  images: { missing: number; undecodable: number; decoded: number; fromDataCache: number };
  duplicates: { imagesMerged: number; patientsMerged: number };
  labels: Array<{ label: string; counts: Record<string, { positive: number; negative: number }> }>;
}

async function manifestThenTrain(
  dir: string,
  name: string,
  manifestArgs: string[],
  mode: 'contrastive' | 'supervised',
  trainArgs: string[] = [],
): Promise<{ printed: string; summary: DataSummary; manifest: string; runDir: string }> {
  const manifest = join(dir, `${name}.csv`);
  const printed = await radlearn(['manifest', ...manifestArgs, '--out', manifest]);
  const config = join(dir, `${name}.json`);
  const settings = {
    name,
    mode,
    runsDir: join(dir, 'runs'),
    steps: 2,
    batchSize: 2,
    data: { manifest },
    image: { size: 32 },
    text: { vocabSize: 64, maxLength: 32 },
    eval: { linearProbe: false, zeroShot: false },
  };
  writeFileSync(config, JSON.stringify(settings));
  await radlearn(['train', '-c', config, '--overwrite', ...trainArgs]);
  const runDir = join(dir, 'runs', name);
  const summary = JSON.parse(readFileSync(join(runDir, 'data-summary.json'), 'utf8')) as DataSummary;
  return { printed, summary, manifest, runDir };
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('radlearn manifest, then radlearn train, from each supported dataset layout', () => {
  it('mimic-cxr-jpg: reports tree, official split, per-study labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-e2e-mimic-'));
    const { root: dataset } = await writeMimicFixture(dir);
    const { printed, summary } = await manifestThenTrain(dir, 'mimic', ['--from', 'mimic-cxr-jpg', dataset], 'contrastive');
    expect(printed).toMatch(/\d+ patients, \d+ studies, \d+ images/);
    expect(printed).toContain('missing-image');
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.splits.train).toBeGreaterThan(0);
    expect(summary.labels.map((l) => l.label)).toContain('Pleural Effusion');
  }, 120_000);

  it('chexpert: labels only (supervised), split by patient when the official split is not kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-e2e-chexpert-'));
    const { dataset } = await writeChexpertFixture(dir);
    const { summary } = await manifestThenTrain(dir, 'chexpert', ['--from', 'chexpert', dataset, '--split', 'none'], 'supervised');
    expect(summary.splits.train + summary.splits.val + summary.splits.test).toBe(summary.rows);
    expect(summary.labels.find((l) => l.label === 'Cardiomegaly')).toBeDefined();
  }, 120_000);

  it('iu-xray: assembled report sections, frontal views only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-e2e-iu-'));
    const dataset = await writeIuFixture(dir);
    const { summary } = await manifestThenTrain(dir, 'iu', ['--from', 'iu-xray', dataset, '--views', 'frontal'], 'contrastive');
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.images.missing + summary.images.undecodable).toBe(0);
  }, 120_000);

  it('csv: a public-collection table with a duplicate image under another patient; a second run reads a cache build folder and decodes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-e2e-csv-'));
    const table = await writeCovidCollection(dir);
    // the same file published twice under two patient ids, as real collections do
    const rows = covidRows().filter((r) => r.imageWritten && r.record.modality === 'X-ray');
    const [a, b] = [rows[0]!, rows.find((r) => r.record.patientid !== rows[0]!.record.patientid)!];
    copyFileSync(join(dir, a.record.folder, a.record.filename), join(dir, b.record.folder, b.record.filename));
    const args = ['--from', 'csv', table, '--image-template', '{folder}/{filename}', '--filter', 'modality=X-ray'];
    const labels = ['--report', 'clinical_notes', '--label', 'covid=finding:contains COVID-19', '--labeler', '--not-mentioned', 'negative'];
    const first = await manifestThenTrain(dir, 'covid', [...args, ...labels], 'supervised');
    expect(first.summary.duplicates.patientsMerged).toBeGreaterThanOrEqual(1);
    expect(first.summary.labels.map((l) => l.label)).toContain('covid');

    // the split the trainer makes (config defaults: 0.7 / 0.15 / 0.15, seed 0, stratified by the first label) keeps identical files together
    const manifest = await loadManifest(first.manifest);
    expect(manifest.duplicates?.patientsMerged).toBeGreaterThanOrEqual(1);
    const stratifyBy = manifest.labelColumns.find((c) => c.kind === 'binary')!.name;
    const split = splitByPatient(manifest, { train: 0.7, val: 0.15, test: 0.15, seed: 0, stratifyBy });
    const splitOf = new Map<string, Set<string>>();
    for (const row of split.rows) {
      const key = sha(row.imagePaths[0]!);
      splitOf.set(key, (splitOf.get(key) ?? new Set()).add(row.split!));
    }
    expect([...splitOf.values()].filter((splits) => splits.size > 1)).toEqual([]);
    expect(first.summary.rows).toBe(manifest.rows.length);

    const cache = join(dir, 'cache');
    await radlearn(['cache', 'build', first.manifest, '--out', cache, '--size', '32', '--fit', 'squarePad', '--workers', '0']);
    const second = await manifestThenTrain(dir, 'covid', [...args, ...labels], 'supervised', ['--cache', cache]);
    expect(second.summary.images.decoded).toBe(0);
    expect(second.summary.images.fromDataCache).toBe(second.summary.rows);
    for (const split of ['train', 'val', 'test'] as const) expect(second.summary.splits[split]).toBe(first.summary.splits[split]);
  }, 180_000);
});
