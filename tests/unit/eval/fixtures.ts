/** A small synthetic multi-label embedding problem shared by the sweep and report tests. */
import { compareArms, evaluateMultiLabel } from '../../../src/eval/evaluate.js';
import { fitKnnMultiLabel } from '../../../src/eval/knn.js';
import { lossPointsFromJsonl } from '../../../src/eval/report/lossCurve.js';
import { multiClassMetrics, quadraticWeightedKappa } from '../../../src/eval/multiclass.js';
import { sweepLabelFractions } from '../../../src/eval/sweep.js';
import { type EvalReportInput } from '../../../src/eval/report/writeReport.js';
import { createEvalRng, gaussian } from './helpers.js';

export const LABELS = ['Cardiomegaly', 'Pleural Effusion', 'Pneumothorax'];
export const DIM = 12;

/** Embeddings where label l shifts coordinate l; ~10% of labels missing, a few uncertain. */
export function embeddingSplit(n: number, seed: number) {
  const rng = createEvalRng(seed);
  const embeddings = new Float64Array(n * DIM);
  const labels: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < DIM; d++) embeddings[i * DIM + d] = gaussian(rng);
    for (let l = 0; l < LABELS.length; l++) {
      const y = rng.next() < [0.3, 0.2, 0.08][l] ? 1 : 0;
      embeddings[i * DIM + l] += 1.6 * y;
      const u = rng.next();
      labels.push(u < 0.1 ? null : u < 0.12 ? -1 : y);
    }
  }
  return { embeddings, labels };
}

/** Realistic inputs for every report section, from real metric computations. */
export async function buildReportInput(): Promise<EvalReportInput> {
  const train = embeddingSplit(240, 1);
  const val = embeddingSplit(120, 2);
  const test = embeddingSplit(180, 3);
  const knn = fitKnnMultiLabel({ embeddings: train.embeddings, dim: DIM, labels: train.labels, numLabels: LABELS.length, k: 15 });
  // A weaker "zero-shot" arm: the label's own coordinate through a noisy sigmoid.
  const rng = createEvalRng(4);
  const zeroShot = (emb: Float64Array) =>
    Float64Array.from({ length: (emb.length / DIM) * LABELS.length }, (_, k) => {
      const i = Math.floor(k / LABELS.length);
      const l = k % LABELS.length;
      return 1 / (1 + Math.exp(-(emb[i * DIM + l] + 1.2 * gaussian(rng))));
    });
  const zsTest = zeroShot(test.embeddings);
  const probeTest = knn.predict(test.embeddings);
  const zs = evaluateMultiLabel({
    name: 'zero-shot',
    labelNames: LABELS,
    scores: zsTest,
    labels: test.labels,
    validation: { scores: zeroShot(val.embeddings), labels: val.labels },
  });
  const probe = evaluateMultiLabel({
    name: 'kNN probe',
    labelNames: LABELS,
    scores: probeTest,
    labels: test.labels,
    validation: { scores: knn.predict(val.embeddings), labels: val.labels },
  });
  const comparison = compareArms({
    nameA: 'kNN probe',
    nameB: 'zero-shot',
    labelNames: LABELS,
    scoresA: probeTest,
    scoresB: zsTest,
    labels: test.labels,
  });
  const sweeps = [];
  for (const k of [5, 25]) {
    sweeps.push(
      await sweepLabelFractions({
        arm: `kNN k=${k}`,
        fractions: [0.02, 0.1, 1],
        seeds: [0, 1, 2],
        poolSize: 240,
        poolLabels: train.labels,
        labelNames: LABELS,
        fit: async (idx) => {
          const emb = new Float64Array(idx.length * DIM);
          const lab: (number | null)[] = [];
          idx.forEach((i, r) => {
            emb.set(train.embeddings.subarray(i * DIM, (i + 1) * DIM), r * DIM);
            for (let l = 0; l < LABELS.length; l++) lab.push(train.labels[i * LABELS.length + l]);
          });
          return fitKnnMultiLabel({ embeddings: emb, dim: DIM, labels: lab, numLabels: LABELS.length, k });
        },
        test: { inputs: test.embeddings, labels: test.labels },
      }),
    );
  }
  const jsonl = Array.from({ length: 300 }, (_, s) =>
    JSON.stringify({ type: 'step', step: s, loss: 2.3 * Math.exp(-s / 80) + 0.4 + 0.05 * gaussian(rng) }),
  ).join('\n');
  const truth = Array.from({ length: 90 }, () => rng.int(5));
  const grades = truth.map((t) => Math.max(0, Math.min(4, t + Math.round(0.7 * gaussian(rng)))));
  return {
    title: 'radlearn evaluation (synthetic test fixture)',
    meta: { dataset: 'synthetic embeddings', 'test cases': 180 },
    evaluations: [zs, probe],
    comparisons: [comparison],
    sweeps,
    lossCurves: [{ name: 'contrastive', points: lossPointsFromJsonl(jsonl + '\n{"type":"eval","step":299}\n{"step": 30') }],
    ordinal: [
      {
        name: 'KL grade',
        kappa: quadraticWeightedKappa(truth, grades, { numClasses: 5 }),
        metrics: multiClassMetrics(truth, grades, { numClasses: 5 }),
      },
    ],
  };
}
