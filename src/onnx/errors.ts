import { RadlearnError } from '../errors.js';

/** A graph that cannot be built as asked: unknown value, duplicate name, bad attribute. */
export class OnnxGraphError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_ONNX_GRAPH', message, details);
  }
}

/** A model file or ModelProto that radlearn cannot read or use (corrupt bytes, external data, wrong types). */
export class OnnxModelError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('ERR_ONNX_MODEL', message, details, options);
  }
}

/** A flat parameter buffer or parameter selection that does not match the model's initializers. */
export class ParameterLayoutError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_PARAMETER_LAYOUT', message, details);
  }
}
