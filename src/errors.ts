/**
 * Every error radlearn throws on purpose is a RadlearnError with a stable `code`
 * (callers branch on the code, never on the message) and a message that names the
 * file, field or shape involved and says what was expected.
 */
export class RadlearnError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A tensor or buffer whose size or shape does not match what the operation needs. */
export class ShapeError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_SHAPE', message, details);
  }
}

/** An option or argument with an invalid value (NaN, negative size, unknown enum value...). */
export class InvalidArgumentError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_INVALID_ARGUMENT', message, details);
  }
}

/** A file the caller named does not exist or cannot be read. */
export class MissingFileError extends RadlearnError {
  constructor(path: string, what: string) {
    super('ERR_MISSING_FILE', `${what} not found at ${path}`, { path });
  }
}
