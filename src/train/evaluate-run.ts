/**
 * Evaluation after training, on the test split with thresholds chosen on validation:
 * zero-shot with positive/negative prompts (contrastive runs), the trained classifier head
 * (supervised, distill; plus the report-seeing teacher as a reference), and a linear probe on
 * the frozen image features. AUROC with DeLong CIs via src/eval.
 */
import { evaluateMultiLabel, type MultiLabelEvaluation } from '../eval/evaluate.js';
import { sweepLabelFractions, type LabelFractionSweepResult } from '../eval/sweep.js';
import { CHEXPERT_OBSERVATIONS, makeLabelPrompts } from '../eval/prompts.js';
import { buildZeroShotClassifier } from '../eval/zeroShot.js';
import type { TrainConfig } from './config.js';
import type { TrainDataset } from './dataset.js';
import type { ResolvedEncoders } from './encoders.js';
import type { FrozenFeatures } from './features.js';
import { gatherRows, sigmoid, type HeadLayer } from './heads.js';
import type { TrainOps } from './ops.js';
import { fitLinearProbe } from './probe.js';
import type { TestPredictions } from './predictions.js';
import { applyScaling, foldScaling, type FeatureScaling } from './scaling.js';
import type { Task } from './task.js';
import { DistillTask } from './tasks/distill.js';
import { untrainedEncoderNote } from './encoder-provenance.js';
import { evaluateGroups } from './evaluate-groups.js';

export interface RunEvaluation {
  evaluations: MultiLabelEvaluation[];
  sweeps: LabelFractionSweepResult[];
  notes: string[];
  /** The image-only classifier to export: layers on the raw encoder features, and its labels. */
  classifier?: { layers: HeadLayer[]; labels: string[]; source: string };
  /** The test scores behind the classifier's and zero-shot's AUROCs, for predictions.csv. */
  predictions: TestPredictions;
}

/** Probabilities of the exported classifier, one array [rows, labels] per row set, computed by that model itself. */
export type ExportedScorer = (classifier: NonNullable<RunEvaluation['classifier']>, rowSets: Int32Array[]) => Promise<Float32Array[]>;

function labelsOf(dataset: TrainDataset, rows: Int32Array, columns: readonly number[]): Float64Array {
  const L = dataset.labelNames.length;
  const out = new Float64Array(rows.length * columns.length);
  rows.forEach((r, i) => columns.forEach((c, j) => (out[i * columns.length + j] = dataset.labels[r * L + c]!)));
  return out;
}

/** Default zero-shot labels: label columns with a known phrase (CheXpert observations or eval.phrases). */
export function zeroShotLabels(config: TrainConfig, dataset: TrainDataset): string[] {
  if (config.eval.zeroShotLabels) return config.eval.zeroShotLabels;
  const known = new Set(CHEXPERT_OBSERVATIONS.map((o) => o.label));
  return dataset.labelNames.filter((l) => known.has(l) || config.eval.phrases[l] !== undefined);
}

export async function evaluateRun(
  config: TrainConfig,
  dataset: TrainDataset,
  features: FrozenFeatures,
  encoders: ResolvedEncoders,
  task: Task,
  ops: TrainOps,
  buffer: Float32Array,
  scaling?: { image: FeatureScaling; text?: FeatureScaling },
  /** The encoder's own (unstandardised) image features, for the linear probe. */
  rawImage: Float32Array = features.image,
  scoreExported?: ExportedScorer,
): Promise<RunEvaluation> {
  const test = dataset.indices('test');
  const val = dataset.indices('val');
  const notes: string[] = [];
  const evaluations: MultiLabelEvaluation[] = [];
  if (test.length === 0)
    return { evaluations, sweeps: [], notes: ['The manifest has no test split; nothing was evaluated.'], predictions: { rows: test } };
  // each arm's test scores, copied as evaluated (forward passes may reuse their buffers)
  const testScores = new Map<string, Float64Array>();
  const allColumns = dataset.labelNames.map((_, i) => i);
  const common = { uncertain: config.data.uncertain, level: config.eval.level, thresholdMetric: config.eval.thresholdMetric } as const;
  const evaluateScores = (
    name: string,
    labelNames: string[],
    columns: number[],
    scores: ArrayLike<number>,
    validation?: ArrayLike<number>,
  ): MultiLabelEvaluation => {
    testScores.set(name, Float64Array.from(scores));
    return evaluateMultiLabel({
      name,
      labelNames,
      scores,
      labels: labelsOf(dataset, test, columns),
      validation: validation ? { scores: validation, labels: labelsOf(dataset, val, columns) } : undefined,
      ...common,
    });
  };
  const evaluate = (
    name: string,
    labelNames: string[],
    columns: number[],
    score: (rows: Int32Array) => ArrayLike<number>,
  ): MultiLabelEvaluation => {
    // copied before the validation pass, which may reuse the forward buffer
    const scores = Float64Array.from(score(test));
    return evaluateScores(name, labelNames, columns, scores, val.length > 0 ? score(val) : undefined);
  };

  let zeroShot: TestPredictions['zeroShot'];
  const heads = task.projections;
  if (heads && config.eval.zeroShot && encoders.text) {
    const labels = zeroShotLabels(config, dataset);
    if (labels.length === 0)
      notes.push('Zero-shot skipped: no label column has a known phrase; name them in eval.phrases or eval.zeroShotLabels.');
    else {
      const missing = labels.filter((l) => !dataset.labelNames.includes(l));
      if (missing.length > 0) notes.push(`Zero-shot labels not among the label columns were skipped: ${missing.join(', ')}.`);
      const usable = labels.filter((l) => dataset.labelNames.includes(l));
      const prompts = makeLabelPrompts(usable, { phrases: config.eval.phrases });
      const P = config.head.projectionDim;
      const classifier = await buildZeroShotClassifier(prompts, async (texts) => {
        const out = await encoders.text!.encode(texts);
        const x = scaling?.text ? applyScaling(out.data, features.textDim, scaling.text) : out.data;
        return heads.textHead.forward(x, texts.length, { buffer, keep: false });
      });
      const project = (rows: Int32Array): Float32Array =>
        heads.imageHead.forward(gatherRows(features.image, features.imageDim, rows), rows.length, { buffer, keep: false });
      evaluations.push(
        evaluate(
          'zero-shot',
          usable,
          usable.map((l) => dataset.labelNames.indexOf(l)),
          (rows) => classifier.score(project(rows)),
        ),
      );
      zeroShot = { labels: usable, scores: testScores.get('zero-shot')! };
      notes.push(
        `Zero-shot: p(c|x) = softmax over the cosine similarities to positive and negative prompts (template ensembles, ${prompts[0]!.positive.length} templates per side), in the ${P}-dimensional projection space.`,
      );
    }
  }

  const untrained = untrainedEncoderNote(config, Boolean(encoders.text));
  if (untrained) notes.push(untrained);

  let exported: RunEvaluation['classifier'];
  // the report's name of the exported classifier's evaluation
  let exportedArm: string | undefined;
  const head = task.classifier;
  if (head) {
    const name = task instanceof DistillTask ? 'distilled student (image only)' : `${config.head.kind} head (supervised)`;
    const L = head.labels.length;
    const predict = (rows: Int32Array): Float32Array =>
      head.head.forward(gatherRows(features.image, features.imageDim, rows), rows.length, { buffer, keep: false }).map(sigmoid);
    evaluations.push(evaluate(name, head.labels, allColumns, predict));
    const layers = head.head.layers(buffer);
    exported = { layers: scaling ? foldScaling(layers, scaling.image) : layers, labels: head.labels, source: name };
    exportedArm = name;
    if (task instanceof DistillTask) {
      evaluations.push(
        evaluate('teacher (sees the report)', head.labels, allColumns, (rows) =>
          task.teacher.forward(task.teacherInput(rows), rows.length, { buffer, keep: false }).map(sigmoid),
        ),
      );
      notes.push(
        `Distillation: λ = ${config.distill.lambda}, τ = ${config.distill.temperature}, teacher input: ${config.distill.teacherInput}; the teacher row is a reference (it reads the report at test time).`,
      );
    }
    if (L === 0) exported = exportedArm = undefined;
  }

  if (config.eval.linearProbe && dataset.labelNames.length > 0) {
    const rows = dataset.indices('train').filter((r) => dataset.labelled[r] === 1);
    // the probe standardises its own inputs (folded into its weights), so it takes the raw features
    const raw = rawImage;
    const probe = fitLinearProbe(raw, features.imageDim, dataset, rows, ops, {
      steps: config.eval.probeSteps,
      lr: config.eval.probeLr,
      weightDecay: 1e-4,
      seed: config.seed,
      uncertain: config.data.uncertain,
    });
    const arm = 'linear probe (image features)';
    evaluations.push(evaluate(arm, dataset.labelNames, allColumns, (r) => probe.predict(raw, r)));
    notes.push(
      `Linear probe: logistic regression on standardised image-encoder features (the encoder as this run left it, held fixed for the probe), ${rows.length} training studies (label fraction ${config.data.labelFraction}), ${config.eval.probeSteps} full-batch AdamW steps; thresholds chosen on validation (${config.eval.thresholdMetric}).`,
    );
    if (!exported) {
      exported = { layers: [probe.layer], labels: dataset.labelNames, source: 'linear probe' };
      exportedArm = arm;
    }
  }

  const sweeps: LabelFractionSweepResult[] = [];
  if (config.eval.sweep && dataset.labelNames.length > 0) {
    const pool = dataset.indices('train');
    const { fractions, seeds } = config.eval.sweep;
    sweeps.push(
      await sweepLabelFractions<Int32Array>({
        arm: 'linear probe (image features)',
        fractions,
        seeds: Array.from({ length: seeds }, (_, i) => config.seed + i),
        poolSize: pool.length,
        poolLabels: labelsOf(dataset, pool, allColumns),
        labelNames: dataset.labelNames,
        fit: async (subset, seed) => {
          const probe = fitLinearProbe(
            rawImage,
            features.imageDim,
            dataset,
            Int32Array.from(subset, (i) => pool[i]!),
            ops,
            {
              steps: config.eval.probeSteps,
              lr: config.eval.probeLr,
              weightDecay: 1e-4,
              seed,
              uncertain: config.data.uncertain,
            },
          );
          return { predict: (rows: Int32Array) => probe.predict(rawImage, rows) };
        },
        test: { inputs: test, labels: labelsOf(dataset, test, allColumns) },
        validation: val.length > 0 ? { inputs: val, labels: labelsOf(dataset, val, allColumns) } : undefined,
        ...common,
      }),
    );
    notes.push(
      `Label-fraction sweep: linear probes on ${fractions.map((f) => `${f * 100}%`).join(', ')} of the ${pool.length} training studies, ${seeds} seeds each (subsets topped up so every label has a positive and a negative).`,
    );
  }
  if (exported && exportedArm && scoreExported) {
    // the exported model's own probabilities: its report row, thresholds and predictions.csv are
    // then exactly what classifier.onnx computes (the trainer's forward differs in summation order)
    const [onTest, onVal] = await scoreExported(exported, val.length > 0 ? [test, val] : [test]);
    const columns = exported.labels.map((l) => dataset.labelNames.indexOf(l));
    const index = evaluations.findIndex((e) => e.name === exportedArm);
    evaluations[index] = evaluateScores(exportedArm, exported.labels, columns, onTest!, onVal);
    notes.push(`${exportedArm}: scored by the exported classifier.onnx itself (onnxruntime), as radlearn predict scores it.`);
  }
  const exportedScores = exportedArm === undefined ? undefined : testScores.get(exportedArm);
  const predictions: TestPredictions = {
    rows: test,
    ...(exported && exportedArm && exportedScores
      ? { classifier: { source: exportedArm, labels: exported.labels, scores: exportedScores } }
      : {}),
    ...(zeroShot ? { zeroShot } : {}),
  };
  const grouped = evaluateGroups(config, dataset, test, evaluations, testScores);
  if (grouped.length > 0) {
    evaluations.push(...grouped);
    notes.push(
      `"<arm> · ${config.eval.groupBy} <value>": the arm on the test cases of one ${config.eval.groupBy} value, at the thresholds chosen on the whole validation split.`,
    );
  }
  return { evaluations, sweeps, notes, classifier: exported, predictions };
}
