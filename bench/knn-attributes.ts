/**
 * What a finished phantom study's frozen encoders' nearest neighbours follow: for each encoder in
 * <study>/pretrain, a kNN vote (k = 20, as the study's encoder checks) from the training rows'
 * features on attributes of the phantom's ground truth that no label column holds (projection,
 * shutters, sex, habitus, rotation, grid) and on a few findings, AUROC on the in-site test rows.
 * Features come from the study's cache (the same keys as its cells), so this takes seconds.
 *
 *   npx tsx bench/knn-attributes.ts <study dir>     (a study run on the built-in phantom)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auroc } from '../src/eval/auroc.js';
import { fitKnnMultiLabel } from '../src/eval/knn.js';
import { parseTrainConfig } from '../src/train/config.js';
import { loadTrainDataset } from '../src/train/dataset.js';
import { resolveEncoders } from '../src/train/encoders.js';
import { computeFeatures } from '../src/train/features.js';
import { gatherRows } from '../src/train/heads.js';
import { IN_SITE, STUDY_SITE_COLUMN } from '../src/train/study/external.js';

interface Truth {
  study_id: string;
  patient: { sex: string; habitus: number };
  acquisition: { view: string; collimation: number[]; rotationDeg: number; grid: unknown };
  findings: { cardiomegalyGrade: number; effusion: unknown; devices: string[] };
}

const ATTRIBUTES: Array<[string, (t: Truth) => number]> = [
  ['AP view', (t) => (t.acquisition.view === 'AP' ? 1 : 0)],
  ['shutter > 3%', (t) => (t.acquisition.collimation.some((m) => m > 0.03) ? 1 : 0)],
  ['female', (t) => (t.patient.sex === 'F' ? 1 : 0)],
  ['habitus > 1.03', (t) => (t.patient.habitus > 1.03 ? 1 : 0)],
  ['rotation > 2 deg', (t) => (Math.abs(t.acquisition.rotationDeg) > 2 ? 1 : 0)],
  ['grid lines', (t) => (t.acquisition.grid ? 1 : 0)],
  ['grade >= 3', (t) => (t.findings.cardiomegalyGrade >= 3 ? 1 : 0)],
  ['effusion', (t) => (t.findings.effusion ? 1 : 0)],
  ['devices', (t) => (t.findings.devices.length > 0 ? 1 : 0)],
];

const study = process.argv[2];
if (!study) throw new Error('usage: npx tsx bench/knn-attributes.ts <study dir>');
const config = JSON.parse(readFileSync(join(study, 'study.json'), 'utf8')) as { imageSize: number };
const phantom = readdirSync(study).find((d) => d.startsWith('phantom-'));
const manifest = phantom && readdirSync(join(study, phantom)).find((f) => f.startsWith('manifest.external-'));
if (!phantom || !manifest) throw new Error(`${study}: no phantom folder with an external-validation manifest`);
const truth = new Map(
  readFileSync(join(study, phantom, 'ground_truth.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Truth)
    .map((t) => [t.study_id, t]),
);
process.stdout.write(`| encoder | ${ATTRIBUTES.map(([name]) => name).join(' | ')} |\n|---|${ATTRIBUTES.map(() => '---').join('|')}|\n`);
for (const run of readdirSync(join(study, 'pretrain')).sort()) {
  const model = join(study, 'pretrain', run, 'encoder.onnx');
  if (!existsSync(model)) continue;
  const cfg = parseTrainConfig({
    name: 'knn-attributes',
    mode: 'supervised',
    runsDir: join(study, 'runs'),
    cacheDir: join(study, 'cache'),
    data: { manifest: join(study, phantom, manifest) },
    image: { model, size: config.imageSize },
    export: false,
  });
  const dataset = await loadTrainDataset(cfg, false, () => {});
  const encoders = await resolveEncoders(cfg, study, undefined);
  const features = await computeFeatures(cfg, dataset, encoders).finally(() => encoders.dispose());
  const D = features.imageDim;
  const A = ATTRIBUTES.length;
  const train = dataset.indices('train');
  const test = dataset.indices('test').filter((r) => dataset.manifest.rows[r]!.fields[STUDY_SITE_COLUMN] === IN_SITE);
  const values = (rows: Int32Array): Float64Array => {
    const out = new Float64Array(rows.length * A);
    rows.forEach((r, i) => ATTRIBUTES.forEach(([, of], k) => (out[i * A + k] = of(truth.get(dataset.manifest.rows[r]!.studyId!)!))));
    return out;
  };
  const knn = fitKnnMultiLabel({ embeddings: gatherRows(features.image, D, train), dim: D, labels: values(train), numLabels: A, k: 20 });
  const scores = knn.predict(gatherRows(features.image, D, test));
  const y = values(test);
  const column = (m: Float64Array, k: number): Float64Array => Float64Array.from(test, (_, i) => m[i * A + k]!);
  process.stdout.write(`| ${run} | ${ATTRIBUTES.map((_, k) => auroc(column(scores, k), column(y, k)).toFixed(3)).join(' | ')} |\n`);
}
