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

/**
 * A float32 result that overflowed: every input was finite, but the kernel's float32 arithmetic
 * produced NaN or infinity (huge inputs, scale or a tiny temperature).
 */
export class NonFiniteResultError extends RadlearnError {
  constructor(op: string, name: string, index: number, value: number) {
    super(
      'ERR_NONFINITE_RESULT',
      `${op}: ${name}${index >= 0 ? `[${index}]` : ''} came out ${value} from finite inputs: float32 overflowed. ` +
        'Scale the inputs down (normalise embeddings, lower the scale, raise the temperature)',
      { op, name, index },
    );
  }
}

/** Memory for a buffer of the requested size could not be allocated. */
export class OutOfMemoryError extends RadlearnError {
  constructor(what: string, bytes: number, cause?: unknown) {
    super('ERR_OUT_OF_MEMORY', `could not allocate ${bytes} bytes for ${what}`, { what, bytes }, { cause });
  }
}

/** new Float32Array(length), or OutOfMemoryError naming what the buffer was for. */
export function allocateFloat32(length: number, what: string): Float32Array {
  try {
    return new Float32Array(length);
  } catch (error) {
    if (error instanceof RangeError) throw new OutOfMemoryError(what, length * 4, error);
    throw error;
  }
}

/** A short, safe description of any value for an error message (BigInts, cycles and typed arrays included). */
export function describeValue(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  switch (typeof value) {
    case 'bigint':
      return `the BigInt ${value}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return 'a function';
    default:
      break;
  }
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    // BigInts inside, or cycles
  }
  return Array.isArray(value) ? `an array of length ${value.length}` : Object.prototype.toString.call(value);
}
