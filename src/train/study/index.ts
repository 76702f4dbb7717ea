export { runStudy, type StudyEvent, type StudyOptions, type StudyResult } from './run.js';
export { parseStudyConfig, studyConfigSchema, STUDY_PRESETS, PRETRAINING_ARMS, DOWNSTREAM_ARMS, StudyConfigError, type StudyConfig, type StudyConfigInput, type PretrainingArm, type DownstreamArm } from './config.js';
export { PRETRAINING_PLANS, DOWNSTREAM_PLANS, type PretrainingPlan, type DownstreamPlan } from './arms.js';
export { studyCells, readCell, cellFingerprint, remainingSeconds, formatDuration, type StudyCell, type CellResult } from './cells.js';
export { studyRows, studyTable, studySweeps, writeStudyReport, type StudyTableRow } from './report.js';
export { appendImageProjection } from './pretrain.js';
export { appendDinoHead, DINO_HEAD_PREFIX, type DinoHeadOptions } from '../dino/head.js';
export { dinoSchema, type DinoConfig } from '../dino/config.js';
