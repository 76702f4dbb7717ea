import { describe, expect, it } from 'vitest';
import * as radlearn from '../../../src/index.js';

// Names that exist inside the library but are deliberately kept out of the package entry.
const INTERNAL = [
  'mix32',
  'hashKeys',
  'hashString',
  'hashUniform',
  'Rng',
  'splitmix32',
  'describeValue',
  'allocateFloat32',
  'resolveTrainOps',
  'FlatParameters',
  'SegmentedAdamW',
  'TrainableEncoder',
  'cellFingerprint',
  'studyCells',
  'decodeJpegDct',
  'encodeJpegDct',
  'encodeJpegLossless',
  'decodeRle',
  'encodeRle',
  'preprocessImage',
  'resolveInputs',
  'CUE_RULES',
  'MENTION_RULES',
  'samplePatient',
  'renderPhantom',
  'makeTensorProto',
  'serializeModel',
  'gradientRules',
];

const ENTRY_POINTS = [
  'train',
  'loadTrainConfig',
  'generatePhantom',
  'loadManifest',
  'splitByPatient',
  'readDicom',
  'readImage',
  'buildImageCache',
  'openImageCache',
  'labelReport',
  'parseReport',
  'GraphBuilder',
  'onnxLayers',
  'differentiate',
  'TrainingSession',
  'ImageEncoder',
  'TextEncoder',
  'contrastiveLoss',
  'dinoLoss',
  'augment',
  'AdamW',
  'aurocWithCI',
  'evaluateMultiLabel',
  'runStudy',
  'exportClassifier',
  'backendInfo',
  'RadlearnError',
  // report mining
  'vectorize',
  'fitLda',
  'fitTopics',
  'readTopicModel',
  'loadContrastiveRun',
  'matchSentences',
  'recallAtOne',
  // fine-tuning and deployment pieces a training script reaches for
  'splitTrainingGraph',
  'buildResNetEncoder',
  // several processes
  'launchEnvironment',
  'mpiStatus',
  'mpiWorld',
  'singleProcessOnly',
  'ncclStatus',
  'ncclWorld',
  'dataParallel',
  'SINGLE_PROCESS',
  'globalMean',
  'batchMean',
  'buildImageCacheOverRanks',
];

describe('public API', () => {
  it('exposes the documented entry points', () => {
    const api = radlearn as Record<string, unknown>;
    for (const name of ENTRY_POINTS) expect(api[name], name).toBeDefined();
  });

  it('keeps internals out of the package entry', () => {
    const exported = new Set(Object.keys(radlearn));
    expect(INTERNAL.filter((name) => exported.has(name))).toEqual([]);
  });

  it('exports no undefined values (a re-export of a missing name)', () => {
    const missing = Object.entries(radlearn)
      .filter(([, value]) => value === undefined)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });
});
