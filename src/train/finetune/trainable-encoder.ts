/**
 * One encoder that trains: its ONNX model differentiated into a training graph (autodiff) plus a
 * forward-only session over the same parameter layout. Parameters are read from, and gradients
 * added into, the run's flat buffers (FlatParameters.data / .grad), where AdamW works.
 *
 * Gradient caching (Gao et al., 2021): embed() runs the forward-only session over the whole batch
 * chunk by chunk without keeping activations; the caller computes the loss on all embeddings at
 * once; backward() then runs the training graph chunk by chunk with that chunk's rows of
 * d loss / d embedding as the upstream gradient, accumulating parameter gradients. Activation
 * memory is bounded by the chunk, whatever the batch. The chunks run in this thread or, given a
 * ChunkPool, several at once on CPU worker threads; either way each chunk's gradient lands in a
 * buffer of its own and the chunks are added in chunk order, so the sum is the same bits.
 *
 * With batch-statistics BatchNorm (finetune.batchNorm: 'batch') both graphs are built from the
 * rewritten model (onnx/batch-norm-training.ts): embed() also fetches every BN node's batch mean
 * and variance and updates the running statistics once per chunk; backward() recomputes the same
 * chunks, so it sees the same batch statistics, and leaves the running statistics alone.
 */
import type * as ort from 'onnxruntime-node';
import { createOrtSession } from '../../device/session-factory.js';
import { differentiate, type TrainingGraph } from '../../onnx/autodiff/differentiate.js';
import { TrainingSession } from '../../onnx/autodiff/session.js';
import { toBatchStatisticsModel } from '../../onnx/batch-norm-training.js';
import { serializeModel } from '../../onnx/model-io.js';
import { trainingGraphIo } from '../../onnx/autodiff/training-io.js';
import { listParameters, parametersAsInputs, readParameters, writeParameters } from '../../onnx/parameters.js';
import type { ModelProto } from '../../onnx/proto.js';
import type { TensorLike } from '../../onnx/tensor.js';
import { TrainDataError } from '../dataset.js';
import type { ChunkPool } from './chunk-pool.js';
import { InProcessGraphs, type EncoderGraphs } from './encoder-graphs.js';
import { runChunksInOrder } from './ordered-chunks.js';
import { RunningStatistics } from './running-statistics.js';

export type ChunkInputs = (start: number, end: number) => Record<string, TensorLike>;

/** finetune.batchNorm: 'batch' settings; absent: inference-form (frozen) BatchNorm. */
export interface BatchStatisticsOptions {
  momentum: number;
}

export class TrainableEncoder {
  /** Wall time spent in onnxruntime forward-only and training runs (ms), for the step metrics. */
  forwardMs = 0;
  backwardMs = 0;

  private constructor(
    readonly model: ModelProto,
    readonly output: string,
    readonly training: TrainingGraph,
    private readonly graphs: EncoderGraphs,
    /** Present in batch-statistics mode when the model has BatchNorm nodes. */
    readonly runningStatistics?: RunningStatistics,
  ) {}

  /**
   * `frozen`: initializer names kept constant. `batchStatistics`: BatchNorm normalises with batch
   * statistics (a model without BatchNorm is unaffected). `pool`: run the chunks on these CPU
   * worker threads instead of in this thread. Throws when the output is not [N, D].
   */
  static async create(
    model: ModelProto,
    output: string,
    frozen: readonly string[],
    what: string,
    batchStatistics?: BatchStatisticsOptions,
    pool?: ChunkPool,
  ): Promise<TrainableEncoder> {
    let trainingSource = model;
    let forwardSource = model;
    let running: RunningStatistics | undefined;
    if (batchStatistics) {
      const exposed = toBatchStatisticsModel(model, { exposeStatistics: true });
      if (exposed.statistics.length > 0) {
        // The training graph needs no statistics outputs: only the forward pass updates them.
        trainingSource = toBatchStatisticsModel(model).model;
        forwardSource = exposed.model;
        running = new RunningStatistics(model, exposed.statistics, batchStatistics.momentum);
      }
    }
    // The source model's parameters: constants the batch-statistics rewrite adds (each node's epsilon)
    // are float initializers too, and a model without radlearn's trainable list would count them.
    const parameters = listParameters(model).parameters.map((p) => p.name);
    const training = differentiate(trainingSource, { parameters, freeze: [...frozen], outputs: [output], modelPath: what });
    if (training.layout.size === 0)
      throw new TrainDataError(
        `${what}: every parameter is frozen; nothing would train (check finetune.freeze / finetune.unfreezeLastBlocks)`,
      );
    const forwardBytes = serializeModel(parametersAsInputs(forwardSource, training.layout));
    const graphs = pool
      ? await pool.open(what, forwardBytes, serializeModel(training.model), trainingGraphIo(training), pool.size)
      : await inProcessGraphs(training, forwardBytes, what);
    return new TrainableEncoder(model, output, training, graphs, running);
  }

  /** Trainable initializers in layout order with their current values (the initial parameters). */
  initialParameters(): Array<{ name: string; shape: number[]; values: Float32Array }> {
    const flat = readParameters(this.model, this.training.layout);
    return this.training.layout.parameters.map((p) => ({
      name: p.name,
      shape: [...p.shape],
      values: flat.subarray(p.offset, p.offset + p.size),
    }));
  }

  /** The trainable parameters' current values in the model, as one flat buffer in layout order. */
  initialParametersFlat(): Float32Array {
    return readParameters(this.model, this.training.layout);
  }

  get size(): number {
    return this.training.layout.size;
  }

  /**
   * Embeddings [rows, D] of `rows` inputs, chunk by chunk, no gradients. With `runningState` (a
   * buffer in runningStatistics' layout) each chunk's batch statistics update it: a training step.
   */
  async embed(
    parameters: Float32Array,
    rows: number,
    chunk: number,
    inputs: ChunkInputs,
    runningState?: Float32Array,
  ): Promise<{ data: Float32Array; dim: number }> {
    const t0 = performance.now();
    const update = runningState && this.runningStatistics;
    const fetch = update ? [this.output, ...update.outputNames()] : [this.output];
    this.graphs.setParameters(parameters);
    const chunks = Math.ceil(rows / chunk);
    const parts: Float32Array[] = [];
    let dim = 0;
    await runChunksInOrder(
      chunks,
      this.graphs.concurrency,
      (c) => this.graphs.forward(inputs(c * chunk, Math.min(rows, (c + 1) * chunk)), fetch),
      (_, result) => {
        // running statistics move chunk by chunk, in order, as in a sequential pass
        if (update) update.update(runningState, result);
        const y = result[this.output]!;
        if (y.dims.length !== 2)
          throw new TrainDataError(
            `encoder output ${this.output} is ${JSON.stringify(y.dims)}; fine-tuning needs [N, D] embeddings (choose an embedding output)`,
            { dims: y.dims },
          );
        dim = Number(y.dims[1]);
        parts.push(y.data as Float32Array);
      },
    );
    const out = new Float32Array(rows * dim);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    this.forwardMs += performance.now() - t0;
    return { data: out, dim };
  }

  /** Adds d loss / d parameters for d loss / d embedding `gradOut` [rows, D] into `gradients` (first chunk overwrites when `overwrite`). */
  async backward(
    parameters: Float32Array,
    gradients: Float32Array,
    rows: number,
    dim: number,
    chunk: number,
    inputs: ChunkInputs,
    gradOut: Float32Array,
    overwrite = false,
  ): Promise<void> {
    const t0 = performance.now();
    if (gradients.length !== this.size)
      throw new TrainDataError(`gradient buffer has ${gradients.length} elements, the encoder's layout needs ${this.size}`, {
        expected: this.size,
        actual: gradients.length,
      });
    this.graphs.setParameters(parameters);
    await runChunksInOrder(
      Math.ceil(rows / chunk),
      this.graphs.concurrency,
      (c, slot) => {
        const s = c * chunk;
        const e = Math.min(rows, s + chunk);
        const upstream = { type: 'float32' as const, data: gradOut.subarray(s * dim, e * dim), dims: [e - s, dim] };
        return this.graphs.train(inputs(s, e), { [this.output]: upstream }, slot);
      },
      // chunk gradients are summed in chunk order, so the sum does not depend on how many ran at once
      (c, _, slot) => {
        const g = this.graphs.slot(slot);
        if (overwrite && c === 0) gradients.set(g);
        else for (let i = 0; i < gradients.length; i++) gradients[i]! += g[i]!;
      },
    );
    this.backwardMs += performance.now() - t0;
  }

  /**
   * A copy of the inference-form model holding `parameters` and, in batch-statistics mode, the
   * running statistics `runningState` (the trained encoder for evaluation and export, like eval()).
   */
  trainedModel(parameters: Float32Array, runningState?: Float32Array): ModelProto {
    const trained = writeParameters(this.model, this.training.layout, parameters);
    return runningState && this.runningStatistics ? this.runningStatistics.write(trained, runningState) : trained;
  }

  release(): Promise<void> {
    return this.graphs.release();
  }
}

/** The encoder's graphs as onnxruntime sessions in this thread, on the run's device. */
async function inProcessGraphs(training: TrainingGraph, forwardBytes: Uint8Array, what: string): Promise<EncoderGraphs> {
  const trainer = await TrainingSession.create(training, { label: `${what}: training graph` });
  let forwardSession: ort.InferenceSession;
  try {
    forwardSession = await createOrtSession(forwardBytes, { label: `${what}: forward graph` });
  } catch (error) {
    await trainer.release();
    throw error;
  }
  return new InProcessGraphs(training.layout, trainer, forwardSession);
}
