/**
 * Where one trainable encoder's graphs run, chunk by chunk: the forward-only graph (embeddings,
 * no activations kept) and the training graph (one chunk's parameter gradients, written into a
 * gradient slot). InProcessGraphs runs them in this thread, one chunk at a time, on the run's
 * device; PooledGraphs (chunk-pool.ts) on CPU worker threads, one chunk per worker at once.
 */
import type * as ort from 'onnxruntime-node';
import type { TrainingSession } from '../../onnx/autodiff/session.js';
import { PrivateFeeds, forwardFeeds, fromOrtTensor } from '../../onnx/autodiff/training-io.js';
import type { ParameterLayout } from '../../onnx/parameters.js';
import type { TensorLike } from '../../onnx/tensor.js';

export interface EncoderGraphs {
  /** Chunks that may run at once; each holds one gradient slot. */
  readonly concurrency: number;
  /** The parameters the following requests read; called with no request in flight. */
  setParameters(parameters: Float32Array): void;
  forward(feeds: Record<string, TensorLike>, fetch: readonly string[]): Promise<Record<string, TensorLike>>;
  /** One chunk's parameter gradients, written over gradient slot `slot`. */
  train(inputs: Record<string, TensorLike>, outputGrads: Record<string, TensorLike>, slot: number): Promise<void>;
  slot(slot: number): Float32Array;
  release(): Promise<void>;
}

export class InProcessGraphs implements EncoderGraphs {
  readonly concurrency = 1;
  private parameters: Float32Array = new Float32Array(0);
  private readonly gradients: Float32Array;
  private readonly privateFeeds = new PrivateFeeds();

  constructor(
    private readonly layout: ParameterLayout,
    private readonly trainer: TrainingSession,
    private readonly forwardSession: ort.InferenceSession,
  ) {
    this.gradients = new Float32Array(layout.size);
  }

  setParameters(parameters: Float32Array): void {
    this.parameters = parameters;
  }

  async forward(feeds: Record<string, TensorLike>, fetch: readonly string[]): Promise<Record<string, TensorLike>> {
    const result = await this.forwardSession.run(forwardFeeds(this.layout, this.parameters, this.privateFeeds.of(feeds)), fetch);
    const outputs: Record<string, TensorLike> = {};
    for (const name of fetch) outputs[name] = fromOrtTensor(result[name]!);
    return outputs;
  }

  async train(inputs: Record<string, TensorLike>, outputGrads: Record<string, TensorLike>): Promise<void> {
    await this.trainer.step({
      parameters: this.parameters,
      gradients: this.gradients,
      inputs: this.privateFeeds.of(inputs),
      outputGrads,
      outputs: [],
    });
  }

  slot(): Float32Array {
    return this.gradients;
  }

  async release(): Promise<void> {
    await this.trainer.release();
    await this.forwardSession.release();
  }
}
