/**
 * BatchNorm running statistics of an encoder trained with finetune.batchNorm: 'batch'. They are
 * state, not parameters: a flat buffer in the layout of their initializers (mean and variance of
 * every BN node, initializer order), updated from each forward chunk's batch statistics as
 * PyTorch's model.train() does per forward call, and written back into the inference-form model
 * for evaluation and export (PyTorch's eval()).
 */
import type { TensorLike } from '../../onnx/tensor.js';
import { type BatchStatistics, updateRunningStatistics } from '../../onnx/batch-norm-training.js';
import { type ParameterLayout, listParameters, readParameters, writeParameters } from '../../onnx/parameters.js';
import type { ModelProto } from '../../onnx/proto.js';
import { TrainDataError } from '../dataset.js';

export class RunningStatistics {
  readonly layout: ParameterLayout;
  private readonly offsets: Map<string, { offset: number; size: number }>;

  constructor(
    private readonly model: ModelProto,
    readonly statistics: readonly BatchStatistics[],
    readonly momentum: number,
  ) {
    this.layout = listParameters(model, { select: statistics.flatMap((s) => [s.runningMean, s.runningVar]) });
    this.offsets = new Map(this.layout.parameters.map((p) => [p.name, p]));
  }

  get size(): number {
    return this.layout.size;
  }

  /** The graph outputs the forward-only session must fetch. */
  outputNames(): string[] {
    return this.statistics.flatMap((s) => [s.meanOutput, s.varOutput, s.elementsOutput]);
  }

  /** Initializer names, shapes and current values, in layout order (for the run's FlatParameters). */
  initialEntries(): Array<{ name: string; shape: number[]; values: Float32Array }> {
    const flat = readParameters(this.model, this.layout);
    return this.layout.parameters.map((p) => ({ name: p.name, shape: [...p.shape], values: flat.subarray(p.offset, p.offset + p.size) }));
  }

  /** One forward chunk's update of `state` (a buffer in this layout) from the session's outputs. */
  update(state: Float32Array, outputs: Record<string, TensorLike>): void {
    for (const s of this.statistics) {
      const elements = Number((outputs[s.elementsOutput]!.data as BigInt64Array)[0]);
      const count = elements / s.channels;
      // The unbiased variance needs two values per channel; PyTorch refuses such a batch too.
      if (count < 2)
        throw new TrainDataError(
          `BatchNormalization node ${s.node} saw ${count} value per channel in a chunk; batch statistics need at least 2 (raise finetune.chunkSize or the batch size, or use finetune.batchNorm: 'frozen')`,
          { node: s.node, count },
        );
      const view = (name: string): Float32Array => {
        const at = this.offsets.get(name)!;
        return state.subarray(at.offset, at.offset + at.size);
      };
      updateRunningStatistics(
        { mean: view(s.runningMean), var: view(s.runningVar) },
        { mean: outputs[s.meanOutput]!.data as ArrayLike<number>, var: outputs[s.varOutput]!.data as ArrayLike<number> },
        count,
        this.momentum,
      );
    }
  }

  /** A copy of `model` whose running-statistics initializers hold `state`. */
  write(model: ModelProto, state: Float32Array): ModelProto {
    return writeParameters(model, this.layout, state);
  }
}
