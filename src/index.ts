/**
 * radlearn's public API, grouped by layer. Everything a user needs is named here;
 * anything not listed is internal and may change without notice. docs/api.md describes each group.
 */

// Errors shared by every layer
export { InvalidArgumentError, MissingFileError, NonFiniteResultError, OutOfMemoryError, RadlearnError, ShapeError } from './errors.js';
export { radlearnVersion } from './package-info.js';

// Native runtime: backends, threads, device tensors, tracing
export { DeviceTensor, isDeviceTensor } from './kernels/tensor.js';
export {
  backendInfo,
  setThreads,
  type AddonBuildInfo,
  type AddonInfo,
  type AddonSource,
  type BackendInfo,
  type DeviceInfo,
} from './native/backend.js';
export {
  BackendUnavailableError,
  BufferDetachedError,
  CudaError,
  NativeLoadError,
  PrebuiltVersionError,
  TensorDisposedError,
  TensorInUseError,
  type LoadAttempt,
} from './native/errors.js';
export { startTrace, traceSpan, writeTrace } from './native/trace.js';
export { type DType as DeviceDType } from './native/types.js';

// Device: where a run's onnxruntime sessions and kernels execute, and what ran where
export { DeviceUnavailableError } from './device/errors.js';
export { onnxruntimeProviderStatus, type ProviderStatus } from './device/onnxruntime-providers.js';
export {
  describeDevicePlan,
  probeOnnxruntimeCuda,
  resolveDevicePlan,
  type CudaAvailability,
  type DevicePlan,
  type DeviceProbes,
  type PartPlan,
} from './device/plan.js';
export { profilePlacement, summarizePlacement, type NodePlacement } from './device/placement.js';
export { type DeviceReport } from './device/report.js';
export { type SessionRecord } from './device/context.js';
export { DEVICE_SETTINGS, type Device, type DeviceSetting } from './device/setting.js';

// Kernels: contrastive, similarity, heads, losses, self-distillation, augmentation, optimizer
export { type Range as AugmentRange, type AugmentSpec, type CropSpec, type MaskSpec } from './kernels/augment-spec.js';
export {
  augment,
  augmentParams,
  augmentSync,
  halfBitsToFloat32,
  type AugmentGroupResult,
  type AugmentOptions,
  type AugmentResult,
  type AugmentViewParams,
  type ImageBatch,
  type SourceImage,
} from './kernels/augment.js';
export { contrastiveLoss, contrastiveLossSync, type ContrastiveOptions, type ContrastiveResult } from './kernels/contrastive.js';
export {
  dinoLoss,
  dinoLossSync,
  emaTeacherUpdate,
  emaTeacherUpdateSync,
  ibotLoss,
  ibotLossSync,
  koleoLoss,
  koleoLossSync,
  sinkhornKnopp,
  sinkhornKnoppSync,
  updateCenter,
  updateCenterSync,
  type DinoLossOptions,
  type DistillLossResult,
  type EmaTeacherUpdateOptions,
  type IbotLossOptions,
  type KoleoLossOptions,
  type MaskTensor,
  type SinkhornKnoppOptions,
  type TeacherNormalization,
  type TeacherTargetOptions,
  type UpdateCenterOptions,
} from './kernels/distill.js';
export {
  gelu,
  geluBackward,
  geluBackwardSync,
  geluSync,
  linearBackward,
  linearBackwardSync,
  linearForward,
  linearForwardSync,
  type ElementwiseOptions,
  type LinearBackwardOptions,
  type LinearForwardOptions,
  type LinearGradients,
  type LinearShape,
} from './kernels/heads.js';
export {
  bceWithLogits,
  bceWithLogitsSync,
  ordinalLoss,
  ordinalLossSync,
  ordinalPredict,
  softmaxCrossEntropy,
  softmaxCrossEntropySync,
  type BceWithLogitsOptions,
  type LossOutput,
  type OrdinalLossOptions,
  type SoftmaxCrossEntropyOptions,
  type UncertainLabelPolicy,
} from './kernels/losses.js';
export { type FloatTensor, type KernelCallOptions } from './kernels/operands.js';
export {
  AdamW,
  NonFiniteGradientError,
  adamwStep,
  adamwStepSync,
  emaUpdate,
  emaUpdateSync,
  gradNorm,
  gradNormSync,
  type AdamWHyperparameters,
  type AdamWMoments,
  type AdamWOptions,
  type AdamWState,
  type AdamWStepOptions,
  type AdamWStepResult,
} from './kernels/optim.js';
export {
  l2Normalize,
  l2NormalizeBackward,
  l2NormalizeBackwardSync,
  l2NormalizeSync,
  similarity,
  similaritySync,
  type L2NormalizeOptions,
  type SimilarityOptions,
} from './kernels/similarity.js';

// Data: DICOM
export { encodeDicom, type EncodeOptions } from './data/dicom/encapsulate.js';
export { DicomError } from './data/dicom/errors.js';
export { SATURATED_WINDOW_FRACTION, type DicomImage, type ToImageOptions, type WindowOption } from './data/dicom/image.js';
export { MAX_FRAME_PIXELS } from './data/dicom/limits.js';
export { type VoiFunction, type WindowSpec } from './data/dicom/lut.js';
export { readDicom, readDicomHeader, type ReadDicomOptions } from './data/dicom/read.js';
export { type StoredArray } from './data/dicom/stored.js';
export { TransferSyntax, isEncapsulatedSyntax, transferSyntaxName, type TransferSyntaxUID } from './data/dicom/syntax.js';
export { writeDicom, writeDicomFile, writeEncapsulatedDicom, type DicomWriteSpec } from './data/dicom/write.js';

// Data: images and resizing
export { readImageInfo, type ImageInfo } from './data/image/info.js';
export { describeIccProfile, pngIccProfile, type IccProfileInfo } from './data/image/icc-profile.js';
export { ImageError, readAnyImage, readImage, sniffFormat, type ImageFormat, type ReadImageOptions } from './data/image/read.js';
export { encodePngImage, writePngImage, type WritePngOptions } from './data/image/write.js';
export { resizeImage, type ResizeFilter, type ResizeFit } from './data/resize/resize.js';

// Data: preprocessed image cache
export { buildImageCache, type BuildImageCacheOptions, type CacheBuildEvent, type CacheBuildSummary } from './data/cache/build.js';
export { buildImageCacheOverRanks } from './data/cache/ranks.js';
export { CacheError, type CacheEntry, type CacheFailure, type CacheIndex } from './data/cache/format.js';
export { type CacheDtype, type CachedImageMeta } from './data/cache/preprocess.js';
export { openImageCache, type CacheBatch, type CachePixels, type ImageCache, type OpenImageCacheOptions } from './data/cache/reader.js';

// Data: manifests and splits
export { CsvError, formatCsv, parseCsv } from './data/manifest/csv.js';
export { buildManifest, loadManifest, type LoadManifestOptions, type ManifestColumnNames } from './data/manifest/load.js';
export {
  findDuplicateImages,
  resolveDuplicateSplits,
  type FindDuplicatesOptions,
  type HashScanStats,
  type ResolveSplitsOptions,
} from './data/manifest/duplicates.js';
export { labelFraction, splitByPatient, type FractionOptions, type SplitOptions } from './data/manifest/split.js';
export {
  ManifestError,
  type DuplicateImages,
  type LabelColumn,
  type LabelKind,
  type Manifest,
  type ManifestRow,
  type Split,
} from './data/manifest/types.js';
export { readReportText, writeManifestCsv } from './data/manifest/write.js';

// Data: importing datasets into manifests
export { importCsv, type CsvImportOptions, type LabelerImportOptions } from './data/import/csv.js';
export { parseRowFilter, type RowFilter, type RowFilterInput, type RowFilterOp } from './data/import/filter.js';
export { IMPORT_FORMATS, importDataset, type ImportOptionsFor, type PublicDatasetImportOptions } from './data/import/formats.js';
export {
  formatLabelSpec,
  parseLabelSpec,
  toLabelSpec,
  type LabelMapping,
  type LabelSpec,
  type LabelSpecInput,
  type ThresholdOp,
} from './data/import/label-spec.js';
export { joinReportColumns } from './data/import/report-text.js';
export {
  summarizeImport,
  summaryLines,
  type DropReason,
  type ImportSummary,
  type LabelCounts,
  type SplitSummary,
} from './data/import/summary.js';
export {
  ImportError,
  type CommonImportOptions,
  type DroppedRow,
  type ImportedRow,
  type ImportFormat,
  type ImportResult,
} from './data/import/types.js';
export { viewClass, viewMatches } from './data/import/views.js';
export { writeImportedManifest, type WriteImportedManifestOptions } from './data/import/write.js';

// Data: public dataset importers (published layouts of MIMIC-CXR-JPG, CheXpert, IU X-ray)
export { importChexpert, type ChexpertFile, type ChexpertImportOptions } from './data/import/chexpert.js';
export { importIuXray, type IuXrayImportOptions } from './data/import/iu-xray.js';
export { importMimicCxrJpg, type MimicImportOptions } from './data/import/mimic-cxr-jpg.js';

// Data: reports, sentence sampling and the labeler
export { labelReport, labelSentence } from './data/labeler/label.js';
export { normalizeReportText } from './data/labeler/normalize.js';
export {
  LABELER_UNCERTAIN_POLICIES,
  NOT_MENTIONED_POLICIES,
  applyLabelerPolicy,
  type LabelerPolicy,
  type LabelerUncertainPolicy,
  type NotMentionedPolicy,
} from './data/labeler/policy.js';
export {
  OBSERVATIONS,
  emptyLabels,
  type LabelValue,
  type MentionedObservation,
  type Observation,
  type ReportLabels,
} from './data/labeler/observations.js';
export { parseReport, type ParsedReport, type ReportSentence } from './data/reports/parse.js';
export { type SectionName } from './data/reports/sections.js';
export { DEFAULT_SAMPLE_SECTIONS, sampleSentences, type SampleSentencesOptions } from './data/sampling/sentences.js';

// Data: the built-in phantom
export {
  PHANTOM_GRADE_COLUMN,
  PHANTOM_LABEL_COLUMNS,
  PHANTOM_SITE_COLUMN,
  generatePhantom,
  type GeneratePhantomOptions,
  type PhantomSummary,
} from './data/phantom/generate.js';
export { PHANTOM_SITES, type PhantomSite } from './data/phantom/truth.js';
export { writePhantomContactSheet, type ContactSheet, type ContactSheetOptions } from './data/phantom/contact-sheet.js';
export { PHANTOM_OBSERVATIONS } from './data/phantom/report.js';

// ONNX graphs: builder, models, parameters, autodiff
export { attr as onnxAttr, type Attr as OnnxAttr } from './onnx/attributes.js';
export { differentiate, type DifferentiateOptions, type TrainingGraph } from './onnx/autodiff/differentiate.js';
export { AutodiffError, UnsupportedOperatorError } from './onnx/autodiff/errors.js';
export { TrainingSession, type TrainingStepResult } from './onnx/autodiff/session.js';
export { splitTrainingGraph, type SplitTrainingGraph } from './onnx/autodiff/split.js';
export { OnnxGraphError, OnnxModelError, ParameterLayoutError } from './onnx/errors.js';
export {
  GraphBuilder,
  TRAINABLE_METADATA_KEY,
  type BuildOptions,
  type ConvOptions,
  type GemmOptions,
  type GraphBuilderOptions,
  type Dim as GraphDim,
  type Value as GraphValue,
  type PoolOptions,
} from './onnx/graph-builder.js';
export { loadModel, saveModel } from './onnx/model-io.js';
export { inspectModel, type ModelInspection, type ValueSummary } from './onnx/inspect.js';
export { adaptGreyInput, type GreyInputAdapter } from './onnx/grey-input-adapter.js';
export { checkInferenceForm, trainingModeNodes, ModelFormError, EVAL_EXPORT_CALL } from './onnx/inference-form.js';
export { ENCODER_METADATA_KEY } from './onnx/models/config.js';
export * as onnxLayers from './onnx/models/layers.js';
export { buildResNetEncoder, defaultResNetConfig, type BuiltEncoder, type ResNetEncoderConfig } from './onnx/models/resnet.js';
export { buildTextTransformer, defaultTextTransformerConfig, type TextTransformerConfig } from './onnx/models/text-transformer.js';
export { buildViTEncoder, defaultViTConfig, type ViTEncoderConfig } from './onnx/models/vit.js';
export {
  listParameters,
  parameterFeeds,
  parametersAsInputs,
  readParameters,
  writeParameters,
  type ParameterInfo,
  type ParameterLayout,
  type ParameterSelector,
} from './onnx/parameters.js';
export { type ModelProto } from './onnx/proto.js';

// Encoders and tokenizers over onnxruntime-node
export {
  readEncoderSidecar,
  sidecarPathOf,
  EncoderSidecarError,
  type EncoderSidecar,
  type ImageEncoderSidecar,
  type TextEncoderSidecar,
} from './encoders/sidecar.js';
export { EncoderInputError, EncoderSessionError, TokenizerError } from './encoders/errors.js';
export {
  resolveExecutionProviders,
  type ExecutionProvider,
  type ProviderResolution,
  type ResolveProvidersOptions,
} from './encoders/execution-providers.js';
export { ImageEncoder, type ImageBatch as EncoderImageBatch, type ImageEncoderOptions } from './encoders/image-encoder.js';
export { resolveModel, type ModelSource, type ResolvedModel } from './encoders/model-source.js';
export { TextEncoder, type TextEncoderOptions, type TokenizerSource } from './encoders/text-encoder.js';
export { TextTokenizer, type BatchEncodeOptions, type BatchEncoding } from './encoders/tokenizer/text-tokenizer.js';
export {
  buildWordPieceTokenizer,
  saveTokenizerJson,
  type BuildWordPieceOptions,
  type SpecialTokenNames,
  type TokenizerJson,
} from './encoders/tokenizer/tokenizer-json.js';
export { trainWordPieceVocab, type WordPieceTrainOptions } from './encoders/tokenizer/wordpiece-trainer.js';

// Evaluation: metrics with confidence intervals, zero-shot, kNN, label-fraction sweeps, reports
export { auroc, aurocWithCI, type AurocEstimate, type AurocOptions } from './eval/auroc.js';
export { bootstrapAurocCI, bootstrapCI, type BootstrapOptions, type BootstrapResult } from './eval/bootstrap.js';
export { averagePrecision, prCurve, rocCurve, type PrCurve, type RocCurve } from './eval/curves.js';
export { delongTest, type DelongTestResult } from './eval/delongTest.js';
export {
  compareArms,
  evaluateMultiLabel,
  type ArmComparison,
  type LabelEvaluation,
  type MacroMetrics,
  type MultiLabelEvaluation,
  type MultiLabelEvaluationInput,
} from './eval/evaluate.js';
export { fitKnnMultiClass, fitKnnMultiLabel, type KnnOptions, type KnnPredictor, type KnnWeighting } from './eval/knn.js';
export { selectLabelledCases, type LabelledCases, type RawLabel, type UncertainPolicy } from './eval/labels.js';
export {
  cohenKappa,
  confusionMatrix,
  multiClassMetrics,
  quadraticWeightedKappa,
  type ConfusionMatrix,
  type KappaResult,
  type KappaWeights,
  type MultiClassMetrics,
} from './eval/multiclass.js';
export {
  CHEXPERT_OBSERVATIONS,
  CHEXZERO_TEMPLATES,
  DEFAULT_PROMPT_TEMPLATES,
  chexpertPrompts,
  makeLabelPrompts,
  type LabelPrompts,
  type PromptTemplates,
} from './eval/prompts.js';
export { lossPointsFromJsonl, readLossCurve, type LossCurveOptions } from './eval/report/lossCurve.js';
export { type LossCurve } from './eval/report/plots.js';
export { writeEvalReport, type EvalReportFiles, type EvalReportInput } from './eval/report/writeReport.js';
export { mostConfidentErrors, type ErrorCases } from './eval/report/error-cases.js';
export { renderReportHtml, type ErrorCaseGallery, type LabelErrorCases, type ReportCase } from './eval/report/html.js';
export {
  sweepLabelFractions,
  type LabelFractionSweepOptions,
  type LabelFractionSweepResult,
  type MeanSd,
  type SweepPredictor,
  type SweepRun,
  type SweepRunInfo,
  type SweepSummaryRow,
} from './eval/sweep.js';
export {
  atThreshold,
  chooseThreshold,
  type BinaryCounts,
  type BinaryThresholdMetrics,
  type ThresholdChoice,
  type ThresholdMetric,
} from './eval/threshold.js';
export { buildZeroShotClassifier, ensembleEmbedding, zeroShotScores, type EmbedTexts, type ZeroShotClassifier } from './eval/zeroShot.js';

// Training: configs, runs, heads, checkpoints, events
export {
  TrainConfigError,
  applyOverrides,
  loadTrainConfig,
  parseTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
} from './train/config.js';
export { TrainDataError } from './train/dataset.js';
export { type DinoConfig } from './train/dino/config.js';
export {
  CheckpointDamagedError,
  CheckpointError,
  NonFiniteLossError,
  OutdatedCheckpointError,
  ResumeMismatchError,
  RunExistsError,
  type CheckpointRejection,
} from './train/errors.js';
export {
  type CheckpointEvent,
  type DataEvent,
  type DoneEvent,
  type EvalEvent,
  type StageEvent,
  type StepEvent,
  type TrainEvent,
} from './train/events.js';
export { dataSummaryLines, type DataSummary, type ImageProblem } from './train/data-summary.js';
export { FINETUNE_MODES, type FinetuneConfig } from './train/finetune/config.js';
export { Head, MAX_HEAD_PARAMETERS, createHead, type HeadKind, type HeadLayer, type HeadOptions } from './train/heads.js';
export {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './train/safetensors.js';
export {
  cosineSchedule,
  teacherMomentum,
  teacherTemperature,
  type CosineScheduleOptions,
  type TeacherTemperatureOptions,
} from './train/schedules.js';
export { TrainingRun, train, type TrainOptions, type TrainResult } from './train/train.js';

// Studies
export {
  DOWNSTREAM_ARMS,
  PRETRAINING_ARMS,
  STUDY_PRESETS,
  StudyConfigError,
  parseStudyConfig,
  type DownstreamArm,
  type PretrainingArm,
  type StudyConfig,
  type StudyConfigInput,
} from './train/study/config.js';
export { writeStudyReport, type StudyTableRow } from './train/study/report.js';
export { runStudy, type StudyEvent, type StudyOptions, type StudyResult } from './train/study/run.js';

// Export of one ONNX classifier
export {
  CONFIG_HASH_METADATA_KEY,
  LABELS_METADATA_KEY,
  THRESHOLDS_METADATA_KEY,
  VERSION_METADATA_KEY,
  composeClassifier,
  exportClassifier,
  type ClassifierLayer,
  type ClassifierThresholds,
  type ExportClassifierOptions,
  type ExportedClassifier,
} from './export/classifier.js';
export {
  ClassifierMetadataError,
  PREPROCESSING_METADATA_KEY,
  classifierPreprocessing,
  preprocessForClassifier,
  type ClassifierPreprocessing,
} from './export/preprocessing.js';
export { loadClassifier, readClassifierMetadata, type ClassifierMetadata, type LoadedClassifier } from './export/load-classifier.js';
export {
  collectPredictInputs,
  findImageFiles,
  predictFiles,
  predictionsTable,
  type FilePredictions,
  type PredictFailure,
  type PredictInput,
  type PredictOptions,
} from './export/predict.js';

// Report mining: word counts, LDA topics, image–sentence matching
export { ENGLISH_STOP_WORDS } from './mining/stop-words.js';
export { countTerms, tokenize, vectorize, type DocTermMatrix, type Vectorized, type VectorizeOptions } from './mining/vectorize.js';
export { LdaModel, fitLda, type LdaMethod, type LdaOptions, type LdaSettings } from './mining/lda.js';
export {
  TopicModel,
  fitTopics,
  readTopicModel,
  type Topic,
  type TopicFit,
  type TopicModelJson,
  type TopicOptions,
  type TopicSettings,
  type TopicWord,
} from './mining/topics.js';
export { loadContrastiveRun, type ContrastiveRun } from './mining/contrastive-run.js';
export { cosineScores, matchSentences, type SentenceMatch, type SentenceMatches } from './mining/match-sentences.js';
export { recallAtOne, type RankedReport, type RecallAtOne } from './mining/sentence-recall.js';

// Several processes: the launcher's rank and size, MPI's collectives (Open MPI loaded at run time)
export { launchEnvironment, type LaunchEnvironment, type Launcher } from './distributed/launch.js';
export { DistributedError, mpiStatus, mpiWorld, singleProcessOnly, type Communicator, type MpiStatus } from './distributed/mpi.js';
export { ncclStatus, ncclWorld, type DeviceCommunicator } from './distributed/nccl.js';
export { batchMean, dataParallel, globalMean, SINGLE_PROCESS, type DataParallel } from './distributed/data-parallel.js';
