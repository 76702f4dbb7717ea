import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createRenderer } from '../../../src/cli/render/progress.js';
import { writeManifestCsv } from '../../../src/data/manifest/write.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { loadManifest, parseTrainConfig, train, type DataSummary, type TrainEvent } from '../../../src/index.js';
import type { Manifest, Split } from '../../../src/data/manifest/types.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { DATA_SUMMARY_FILE } from '../../../src/train/data-check.js';
import { dropRows, loadTrainDataset } from '../../../src/train/dataset.js';
import { failureLines } from '../../../src/train/images.js';
import { readSafetensors } from '../../../src/train/safetensors.js';

let root = '';
let manifestPath = '';
let manifest: Manifest;
/** Row indices whose images are damaged, and what each should be reported as. */
const damaged: Array<{ index: number; code: string; what: RegExp }> = [
  { index: 1, code: 'ERR_MISSING_FILE', what: /image file not found/ },
  { index: 4, code: 'ERR_DICOM_TRUNCATED', what: /./ },
  { index: 9, code: 'ERR_IMAGE_DECODE', what: /JPEG file \(300 bytes\) could not be decoded, truncated or corrupt/ },
  { index: 13, code: 'ERR_IMAGE_FORMAT', what: /not a DICOM, PNG or JPEG file \(the name says DICOM, the content is not\): text/ },
];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-data-missing-'));
  manifestPath = (await generatePhantom({ out: join(root, 'phantom'), n: 24, size: 64, seed: 5 })).manifestPath;
  manifest = await loadManifest(manifestPath);
  const path = (i: number): string => manifest.rows[i]!.imagePaths[0]!;
  rmSync(path(1));
  writeFileSync(path(4), readFileSync(path(4)).subarray(0, 1000));
  // a noisy picture, so that the first 300 bytes of its JPEG are far from a whole image
  const noise = Buffer.from(Array.from({ length: 64 * 64 }, (_, i) => (i * 2654435761) >>> 24));
  const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 1 } })
    .jpeg()
    .toBuffer();
  expect(jpeg.length).toBeGreaterThan(1500);
  writeFileSync(path(9), jpeg.subarray(0, 300));
  writeFileSync(path(13), 'this export failed, please retry\n');
});

function config(name: string, extra: { strict?: boolean; mode?: 'supervised' | 'contrastive' } = {}): TrainConfig {
  return parseTrainConfig({
    name,
    mode: extra.mode ?? 'supervised',
    runsDir: join(root, 'runs'),
    cacheDir: mkdtempSync(join(root, 'cache-')),
    steps: 2,
    batchSize: 4,
    data: { manifest: manifestPath, ...(extra.strict ? { strict: true } : {}) },
    image: { size: 32 },
    text: { vocabSize: 200, maxLength: 32 },
    eval: { linearProbe: false },
  });
}

/** Label counts per split computed from the manifest itself, without the damaged rows. */
function expectedCounts(): DataSummary['labels'] {
  const dropped = new Set(damaged.map((d) => d.index));
  const rows = manifest.rows.filter((_, i) => !dropped.has(i));
  const names = manifest.labelColumns.filter((c) => c.kind === 'binary').map((c) => c.name);
  return names.map((label) => {
    const counts = {} as DataSummary['labels'][number]['counts'];
    for (const split of ['train', 'val', 'test'] as Split[]) {
      const values = rows.filter((r) => r.split === split).map((r) => r.labels[label]);
      counts[split] = {
        positive: values.filter((v) => v === 1).length,
        negative: values.filter((v) => v === 0).length,
        uncertain: values.filter((v) => v === -1).length,
        missing: values.filter((v) => v === null || v === undefined).length,
        other: values.filter((v) => v !== null && v !== undefined && v !== 1 && v !== 0 && v !== -1).length,
      };
    }
    return { label, counts };
  });
}

describe('missing and undecodable images', () => {
  it('are counted, listed, dropped from every split, and the rest is trained and evaluated', async () => {
    const cfg = config('skip');
    const run = train(cfg);
    const events: TrainEvent[] = [];
    for await (const e of run) events.push(e);
    const result = await run.result;

    const warning = events.find((e) => e.type === 'stage' && e.stage === 'warning') as { message: string };
    expect(warning.message).toContain(
      `4 of 24 images of ${manifestPath} cannot be used (1 missing, 3 undecodable); their 4 row(s) are dropped`,
    );
    for (const d of damaged) {
      const line = warning.message.split('\n').find((l) => l.includes(manifest.rows[d.index]!.imagePaths[0]!))!;
      expect(line).toContain(`row ${manifest.rows[d.index]!.row}: `);
      expect(line).toContain(`: ${d.code}: `);
      expect(line).toMatch(d.what);
      expect(line).not.toMatch(/not a DICOM file/);
    }

    const summary = (events.find((e) => e.type === 'data') as { summary: DataSummary }).summary;
    const kept = manifest.rows.filter((_, i) => !damaged.some((d) => d.index === i));
    expect(summary).toMatchObject({
      manifestRows: 24,
      rows: 20,
      patients: new Set(kept.map((r) => r.patientId)).size,
      studies: new Set(kept.map((r) => r.studyId)).size,
      splits: {
        train: kept.filter((r) => r.split === 'train').length,
        val: kept.filter((r) => r.split === 'val').length,
        test: kept.filter((r) => r.split === 'test').length,
      },
      duplicates: { imagesMerged: 0, patientsMerged: 0 },
    });
    expect(summary.images).toMatchObject({ scope: 'all rows', checked: 24, missing: 1, undecodable: 3, droppedRows: 4, decoded: 23 });
    expect(summary.images.problems.map((p) => [p.row, p.code])).toEqual(damaged.map((d) => [manifest.rows[d.index]!.row, d.code]));
    expect(summary.labels).toEqual(expectedCounts());
    // the data event comes before any encoder work, and is what the run folder and report.md hold
    expect(events.findIndex((e) => e.type === 'data')).toBeLessThan(events.findIndex((e) => e.type === 'stage' && e.stage === 'encoders'));
    const runDir = join(root, 'runs', 'skip');
    expect(JSON.parse(readFileSync(join(runDir, DATA_SUMMARY_FILE), 'utf8'))).toEqual(summary);
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('## Data');
    expect(report).toContain('- 20 rows (of 24 in the manifest)');
    const first = expectedCounts()[0]!;
    expect(report).toContain(
      `| ${first.label} | ${(['train', 'val', 'test'] as const)
        .map((s) => {
          const c = first.counts[s];
          return `${c.positive}/${c.negative}/${c.uncertain}/${c.missing}`;
        })
        .join(' | ')} |`,
    );

    // frozen features of the 20 rows kept, and an evaluation on the test rows kept
    const features = readdirSync(cfg.cacheDir!).find((f) => f.startsWith('features-'))!;
    expect((await readSafetensors(join(cfg.cacheDir!, features))).tensors.get('image')!.shape[0]).toBe(20);
    expect(result.evaluations.length).toBeGreaterThan(0);

    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (written.push(String(c)), true));
    try {
      const render = createRenderer();
      for (const e of events) render(e);
    } finally {
      spy.mockRestore();
    }
    const log = written.join('');
    expect(log).toContain('[warning] 4 of 24 images');
    expect(log).toContain('[data] 20 rows (of 24 in the manifest)');
    expect(log).toContain('[data] images (all rows): 24 checked, 1 missing, 3 undecodable, 4 rows dropped');
  });

  it('are fatal with data.strict, listed in the TrainDataError, before any encoder work', async () => {
    const cfg = config('strict', { strict: true });
    const run = train(cfg);
    const events: TrainEvent[] = [];
    run.on('event', (e: TrainEvent) => events.push(e));
    const error = (await run.result.catch((e: unknown) => e)) as { code: string; message: string; details: { count: number } };
    expect(error.code).toBe('ERR_TRAIN_DATA');
    expect(error.message).toContain('(1 missing, 3 undecodable); data.strict is set, so the run stops');
    for (const d of damaged) expect(error.message).toContain(`${manifest.rows[d.index]!.imagePaths[0]!}: ${d.code}`);
    expect(error.details.count).toBe(4);
    expect(events.some((e) => e.type === 'data' || (e.type === 'stage' && e.stage === 'encoders'))).toBe(false);
    expect(readdirSync(cfg.cacheDir!).some((f) => f.startsWith('features-'))).toBe(false);
  });

  it('mode dino checks (and drops) only the training rows whose images it reads', async () => {
    const run = train(
      {
        name: 'dino',
        mode: 'dino',
        runsDir: join(root, 'runs'),
        cacheDir: mkdtempSync(join(root, 'cache-')),
        steps: 2,
        batchSize: 4,
        data: { manifest: manifestPath },
        image: { size: 32 },
        dino: {
          vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
          head: { hidden: 16, bottleneck: 8, prototypes: 16 },
          crops: { localCount: 0 },
        },
      },
      { skipEvaluation: true },
    );
    const events: TrainEvent[] = [];
    for await (const e of run) events.push(e);
    await run.result;
    const summary = (events.find((e) => e.type === 'data') as { summary: DataSummary }).summary;
    const train_ = manifest.rows.filter((r) => r.split === 'train').length;
    const badTrain = damaged.filter((d) => manifest.rows[d.index]!.split === 'train');
    expect(badTrain.length).toBeGreaterThan(0);
    expect(summary.images).toMatchObject({ scope: 'train rows', checked: train_, droppedRows: badTrain.length });
    expect(summary.rows).toBe(24 - badTrain.length);
    expect(summary.splits.train).toBe(train_ - badTrain.length);
  });

  it('dropping rows gives the dataset a manifest without those rows would give', async () => {
    const cfg = config('drop', { mode: 'contrastive' });
    const full = await loadTrainDataset(cfg, true);
    const drop = [0, 3, 7, 8, 20];
    const dropped = dropRows(full, drop);
    const smaller = join(root, 'phantom', 'smaller.csv');
    await writeManifestCsv({ ...manifest, rows: manifest.rows.filter((_, i) => !drop.includes(i)) }, smaller);
    const direct = await loadTrainDataset({ ...cfg, data: { ...cfg.data, manifest: smaller } }, true);
    expect(dropped.size).toBe(19);
    expect(dropped.imagePaths).toEqual(direct.imagePaths);
    expect(dropped.split).toEqual(direct.split);
    expect(dropped.reports).toEqual(direct.reports);
    expect(Array.from(dropped.labels)).toEqual(Array.from(direct.labels));
    expect(Array.from(dropped.labelled)).toEqual(Array.from(direct.labelled));
    expect(dropped.sentences).toEqual(direct.sentences);
    expect(Array.from(dropped.rowOffsets)).toEqual(Array.from(direct.rowOffsets));
    expect(Array.from(dropped.rowSentences)).toEqual(Array.from(direct.rowSentences));
    expect(Array.from(dropped.indices('test'))).toEqual(Array.from(direct.indices('test')));
    expect(dropped.manifest.rows.map((r) => r.row)).toEqual(full.manifest.rows.filter((_, i) => !drop.includes(i)).map((r) => r.row));
  });

  it('are listed 20 at most, with the count of the rest', () => {
    const failures = Array.from({ length: 25 }, (_, i) => ({
      path: `/d/${i}.png`,
      code: 'ERR_IMAGE_DECODE',
      message: `/d/${i}.png: PNG broken`,
      row: i + 1,
    }));
    const lines = failureLines(failures);
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('row 1: /d/0.png: ERR_IMAGE_DECODE: PNG broken');
    expect(lines[20]).toBe('... and 5 more');
  });
});
