// predictions.csv: a run writes the test split's per-case scores, and every AUROC of report.json
// is recomputed from that file exactly; `radlearn eval` writes a new eval-<time> folder and leaves
// the run's own report as it was.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { auroc, generatePhantom, loadManifest, parseCsv, train, type UncertainPolicy } from '../../../src/index.js';
import type { TrainDataset } from '../../../src/train/dataset.js';
import { predictionsCsv } from '../../../src/train/predictions.js';
import { buildProgram } from '../../../src/cli/main.js';
import { newEvalDir } from '../../../src/cli/commands/eval.js';

let out = '';
let manifest = '';

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'radlearn-preds-'));
  manifest = (await generatePhantom({ out: join(out, 'phantom'), n: 160, size: 64, seed: 5 })).manifestPath;
});

afterEach(() => vi.restoreAllMocks());

interface ReportJson {
  evaluations: Array<{ name: string; labelNames: string[]; perLabel: Array<{ label: string; auroc: number | null }> }>;
  notes: string[];
}

function readTable(path: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'), path);
  return { header: header!, rows };
}

/** Recomputes each label's AUROC of one arm from the file's score and truth columns. */
function recomputed(path: string, prefix: string, labels: string[], uncertain: UncertainPolicy): Array<number | null> {
  const { header, rows } = readTable(path);
  return labels.map((label) => {
    const s = header.indexOf(`${prefix}.${label}`);
    const t = header.indexOf(`truth.${label}`);
    expect(s).toBeGreaterThan(-1);
    expect(t).toBeGreaterThan(-1);
    const value = auroc(
      rows.map((r) => Number(r[s])),
      rows.map((r) => (r[t] === '' ? null : Number(r[t]))),
      { uncertain },
    );
    return Number.isFinite(value) ? value : null;
  });
}

function expectAurocsFromFile(dir: string, arms: Array<{ name: string; prefix: string }>, uncertain: UncertainPolicy): void {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportJson;
  for (const arm of arms) {
    const evaluation = report.evaluations.find((e) => e.name === arm.name)!;
    expect(evaluation).toBeDefined();
    const expected = evaluation.perLabel.map((l) => l.auroc);
    expect(expected.some((a) => a !== null)).toBe(true);
    expect(recomputed(join(dir, 'predictions.csv'), arm.prefix, evaluation.labelNames, uncertain)).toEqual(expected);
  }
}

/** The manifest's test rows as the file should list them: row number, ids, image and raw labels. */
async function manifestTestRows(labels: string[]): Promise<string[][]> {
  const parsed = await loadManifest(manifest);
  return parsed.rows
    .filter((r) => r.split === 'test')
    .map((r) => [
      String(r.row),
      r.studyId,
      r.patientId,
      r.imagePaths[0]!,
      ...labels.map((l) => (r.labels[l] === null ? '' : String(r.labels[l]))),
    ]);
}

describe('predictions.csv', () => {
  it('contrastive run: linear-probe and zero-shot scores reproduce report.json; eval writes a new folder', async () => {
    const result = await train({
      name: 'preds-contrastive',
      mode: 'contrastive',
      runsDir: join(out, 'runs'),
      steps: 20,
      batchSize: 32,
      data: { manifest, sentences: { min: 1, max: 2 } },
      image: { size: 64 },
      text: { vocabSize: 500, maxLength: 48 },
      head: { kind: 'mlp', hidden: 32, projectionDim: 16 },
      eval: { probeSteps: 40 },
    }).result;
    const path = join(result.runDir, 'predictions.csv');
    expect(result.predictionsPath).toBe(path);
    const { header, rows } = readTable(path);
    const labels = result.config.data.labels ?? JSON.parse(readFileSync(result.reportJsonPath!, 'utf8')).evaluations[1].labelNames;
    const zeroShot = (JSON.parse(readFileSync(result.reportJsonPath!, 'utf8')) as ReportJson).evaluations[0]!;
    expect(zeroShot.name).toBe('zero-shot');
    expect(header).toEqual([
      'row',
      'study_id',
      'patient_id',
      'image',
      ...labels.map((l: string) => `prob.${l}`),
      ...labels.map((l: string) => `truth.${l}`),
      ...zeroShot.labelNames.map((l) => `zeroshot.${l}`),
    ]);
    // the case and truth columns are the manifest's own test rows, in manifest order
    const expectedCases = await manifestTestRows(labels);
    expect(rows.length).toBe(expectedCases.length);
    expect(rows.map((r) => [...r.slice(0, 4), ...r.slice(4 + labels.length, 4 + 2 * labels.length)])).toEqual(expectedCases);
    expect(rows.flatMap((r) => r.slice(4 + 2 * labels.length)).some((v) => v === '-1')).toBe(false);
    for (const r of rows) for (const p of r.slice(4, 4 + labels.length)) expect(Number(p)).toBeGreaterThanOrEqual(0);

    expectAurocsFromFile(
      result.runDir,
      [
        { name: 'linear probe (image features)', prefix: 'prob' },
        { name: 'zero-shot', prefix: 'zeroshot' },
      ],
      'ignore',
    );
    const report = JSON.parse(readFileSync(result.reportJsonPath!, 'utf8')) as ReportJson;
    expect(report.notes.some((n) => n.startsWith('predictions.csv: ') && n.includes('linear probe (image features)'))).toBe(true);

    // eval: a new folder with its own report and predictions; the run's report stays byte for byte
    const runReport = readFileSync(join(result.runDir, 'report.md'), 'utf8');
    const runPredictions = readFileSync(path, 'utf8');
    const runClassifier = readFileSync(join(result.runDir, 'classifier.onnx'));
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    await buildProgram().parseAsync(['node', 'radlearn', 'eval', '--run', result.runDir]);
    vi.restoreAllMocks();
    const evalDirs = readdirSync(result.runDir).filter((f) => f.startsWith('eval-'));
    expect(evalDirs.length).toBe(1);
    const evalDir = join(result.runDir, evalDirs[0]!);
    expect(evalDirs[0]).toMatch(/^eval-\d{8}T\d{6}Z$/);
    expect(printed.join('')).toContain(`evaluation: ${evalDir}\n`);
    expect(printed.join('')).toContain(`report: ${join(evalDir, 'report.md')}\n`);
    for (const f of ['report.md', 'report.json', 'predictions.csv', 'classifier.onnx']) expect(existsSync(join(evalDir, f))).toBe(true);
    expect(readFileSync(join(result.runDir, 'report.md'), 'utf8')).toBe(runReport);
    expect(readFileSync(path, 'utf8')).toBe(runPredictions);
    expect(readFileSync(join(result.runDir, 'classifier.onnx')).equals(runClassifier)).toBe(true);
    expectAurocsFromFile(
      evalDir,
      [
        { name: 'linear probe (image features)', prefix: 'prob' },
        { name: 'zero-shot', prefix: 'zeroshot' },
      ],
      'ignore',
    );
  });

  it('supervised run: the trained head is the exported classifier, its scores under the uncertain → 0 policy', async () => {
    const labels = ['Cardiomegaly', 'Pleural Effusion', 'Consolidation'];
    const result = await train({
      name: 'preds-supervised',
      mode: 'supervised',
      runsDir: join(out, 'runs'),
      steps: 20,
      batchSize: 16,
      data: { manifest, labels, uncertain: 'zeros' },
      image: { size: 64 },
      head: { kind: 'linear' },
      eval: { probeSteps: 40 },
    }).result;
    const { header, rows } = readTable(result.predictionsPath!);
    expect(header).toEqual([
      'row',
      'study_id',
      'patient_id',
      'image',
      ...labels.map((l) => `prob.${l}`),
      ...labels.map((l) => `truth.${l}`),
    ]);
    expect(rows.map((r) => [...r.slice(0, 4), ...r.slice(4 + labels.length)])).toEqual(await manifestTestRows(labels));
    expectAurocsFromFile(result.runDir, [{ name: 'linear head (supervised)', prefix: 'prob' }], 'zeros');
  });
});

describe('predictionsCsv', () => {
  it('writes case ids, scores as read back exactly, raw truth (empty for missing) and quotes paths with commas', () => {
    const dataset = {
      labelNames: ['A', 'B'],
      labels: Float32Array.from([1, NaN, 0, -1, -1, 1]),
      imagePaths: ['/x/0.png', '/x/a,b.png', '/x/2.png'],
      manifest: {
        rows: [
          { row: 7, studyId: 's7', patientId: 'p1' },
          { row: 9, studyId: 's9', patientId: 'p2' },
          { row: 12, studyId: 's12', patientId: 'p2' },
        ],
      },
    } as unknown as TrainDataset;
    const probs = Float32Array.from([0.1, 0.7, 1 / 3, 0.25]);
    const text = predictionsCsv(dataset, {
      rows: Int32Array.from([2, 1]),
      classifier: { source: 'linear probe', labels: ['A', 'B'], scores: probs },
      zeroShot: { labels: ['B'], scores: [0.5, -2] },
    });
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['row', 'study_id', 'patient_id', 'image', 'prob.A', 'prob.B', 'truth.A', 'truth.B', 'zeroshot.B']);
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[6], r[7], r[8]])).toEqual([
      ['12', 's12', 'p2', '/x/2.png', '-1', '1', '0.5'],
      ['9', 's9', 'p2', '/x/a,b.png', '0', '-1', '-2'],
    ]);
    expect(rows.flatMap((r) => [Number(r[4]), Number(r[5])])).toEqual(Array.from(probs));
    expect(basename(String(rows[1]![3]))).toBe('a,b.png');
  });

  it('refuses scores that do not match the rows and labels', () => {
    const dataset = {
      labelNames: ['A'],
      labels: Float32Array.from([1]),
      imagePaths: ['/a.png'],
      manifest: { rows: [] },
    } as unknown as TrainDataset;
    expect(() =>
      predictionsCsv(dataset, { rows: Int32Array.from([0]), classifier: { source: 'x', labels: ['A'], scores: [0.1, 0.2] } }),
    ).toThrow(/the classifier has 2 scores for 1 test rows × 1 labels; expected 1/);
  });

  it('eval folders are named by UTC second and never reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-evaldir-'));
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    expect(basename(await newEvalDir(dir, at))).toBe('eval-20260102T030405Z');
    expect(basename(await newEvalDir(dir, at))).toBe('eval-20260102T030405Z-2');
    expect(basename(await newEvalDir(dir, at))).toBe('eval-20260102T030405Z-3');
  });
});
