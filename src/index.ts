/**
 * radlearn's public API. The CLI uses nothing a user cannot import from here.
 * Each layer adds its own line; keep them grouped by layer.
 */

// errors
export * from './errors.js';
export { radlearnVersion } from './package-info.js';

// native runtime and kernels
export * from './native/index.js';
export * from './kernels/index.js';

// data layer: DICOM, images, cache, reports
export * from './data/index.js';

// evaluation: metrics with CIs, zero-shot, kNN, label-fraction sweeps, reports
export * from './eval/index.js';

// onnx graphs (builder, parameters, built-in encoders) and encoders over onnxruntime-node
export * from './onnx/index.js';
export * from './encoders/index.js';

// training (heads on frozen encoders, checkpoints, events) and export of one ONNX classifier
export * from './train/index.js';
export * from './train/study/index.js';
export * from './export/index.js';
