import { RadlearnError } from '../errors.js';

/**
 * The run diverged: the loss or gradient norm became NaN or infinite, or a kernel refused a
 * step whose float32 result would have overflowed (`cause`). The last good checkpoint is kept.
 */
export class NonFiniteLossError extends RadlearnError {
  constructor(
    readonly step: number,
    readonly phase: string,
    readonly value: number,
    readonly lastCheckpoint: string | undefined,
    cause?: RadlearnError,
  ) {
    const what = cause
      ? `a step would overflow float32 (${cause.message})`
      : Number.isNaN(value)
        ? 'the loss is NaN'
        : 'the loss or gradient norm is not finite';
    super(
      'ERR_NON_FINITE_LOSS',
      `training stopped at step ${step} (${phase}): ${what}; ` +
        (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was written before it') +
        '. Lower optim.lr, check the inputs, or enable optim.maxGradNorm.',
      { step, phase, value, lastCheckpoint },
      { cause },
    );
  }
}

/** A kernel's float32 overflow inside a training step means the run diverged: say so as such. */
export function asDivergence(error: unknown, step: number, phase: string, lastCheckpoint: string | undefined): unknown {
  return error instanceof RadlearnError && error.code === 'ERR_NONFINITE_RESULT'
    ? new NonFiniteLossError(step, phase, NaN, lastCheckpoint, error)
    : error;
}

/** The run folder already holds a run and neither resume nor overwrite was asked for. */
export class RunExistsError extends RadlearnError {
  constructor(runDir: string) {
    super(
      'ERR_RUN_EXISTS',
      `run folder ${runDir} already holds checkpoints; resume it (--resume) or start over (--overwrite), or choose another name`,
      { runDir },
    );
  }
}

/** A resumed run whose configuration differs from the checkpoint's. */
export class ResumeMismatchError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_RESUME_MISMATCH', message, details);
  }
}

/** A checkpoint that cannot be used as it is: unknown format, or tensors that do not fit the run's layout. */
export class CheckpointError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_CHECKPOINT', message, details);
  }
}

/** A run folder whose checkpoints an older radlearn wrote in a layout this version does not read. */
export class OutdatedCheckpointError extends RadlearnError {
  constructor(
    readonly runDir: string,
    readonly files: string[],
  ) {
    super(
      'ERR_CHECKPOINT_OUTDATED',
      `run folder ${runDir} holds checkpoints written by an older radlearn (${files.join(', ')}), which this version cannot resume; ` +
        'start the run over with --overwrite, or choose another name',
      { runDir, files },
    );
  }
}

/** Why one checkpoint (or the pointer) was not trusted: the file, and what failed in it. */
export interface CheckpointRejection {
  path: string;
  reason: string;
  /** The damaged tensor or field, when the check can name it. */
  part?: string;
  expected?: string;
  found?: string;
}

/** Every checkpoint of a run folder failed verification: nothing can be resumed safely. */
export class CheckpointDamagedError extends RadlearnError {
  constructor(
    readonly dir: string,
    readonly tried: CheckpointRejection[],
  ) {
    super(
      'ERR_CHECKPOINT_DAMAGED',
      `no intact checkpoint to resume in ${dir}; tried:\n${tried.map((t) => `  - ${t.path}: ${t.reason}`).join('\n')}\n` +
        'start the run over (--overwrite) or restore the checkpoint files from a backup',
      { dir, tried },
    );
  }
}
