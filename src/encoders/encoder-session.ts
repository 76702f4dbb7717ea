/**
 * What the image and text encoders share: the onnxruntime session runner, the optional binding of
 * its parameters to a flat buffer, and disposal.
 */
import { EncoderInputError, EncoderSessionError } from './errors.js';
import type { ModelSource } from './model-source.js';
import {
  type EncoderParameters,
  type ParameterBinding,
  bindParameters,
  pushParameters,
  withoutParameterInputs,
} from './parameter-binding.js';
import { type SessionInfo, type SessionOptions, type SessionRunner, createSessionRunner } from './session-runner.js';

export abstract class EncoderSession {
  readonly info: SessionInfo;
  protected readonly runner: SessionRunner;
  protected disposed = false;
  protected binding: ParameterBinding | undefined;

  protected constructor(runner: SessionRunner) {
    this.runner = runner;
    this.info = runner.info;
  }

  /**
   * Opens the model's session (with its parameters bound to a flat buffer when `options.parameters`
   * is given) and lets `build` make the encoder from the runner and the session's inputs and
   * outputs (parameter inputs left out). The session is released when `build` throws.
   */
  protected static async open<E extends EncoderSession>(
    model: ModelSource,
    options: SessionOptions & { parameters?: EncoderParameters },
    build: (runner: SessionRunner, info: SessionInfo) => E,
  ): Promise<E> {
    let source: ModelSource = model;
    let binding: ParameterBinding | undefined;
    if (options.parameters) ({ model: source, binding } = bindParameters(model, options.parameters));
    const runner = await createSessionRunner(source, options);
    try {
      if (binding) await pushParameters(runner, binding);
      const encoder = build(runner, withoutParameterInputs(runner.info, binding));
      encoder.binding = binding;
      return encoder;
    } catch (e) {
      await runner.dispose();
      throw e;
    }
  }

  /** Throws once dispose() has run; `kind` names the class in the message. */
  protected assertOpen(kind: string): void {
    if (this.disposed) throw new EncoderSessionError(`${kind} for ${this.info.label} was disposed`);
  }

  /**
   * Makes the session see the current values of the flat parameter buffer. In process this costs
   * nothing (the session reads views of the buffer); a worker session receives one copy.
   */
  async syncParameters(): Promise<void> {
    if (!this.binding)
      throw new EncoderInputError(`${this.info.label} was created without the 'parameters' option; there is nothing to sync`);
    if (this.info.mode === 'worker') await pushParameters(this.runner, this.binding);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.runner.dispose();
  }
}
