import { RadlearnError } from '../../errors.js';

/**
 * Every DICOM failure radlearn detects. `code` is stable; the message names the
 * file (when known) and what was wrong.
 *
 * Codes: ERR_DICOM_NOT_DICOM (garbage / no dataset), ERR_DICOM_TRUNCATED,
 * ERR_DICOM_NO_PIXEL_DATA, ERR_DICOM_DICOMDIR, ERR_DICOM_UNSUPPORTED_SYNTAX,
 * ERR_DICOM_PIXEL_LENGTH (rows×columns×frames disagrees with the data),
 * ERR_DICOM_BAD_ATTRIBUTE (missing or impossible Rows, BitsAllocated, ...),
 * ERR_DICOM_DECODE (a codec rejected the compressed frame), ERR_DICOM_FRAME_RANGE,
 * ERR_DICOM_TOO_LARGE (a frame above MAX_FRAME_PIXELS, refused before decoding),
 * ERR_DICOM_BAD_SPEC (writer input).
 */
export class DicomError extends RadlearnError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }

  /** Same error, with the file path prefixed to the message and added to details. */
  withPath(path: string | undefined): DicomError {
    if (path === undefined || this.details.path !== undefined) return this;
    return new DicomError(this.code, `${path}: ${this.message}`, { ...this.details, path }, { cause: this.cause });
  }
}
