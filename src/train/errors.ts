import { RadlearnError } from '../errors.js';

/** The loss (or the gradient norm) became NaN or infinite; the last good checkpoint is kept. */
export class NonFiniteLossError extends RadlearnError {
  constructor(readonly step: number, readonly phase: string, readonly value: number, readonly lastCheckpoint: string | undefined) {
    super(
      'ERR_NON_FINITE_LOSS',
      `training stopped at step ${step} (${phase}): the ${Number.isNaN(value) ? 'loss is NaN' : 'loss or gradient norm is not finite'}; ` +
        (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was written before it') +
        '. Lower optim.lr, check the inputs, or enable optim.maxGradNorm.',
      { step, phase, value, lastCheckpoint },
    );
  }
}

/** The run folder already holds a run and neither resume nor overwrite was asked for. */
export class RunExistsError extends RadlearnError {
  constructor(runDir: string) {
    super('ERR_RUN_EXISTS', `run folder ${runDir} already holds checkpoints; resume it (--resume) or start over (--overwrite), or choose another name`, { runDir });
  }
}

/** A resumed run whose configuration differs from the checkpoint's. */
export class ResumeMismatchError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_RESUME_MISMATCH', message, details);
  }
}
