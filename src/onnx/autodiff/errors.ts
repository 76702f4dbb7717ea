import { RadlearnError } from '../../errors.js';

/** An operator on the gradient path that radlearn has no vector-Jacobian product for. */
export class UnsupportedOperatorError extends RadlearnError {
  constructor(opType: string, nodeName: string, modelPath: string, reason?: string) {
    const why = reason ? `: ${reason}` : ' (no gradient rule for this operator)';
    super('ERR_AUTODIFF_UNSUPPORTED_OP', `cannot differentiate ${opType} node ${nodeName} in ${modelPath}${why}`, {
      opType,
      node: nodeName,
      model: modelPath,
    });
  }
}

/** A differentiate() request that does not fit the model: unknown output, name clash, bad selection. */
export class AutodiffError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_AUTODIFF', message, details);
  }
}
