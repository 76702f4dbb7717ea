/**
 * One trainable encoder inside a run's flat parameter buffer: its parameters are named
 * `<prefix><initializer>` (prefix `image_encoder.` or `text_encoder.`), followed by its BatchNorm
 * running statistics when finetune.batchNorm is 'batch' (state that AdamW never moves: a zero
 * gradient and no decay). The slot finds its ranges by name, so it holds no offsets of its own.
 */
import type { ModelProto } from '../../onnx/proto.js';
import { listParameters } from '../../onnx/parameters.js';
import type { FlatParameters, ParameterSpec } from '../parameters.js';
import type { ChunkPool } from './chunk-pool.js';
import { frozenParameters } from './selection.js';
import { TrainableEncoder, type BatchStatisticsOptions, type ChunkInputs } from './trainable-encoder.js';

export const IMAGE_PREFIX = 'image_encoder.';
export const TEXT_PREFIX = 'text_encoder.';

export interface SlotSelection {
  /** Compiled finetune.freeze patterns. */
  freeze: readonly RegExp[];
  unfreezeLastBlocks: number | null;
  batchStatistics?: BatchStatisticsOptions;
}

export class EncoderSlot {
  private constructor(
    readonly encoder: TrainableEncoder,
    readonly prefix: string,
  ) {}

  /**
   * Differentiates `model` into its training graph, with the parameters `selection` leaves
   * trainable; its chunks run on `pool`'s worker threads when given.
   */
  static async create(
    model: ModelProto,
    output: string,
    prefix: string,
    what: string,
    selection: SlotSelection,
    pool?: ChunkPool,
  ): Promise<EncoderSlot> {
    const names = listParameters(model).parameters.map((p) => p.name);
    const frozen = frozenParameters(names, { prefix, freeze: selection.freeze, unfreezeLastBlocks: selection.unfreezeLastBlocks });
    return new EncoderSlot(await TrainableEncoder.create(model, output, frozen, what, selection.batchStatistics, pool), prefix);
  }

  /** The slot's entries of the flat buffer: trainable parameters, then running statistics. */
  specs(): ParameterSpec[] {
    const specs: ParameterSpec[] = this.encoder
      .initialParameters()
      .map((p) => ({ name: this.prefix + p.name, shape: p.shape, init: { kind: 'values', values: p.values } }));
    // Running statistics: state in the flat buffer (checkpoints, EMA, resume) that AdamW never
    // moves: their gradient stays zero and they never decay, so each update leaves them as is.
    for (const p of this.encoder.runningStatistics?.initialEntries() ?? [])
      specs.push({ name: this.prefix + p.name, shape: p.shape, init: { kind: 'values', values: p.values }, decay: false });
    return specs;
  }

  /** The trainable parameters in `buffer` (params.data, params.grad or an EMA copy of the same layout). */
  parameters(params: FlatParameters, buffer: Float32Array): Float32Array {
    const start = params.entry(this.prefix + this.encoder.training.layout.parameters[0]!.name).offset;
    return buffer.subarray(start, start + this.encoder.size);
  }

  /** The running statistics in `buffer`; undefined without batch-statistics BatchNorm. */
  statistics(params: FlatParameters, buffer: Float32Array): Float32Array | undefined {
    const running = this.encoder.runningStatistics;
    if (!running || running.size === 0) return undefined;
    const start = params.entry(this.prefix + running.layout.parameters[0]!.name).offset;
    return buffer.subarray(start, start + running.size);
  }

  /** Forward-only embeddings of `rows` inputs with the live parameters (running statistics updated). */
  embed(params: FlatParameters, rows: number, chunk: number, inputs: ChunkInputs): Promise<{ data: Float32Array; dim: number }> {
    return this.encoder.embed(this.parameters(params, params.data), rows, chunk, inputs, this.statistics(params, params.data));
  }

  /** Chunked backward from d loss / d embedding into the slot's gradients (overwritten). */
  backward(params: FlatParameters, rows: number, dim: number, chunk: number, inputs: ChunkInputs, gradOut: Float32Array): Promise<void> {
    return this.encoder.backward(
      this.parameters(params, params.data),
      this.parameters(params, params.grad),
      rows,
      dim,
      chunk,
      inputs,
      gradOut,
      true,
    );
  }

  /** The ordinary inference-form model with the parameters and running statistics of `buffer`. */
  trainedModel(params: FlatParameters, buffer: Float32Array): ModelProto {
    return this.encoder.trainedModel(this.parameters(params, buffer), this.statistics(params, buffer));
  }

  release(): Promise<void> {
    return this.encoder.release();
  }
}
