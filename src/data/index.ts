// data layer barrel: each area appends its own lines.

// images: DICOM
export { writeDicom, writeDicomFile, writeEncapsulatedDicom, type DicomWriteSpec } from './dicom/write.js';
export { DicomError } from './dicom/errors.js';
export { MAX_FRAME_PIXELS } from './dicom/limits.js';
export { TransferSyntax, transferSyntaxName, isEncapsulatedSyntax, type TransferSyntaxUID } from './dicom/syntax.js';
export { readDicom, readDicomHeader, type ReadDicomOptions } from './dicom/read.js';
export type { DicomImage, ToImageOptions, WindowOption } from './dicom/image.js';
export type { StoredArray } from './dicom/stored.js';
export type { VoiFunction, WindowSpec } from './dicom/lut.js';
export { encodeDicom, type EncodeOptions } from './dicom/encapsulate.js';
export { encodeRle, decodeRle } from './dicom/rle.js';
export { encodeJpegLossless, type JpegLosslessOptions } from './dicom/jpegLosslessEncode.js';
export { encodeJpegDct, type JpegDctOptions } from './dicom/jpegDctEncode.js';
export { decodeJpegDct, type DctImage } from './dicom/jpegDct.js';

// images: PNG/JPEG
export { readImage, readAnyImage, sniffFormat, ImageError, type ImageFormat } from './image/read.js';
export { encodePngImage, writePngImage, type WritePngOptions } from './image/write.js';

// images: resize
export { resizeImage, targetShape, padToSquare, type ResizeFilter, type ResizeFit } from './resize/resize.js';

// images: preprocessed cache
export { buildImageCache, type BuildImageCacheOptions, type CacheBuildEvent, type CacheBuildSummary } from './cache/build.js';
export { openImageCache, type ImageCache, type CacheBatch, type CachePixels, type OpenImageCacheOptions } from './cache/reader.js';
export { CacheError, type CacheEntry, type CacheFailure, type CacheIndex } from './cache/format.js';
export { preprocessImage, type CacheDtype, type PreprocessSettings, type CachedImageMeta } from './cache/preprocess.js';
export { resolveInputs } from './cache/manifest.js';

// reports, labels, sampling, manifests, phantom dataset
export { Rng, hashKeys, hashString, hashUniform, mix32 } from '../random/index.js';
export * from './reports/index.js';
export * from './labeler/index.js';
export * from './sampling/index.js';
export * from './manifest/index.js';
export * from './phantom/index.js';
