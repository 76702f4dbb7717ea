/**
 * What each pre-trained encoder's frozen features hold, without any downstream training run:
 * a kNN classifier (k = 20, DINO's weighted vote) on the labels the reports mention, and an ordinal
 * grade probe (grade-probe.ts), each on the in-site test cases and on every external site's.
 * CIs are percentile bootstraps over test cases (1000 resamples, fixed seed); each arm's kNN macro
 * AUROC is also compared with the random-init encoder's on the same resamples (paired).
 */
import { join } from 'node:path';
import { auroc } from '../../eval/auroc.js';
import { bootstrapCI } from '../../eval/bootstrap.js';
import { fitKnnMultiLabel } from '../../eval/knn.js';
import { quadraticWeightedKappa } from '../../eval/multiclass.js';
import { parseTrainConfig } from '../config.js';
import { loadTrainDataset, type TrainDataset } from '../dataset.js';
import { resolveEncoders } from '../encoders.js';
import { computeFeatures } from '../features.js';
import { gatherRows } from '../heads.js';
import { testGroups } from '../evaluate-groups.js';
import { IN_SITE } from './external.js';
import { fitGradeProbe, type GradeProbe } from './grade-probe.js';
import type { PretrainingArm, StudyConfig } from './config.js';
import type { StudyData } from './pretrain.js';

export interface Interval {
  estimate: number;
  ci: [number, number];
}

export interface EncoderCheck {
  pretraining: PretrainingArm;
  seed: number;
  /** One entry per test group: 'in-site' (or 'all' without external validation) then each external site. */
  groups: Array<{
    group: string;
    cases: number;
    knnMacroAuroc: Interval;
    /** Each mentioned label's kNN AUROC on this group (NaN without both classes). */
    knnPerLabel: Record<string, number>;
    /** This arm's kNN macro AUROC minus the random-init encoder's (absent for 'none' or when it was not run). */
    knnVsNone?: Interval;
    grade?: { accuracy: Interval; kappa: Interval };
  }>;
}

/** Per arm and group, the scores kept for the paired comparison with 'none'. */
interface GroupScores {
  rows: Int32Array;
  knn: Float64Array;
}

const REPS = 1000;
const LEVEL = 0.95;

function interval(n: number, statistic: (indices: Int32Array) => number, seed: number): Interval {
  const r = bootstrapCI(n, statistic, { reps: REPS, seed, level: LEVEL });
  return { estimate: r.estimate, ci: [r.lower, r.upper] };
}

/** Each label's AUROC over the cases `take` (row indices into the [n, width] score and label matrices). */
function labelAurocs(scores: Float64Array, labels: Float64Array, width: number, take: Int32Array): number[] {
  const s = new Float64Array(take.length);
  const y = new Float64Array(take.length);
  return Array.from({ length: width }, (_, j) => {
    take.forEach((i, k) => {
      s[k] = scores[i * width + j]!;
      y[k] = labels[i * width + j]!;
    });
    return auroc(s, y);
  });
}

function macroAuroc(scores: Float64Array, labels: Float64Array, width: number, take: Int32Array): number {
  const defined = labelAurocs(scores, labels, width, take).filter((a) => Number.isFinite(a));
  return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN;
}

/** The grade probe fitted on the training rows that have a grade, or undefined without a grade column or two levels. */
function fitGrades(
  dataset: TrainDataset,
  column: string | undefined,
  train: Int32Array,
  features: { image: Float32Array; imageDim: number },
): { probe: GradeProbe; levels: number; gradeOf: (row: number) => number } | undefined {
  if (!column) return undefined;
  const gradeOf = (r: number): number => {
    const v = dataset.manifest.rows[r]!.labels[column];
    return v === null || v === undefined || !Number.isInteger(v) || v < 0 ? -1 : v;
  };
  const graded = train.filter((r) => gradeOf(r) >= 0);
  const levels = graded.length > 0 ? Math.max(...Array.from(graded, gradeOf)) + 1 : 0;
  if (levels < 2) return undefined;
  const grades = Float32Array.from({ length: dataset.size }, (_, r) => gradeOf(r));
  return { probe: fitGradeProbe(features.image, features.imageDim, graded, grades, { levels, steps: 500 }), levels, gradeOf };
}

/** The test rows by role: 'all' without external validation, else 'in-site' first, then each external site. */
function testGroupsOf(dataset: TrainDataset, groupBy: string | undefined): Array<{ group: string; rows: Int32Array }> {
  const test = dataset.indices('test');
  if (!groupBy) return [{ group: 'all', rows: test }];
  const groups = testGroups(dataset, test, groupBy).map(({ value, positions }) => ({
    group: value,
    rows: Int32Array.from(positions, (p) => test[p]!),
  }));
  return [...groups.filter((g) => g.group === IN_SITE), ...groups.filter((g) => g.group !== IN_SITE)];
}

/** Runs the checks for every (arm, seed) encoder; `encoders` maps "<arm>-s<seed>" to its ONNX file. */
export async function checkEncoders(
  config: StudyConfig,
  dir: string,
  data: StudyData,
  encoders: ReadonlyMap<string, string>,
  unmentioned: readonly string[],
): Promise<EncoderCheck[]> {
  const checks: EncoderCheck[] = [];
  const kept = new Map<string, GroupScores[]>();
  for (let seed = 0; seed < config.seeds; seed++) {
    // the rows, labels and splits are the same for every encoder of a seed: read once
    let seedDataset: TrainDataset | undefined;
    // random init first: the other arms are compared with it
    for (const pretraining of [...config.pretraining].sort((a, b) => Number(b === 'none') - Number(a === 'none'))) {
      const model = encoders.get(`${pretraining}-s${seed}`);
      if (!model) continue;
      const trainConfig = parseTrainConfig({
        name: `encoder-check-${pretraining}-s${seed}`,
        mode: 'supervised',
        runsDir: join(dir, 'runs'),
        cacheDir: join(dir, 'cache'),
        seed,
        data: { manifest: data.manifest, ...(data.labels ? { labels: data.labels } : {}), ...(data.split ? { split: data.split } : {}) },
        image: { model, size: config.imageSize },
        export: false,
      });
      const dataset = (seedDataset ??= await loadTrainDataset(trainConfig, false, () => {}));
      const resolved = await resolveEncoders(trainConfig, dir, undefined);
      let features;
      try {
        features = await computeFeatures(trainConfig, dataset, resolved);
      } finally {
        resolved.dispose();
      }
      const dim = features.imageDim;
      const mentioned = dataset.labelNames.map((l, j) => [l, j] as const).filter(([l]) => !unmentioned.includes(l));
      const width = mentioned.length;
      const L = dataset.labelNames.length;
      const labelsOf = (rows: Int32Array): Float64Array => {
        const out = new Float64Array(rows.length * width);
        rows.forEach((r, i) => mentioned.forEach(([, j], k) => (out[i * width + k] = dataset.labels[r * L + j]!)));
        return out;
      };
      const train = dataset.indices('train');
      const knn = fitKnnMultiLabel({
        embeddings: gatherRows(features.image, dim, train),
        dim,
        labels: labelsOf(train),
        numLabels: width,
        uncertain: trainConfig.data.uncertain,
        k: 20,
      });
      const grades = fitGrades(dataset, config.data.grade ?? undefined, train, features);
      const groups: EncoderCheck['groups'] = [];
      const scoresByGroup: GroupScores[] = [];
      for (const [g, { group, rows }] of testGroupsOf(dataset, data.groupBy).entries()) {
        const scores = knn.predict(gatherRows(features.image, dim, rows));
        const labels = labelsOf(rows);
        scoresByGroup.push({ rows, knn: scores });
        const entry: EncoderCheck['groups'][number] = {
          group,
          cases: rows.length,
          knnMacroAuroc: interval(rows.length, (take) => macroAuroc(scores, labels, width, take), 1000 + g),
          knnPerLabel: Object.fromEntries(
            labelAurocs(
              scores,
              labels,
              width,
              Int32Array.from(rows, (_, i) => i),
            ).map((a, k) => [mentioned[k]![0], a]),
          ),
        };
        const none = kept.get(`none-s${seed}`)?.[g];
        if (pretraining !== 'none' && none && none.rows.length === rows.length)
          entry.knnVsNone = interval(
            rows.length,
            (take) => macroAuroc(scores, labels, width, take) - macroAuroc(none.knn, labels, width, take),
            1000 + g,
          );
        if (grades) {
          const { probe, levels, gradeOf } = grades;
          const graded = rows.filter((r) => gradeOf(r) >= 0);
          if (graded.length > 0) {
            const truth = Int32Array.from(graded, gradeOf);
            const predicted = probe.predict(features.image, graded);
            const accuracy = (take: Int32Array): number => take.reduce((a, i) => a + (truth[i] === predicted[i] ? 1 : 0), 0) / take.length;
            const kappa = (take: Int32Array): number =>
              quadraticWeightedKappa(
                Array.from(take, (i) => truth[i]!),
                Array.from(take, (i) => predicted[i]!),
                { numClasses: levels },
              ).kappa;
            entry.grade = { accuracy: interval(graded.length, accuracy, 2000 + g), kappa: interval(graded.length, kappa, 2000 + g) };
          }
        }
        groups.push(entry);
      }
      kept.set(`${pretraining}-s${seed}`, scoresByGroup);
      checks.push({ pretraining, seed, groups });
    }
  }
  return checks;
}
