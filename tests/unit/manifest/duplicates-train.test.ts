/**
 * The trainer loads its manifest with the duplicate-image check on: a phantom dataset with one
 * planted cross-patient copy (a training patient's DICOM written over a test patient's file).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatCsv, parseCsv } from '../../../src/data/manifest/csv.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train, type TrainEvent } from '../../../src/index.js';
import { parseTrainConfig, type TrainConfigInput } from '../../../src/train/config.js';
import { loadTrainDataset } from '../../../src/train/dataset.js';

let root = '';
let manifest = '';
let copied: { from: string; to: string; fromPatient: string; toPatient: string };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-dups-train-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 48, size: 64, seed: 3 })).manifestPath;
  const [header, ...rows] = parseCsv(readFileSync(manifest, 'utf8'));
  const col = (name: string): number => header!.indexOf(name);
  const train = rows.find((r) => r[col('split')] === 'train')!;
  const test = rows.find((r) => r[col('split')] === 'test' && r[col('patient_id')] !== train[col('patient_id')])!;
  copied = {
    from: train[col('image_path')]!,
    to: test[col('image_path')]!,
    fromPatient: train[col('patient_id')]!,
    toPatient: test[col('patient_id')]!,
  };
  copyFileSync(join(root, 'phantom', copied.from), join(root, 'phantom', copied.to));
}, 120_000);

function config(extra: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    name: 'dups',
    mode: 'contrastive',
    runsDir: join(root, 'runs'),
    seed: 5,
    steps: 2,
    batchSize: 8,
    checkpoint: { every: 2, keep: 1 },
    data: { manifest, sentences: { min: 1, max: 2 } },
    image: { size: 64 },
    text: { vocabSize: 300, maxLength: 32 },
    head: { kind: 'linear', projectionDim: 16 },
    ...extra,
  } as TrainConfigInput;
}

describe('train data with a duplicate image', () => {
  it('fills manifest.duplicates and moves the copy out of training when the manifest carries splits', async () => {
    const warnings: string[] = [];
    const dataset = await loadTrainDataset(parseTrainConfig(config()), false, (w) => warnings.push(w));
    const duplicates = dataset.manifest.duplicates!;
    expect(duplicates.groups).toHaveLength(1);
    expect(duplicates.groups[0]!.patients).toEqual([copied.fromPatient, copied.toPatient].sort());
    expect(duplicates.groups[0]!.paths).toEqual([join(root, 'phantom', copied.from), join(root, 'phantom', copied.to)].sort());
    expect(duplicates).toMatchObject({ imagesMerged: 2, patientsMerged: 1 });
    const splits = new Set(
      dataset.manifest.rows.flatMap((r, i) => ([copied.fromPatient, copied.toPatient].includes(r.patientId) ? [dataset.split[i]] : [])),
    );
    expect([...splits]).toEqual(['test']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('2 image files with identical bytes listed under different patients (1 group); 1 patient merged');
    expect(warnings[1]).toContain(`patients ${[copied.fromPatient, copied.toPatient].sort().join(', ')} from train to test`);
  });

  it('emits the merge as a warning stage event of the run', async () => {
    // the same data without a split column: the trainer splits by patient, keeping the pair together
    const [header, ...rows] = parseCsv(readFileSync(manifest, 'utf8'));
    const keep = header!.map((_, i) => i).filter((i) => header![i] !== 'split');
    const unsplit = join(root, 'phantom', 'unsplit.csv');
    writeFileSync(unsplit, formatCsv([header!, ...rows].map((r) => keep.map((i) => r[i]!))));
    const cfg = config({ data: { manifest: unsplit, sentences: { min: 1, max: 2 } } });
    const dataset = await loadTrainDataset(parseTrainConfig(cfg), false, () => undefined);
    const pairSplits = new Set(
      dataset.manifest.rows.flatMap((r, i) => ([copied.fromPatient, copied.toPatient].includes(r.patientId) ? [dataset.split[i]] : [])),
    );
    expect(pairSplits.size).toBe(1);

    const run = train(cfg, { skipEvaluation: true });
    const events: TrainEvent[] = [];
    for await (const e of run) events.push(e);
    await run.result;
    const warnings = events.filter((e) => e.type === 'stage' && e.stage === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unsplit\.csv: 2 image files with identical bytes .* 1 patient merged into another patient's split group/);
  }, 120_000);
});
