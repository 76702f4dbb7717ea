/**
 * radlearn's public API. The CLI uses nothing a user cannot import from here.
 * Each layer adds its own line; keep them grouped by layer.
 */

// errors
export * from './errors.js';

// data layer: DICOM, images, cache, reports
export * from './data/index.js';
