/**
 * The set-up and wrap-up of the modes that learn from images with their reports or labels
 * (contrastive, supervised, distill on frozen encoders; clip-finetune, supervised-finetune on
 * trainable ones): the dataset, the encoders, the frozen features (cached) or the trainable
 * encoders' task; after training the evaluation on the test split, report.md and the exported
 * classifier.onnx.
 */
import { join } from 'node:path';
import { currentDeviceContext } from '../device/context.js';
import { deviceMeta } from '../device/report.js';
import { readLossCurve } from '../eval/report/lossCurve.js';
import { writeEvalReport } from '../eval/report/writeReport.js';
import { composeClassifier, exportClassifier, type ClassifierThresholds, type ExportClassifierOptions } from '../export/classifier.js';
import { openClassifier } from '../export/load-classifier.js';
import { serializeModel } from '../onnx/model-io.js';
import { classifierPreprocessing } from '../export/preprocessing.js';
import type { TrainConfig } from './config.js';
import { checkTrainData } from './data-check.js';
import { dataSummaryMarkdown } from './data-summary.js';
import { loadTrainDataset, TrainDataError, type TrainDataset } from './dataset.js';
import { resolveEncoders, type ResolvedEncoders } from './encoders.js';
import { configHash } from './config-hash.js';
import { evaluateRun, type ExportedScorer, type RunEvaluation } from './evaluate-run.js';
import { writePredictions } from './predictions.js';
import { buildErrorGallery } from './error-gallery.js';
import { weightsProvenance } from './encoder-provenance.js';
import { computeFeatures, prepareReadable, type FrozenFeatures } from './features.js';
import { openImageReader, trainCacheSettings } from './images.js';
import { ClipFinetuneTask } from './finetune/clip-task.js';
import { SupervisedFinetuneTask } from './finetune/supervised-task.js';
import type { LoopOutcome } from './loop.js';
import type { TrainEvent } from './events.js';
import { stageEmitter, type ModeResults, type ModeSession, type StageEmitter } from './mode-session.js';
import type { TrainOps } from './ops.js';
import type { RunFolder } from './run-folder.js';
import { applyScaling, fitScaling, type FeatureScaling } from './scaling.js';
import type { Task } from './task.js';
import { createFrozenEncoderTask } from './tasks/index.js';

interface Scaling {
  image: FeatureScaling;
  text?: FeatureScaling;
}

/** What the evaluation reads: features on frozen encoders, or the trained encoders' own. */
type Training =
  | { kind: 'frozen'; task: Task; raw: FrozenFeatures; features: FrozenFeatures; scaling?: Scaling }
  | { kind: 'trainable'; task: ClipFinetuneTask | SupervisedFinetuneTask };

/** The report's device rows: the run's setting and each part's device, with the sessions made so far. */
function deviceMetaOfRun(): Record<string, string> {
  const context = currentDeviceContext();
  return context ? deviceMeta(context.plan, context.sessions) : {};
}

/** Frozen features, standardised with the training rows' statistics when head.standardize is set. */
function scaledFeatures(config: TrainConfig, raw: FrozenFeatures, trainRows: Int32Array): { features: FrozenFeatures; scaling?: Scaling } {
  if (!config.head.standardize) return { features: raw };
  const scaling: Scaling = {
    image: fitScaling(raw.image, raw.imageDim, trainRows),
    text: raw.textDim > 0 ? fitScaling(raw.sentences, raw.textDim, null) : undefined,
  };
  // heads see standardised features; evaluation and export apply/fold the same statistics
  return {
    scaling,
    features: {
      ...raw,
      image: applyScaling(raw.image, raw.imageDim, scaling.image),
      sentences: scaling.text ? applyScaling(raw.sentences, raw.textDim, scaling.text) : raw.sentences,
    },
  };
}

async function prepare(
  config: TrainConfig,
  dataset: TrainDataset,
  encoders: ResolvedEncoders,
  ops: TrainOps,
  trainRows: Int32Array,
  stage: StageEmitter,
): Promise<Training> {
  // encoder fine-tuning trains on the images themselves: no frozen features before training
  if (config.mode === 'clip-finetune')
    return { kind: 'trainable', task: await ClipFinetuneTask.create(config, dataset, encoders, ops, stage) };
  if (config.mode === 'supervised-finetune')
    return { kind: 'trainable', task: await SupervisedFinetuneTask.create(config, dataset, encoders, ops, stage) };
  const raw = await computeFeatures(config, dataset, encoders, stage);
  const { features, scaling } = scaledFeatures(config, raw, trainRows);
  return { kind: 'frozen', task: createFrozenEncoderTask(config, dataset, features, ops), raw, features, ...(scaling ? { scaling } : {}) };
}

/** What the grey-input adapter does, for the report. */
function encoderInputText(e: NonNullable<TrainConfig['image']['encoderInput']>): string {
  const list = (v: number[]) => `[${v.map((x) => Number(x.toFixed(4))).join(', ')}]`;
  return `${e.channels} channel(s) from the grey image, mean ${list(e.mean)}, std ${list(e.std)} (from ${e.sidecar})`;
}

/** The exported model's thresholds: its own evaluation's, chosen on validation for its probabilities. */
function exportedThresholds(evaluation: RunEvaluation): ClassifierThresholds | undefined {
  if (!evaluation.classifier) return undefined;
  const { source, labels } = evaluation.classifier;
  const chosen = evaluation.evaluations.find((e) => e.name === source);
  const metric = chosen?.thresholdMetric;
  if (!chosen || (metric !== 'f1' && metric !== 'mcc' && metric !== 'youden')) return undefined;
  return {
    metric,
    chosenOn: 'validation',
    perLabel: Object.fromEntries(labels.map((l, j) => [l, chosen.perLabel[j]?.threshold?.threshold ?? null])),
  };
}

/** What classifier.onnx is made of, except its thresholds (chosen on the model's own validation scores). */
function classifierParts(
  config: TrainConfig,
  encoders: ResolvedEncoders,
  encoderOutput: string,
  classifier: NonNullable<RunEvaluation['classifier']>,
): Omit<ExportClassifierOptions, 'out' | 'thresholds'> {
  return {
    encoder: encoders.imageModel,
    encoderOutput,
    layers: classifier.layers,
    labels: classifier.labels,
    preprocessing: classifierPreprocessing(trainCacheSettings(config), config.image, encoders.image.inputName),
    configHash: configHash(config),
  };
}

/** Rows per classifier run: bounds memory on large test splits; 64 keeps onnxruntime's activations small (512 took twice as long, same values). */
const SCORE_CHUNK = 64;

/**
 * Scores rows with the classifier composed exactly as it will be exported, through onnxruntime,
 * on the same float32 pixels `radlearn predict` computes from the files (the image cache's).
 */
function exportedScorer(config: TrainConfig, dataset: TrainDataset, encoders: ResolvedEncoders, encoderOutput: string): ExportedScorer {
  return async (classifier, rowSets) => {
    const model = composeClassifier(classifierParts(config, encoders, encoderOutput, classifier));
    const session = await openClassifier(serializeModel(model), 'classifier.onnx (as composed for export)');
    const pathsOf = (rows: Int32Array): string[] => Array.from(rows, (r) => dataset.imagePaths[r]!);
    const reader = await openImageReader(config, await prepareReadable(config, rowSets.flatMap(pathsOf)));
    try {
      const buffer = new Float32Array(SCORE_CHUNK * config.image.size * config.image.size);
      const out: Float32Array[] = [];
      for (const rows of rowSets) {
        const scores = new Float32Array(rows.length * classifier.labels.length);
        for (let start = 0; start < rows.length; start += SCORE_CHUNK) {
          const images = reader.read(pathsOf(rows.subarray(start, start + SCORE_CHUNK)), buffer);
          scores.set(await session.predict(images.data), start * classifier.labels.length);
        }
        out.push(scores);
      }
      return out;
    } finally {
      reader.close();
      await session.release();
    }
  };
}

export async function openHeadModeSession(
  config: TrainConfig,
  ops: TrainOps,
  folder: RunFolder,
  emit: (e: TrainEvent) => void,
): Promise<ModeSession> {
  const stage = stageEmitter(emit);
  stage('data', `loading ${config.data.manifest}`);
  const needsText = config.mode !== 'supervised' && config.mode !== 'supervised-finetune';
  const loaded = await loadTrainDataset(config, needsText, (message) => stage('warning', message));
  const { dataset, summary: dataSummary } = await checkTrainData(config, loaded, { runDir: folder.runDir, emit });
  const trainRows = dataset.indices('train');
  if (trainRows.length === 0) throw new TrainDataError(`${config.data.manifest}: no rows in the train split`);
  stage('encoders', `${config.image.model} image encoder${needsText ? `, ${config.text.model} text encoder` : ''}`);
  const encoders = await resolveEncoders(config, folder.runDir, needsText ? Array.from(trainRows, (r) => dataset.reports[r]!) : undefined);
  let training: Training;
  try {
    training = await prepare(config, dataset, encoders, ops, trainRows, stage);
  } catch (error) {
    await encoders.dispose();
    throw error;
  }
  let evalEncoders: ResolvedEncoders | undefined;

  const finish = async (outcome: LoopOutcome, options: { skipEvaluation?: boolean; evalDir?: string }): Promise<ModeResults> => {
    if (outcome.interrupted || options.skipEvaluation) return { evaluations: [] };
    const { task } = training;
    const buffer = outcome.average ?? task.params.data;
    stage('evaluate', 'evaluating on the test split');
    // fine-tuned runs are evaluated on the trained encoders' features
    const inputs =
      training.kind === 'frozen'
        ? { features: training.features, raw: training.raw, encoders, scaling: training.scaling }
        : await training.task
            .evaluationInputs(buffer, stage)
            .then((trained) => ({ features: trained.features, raw: trained.features, encoders: trained.encoders, scaling: undefined }));
    if (training.kind === 'trainable') evalEncoders = inputs.encoders;
    stage('evaluate', 'zero-shot, linear probes and the label-fraction sweep');
    const evaluation = await evaluateRun(
      config,
      dataset,
      inputs.features,
      inputs.encoders,
      task,
      ops,
      buffer,
      inputs.scaling,
      inputs.raw.image,
      config.export ? exportedScorer(config, dataset, inputs.encoders, encoders.image.outputName) : undefined,
    );
    const results: ModeResults = { evaluations: [] };
    for (const ev of evaluation.evaluations) {
      const summary = {
        name: ev.name,
        macroAuroc: ev.macro.auroc,
        perLabel: ev.perLabel.map((l) => ({ label: l.label, auroc: l.auroc, ci: l.aurocCI })),
      };
      results.evaluations.push(summary);
      emit({ type: 'eval', ...summary });
      await outcome.metrics.append([{ type: 'eval', step: outcome.steps, ...summary }]);
    }
    const curves = [await readLossCurve(folder.metricsPath, `${config.mode} loss`, { type: 'step' })];
    const evalDir = options.evalDir ?? folder.runDir;
    const { classifier: predicted, zeroShot } = evaluation.predictions;
    if (evaluation.predictions.rows.length > 0)
      evaluation.notes.push(
        `predictions.csv: per test case, ${[predicted && `prob.<label> of ${predicted.source}`, 'truth.<label> (1, 0, -1 uncertain, empty missing)', zeroShot && 'zeroshot.<label>'].filter(Boolean).join(', ')}: the scores these AUROCs were computed from.`,
      );
    stage('report', `writing the report in ${evalDir}`);
    const thresholds = exportedThresholds(evaluation);
    const errorCases = await buildErrorGallery(config, dataset, evaluation.predictions, thresholds?.perLabel);
    const files = await writeEvalReport(evalDir, {
      title: `radlearn run ${config.name} (${config.mode})`,
      meta: {
        mode: config.mode,
        steps: outcome.steps,
        batchSize: config.batchSize,
        seed: config.seed,
        imageModel: config.image.model,
        imageWeights: weightsProvenance(config.image.model),
        ...(config.image.encoderInput ? { imageEncoderInput: encoderInputText(config.image.encoderInput) } : {}),
        textModel: needsText ? config.text.model : 'none',
        ...(needsText ? { textWeights: weightsProvenance(config.text.model) } : {}),
        imageSize: config.image.size,
        trainStudies: trainRows.length,
        testStudies: dataset.indices('test').length,
        backend: ops.backend,
        ...deviceMetaOfRun(),
        featureCache: inputs.raw.fromCache ? 'hit' : 'computed',
        standardized: Boolean(inputs.scaling),
      },
      sections: [{ title: 'Data', markdown: dataSummaryMarkdown(dataSummary) }],
      evaluations: evaluation.evaluations,
      sweeps: evaluation.sweeps,
      lossCurves: curves,
      notes: evaluation.notes,
      ...(errorCases ? { errorCases } : {}),
    });
    results.reportPath = files.markdown;
    results.reportJsonPath = files.json;
    results.reportHtmlPath = files.html;
    if (evaluation.predictions.rows.length > 0)
      results.predictionsPath = await writePredictions(join(evalDir, 'predictions.csv'), dataset, evaluation.predictions);
    if (config.export && evaluation.classifier) {
      const exported = exportClassifier({
        ...classifierParts(config, inputs.encoders, encoders.image.outputName, evaluation.classifier),
        out: join(evalDir, 'classifier.onnx'),
        ...(thresholds ? { thresholds } : {}),
      });
      results.classifierPath = exported.path;
      stage('export', `classifier.onnx (${evaluation.classifier.source}) written to ${exported.path}`);
    }
    return results;
  };

  return {
    task: training.task,
    finish,
    async release() {
      if (training.kind === 'trainable') await training.task.release();
      await evalEncoders?.dispose();
      await encoders.dispose();
    },
  };
}
