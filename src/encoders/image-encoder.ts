import type { TensorLike } from '../onnx/tensor.js';
import { EncoderInputError, EncoderSessionError } from './errors.js';
import { defaultOutput, pick } from './io-names.js';
import type { ModelSource } from './model-source.js';
import { EncoderSession } from './encoder-session.js';
import type { EncoderParameters } from './parameter-binding.js';
import { type Pooling, checkPooling, poolOutput, pooledItemDims } from './pooling.js';
import type { IoMetadata, SessionOptions, SessionRunner } from './session-runner.js';

export interface ImageEncoderOptions extends SessionOptions {
  /**
   * Feed the parameters from one flat Float32Array instead of the model's initializers (the model is
   * rewritten with parameters as inputs). Update the array in place, then call syncParameters().
   */
  parameters?: EncoderParameters;
  /** Image input name (default: the model's only float32 input). */
  input?: string;
  /** Output to return (default: 'embedding', or common export names, or the first output). */
  output?: string;
  /** For [N, T, D] token outputs ('cls' or 'mean') and [N, C, H, W] feature maps ('mean'). Default 'none'. */
  pooling?: Pooling;
  /** Images per onnxruntime run (default 32). */
  batchSize?: number;
}

/** Images as float32 [N, C, H, W] (a TensorLike, or anything with data and dims). */
export type ImageBatch = Pick<TensorLike<Float32Array>, 'data' | 'dims'> & { type?: 'float32' };

/** Batches in flight per worker session: one running, one queued, so transfers overlap compute. */
const IN_FLIGHT = 2;

/**
 * Embeds images with an ONNX model through onnxruntime-node: batched, asynchronous, run in a worker
 * thread by default. Returns float32 [N, D] (or the pooled/unpooled output shape) as { type, data, dims }.
 */
export class ImageEncoder extends EncoderSession {
  readonly inputName: string;
  readonly outputName: string;
  readonly batchSize: number;
  readonly pooling: Pooling;
  private readonly input: IoMetadata;

  private constructor(runner: SessionRunner, input: IoMetadata, output: IoMetadata, batchSize: number, pooling: Pooling) {
    super(runner);
    this.input = input;
    this.inputName = input.name;
    this.outputName = output.name;
    this.batchSize = batchSize;
    this.pooling = pooling;
  }

  static async create(model: ModelSource, options: ImageEncoderOptions = {}): Promise<ImageEncoder> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new EncoderInputError(`batchSize must be a positive integer, got ${batchSize}`);
    const pooling = options.pooling ?? 'none';
    checkPooling(pooling);
    return EncoderSession.open(model, options, (runner, info) => {
      let input: IoMetadata;
      if (options.input) input = pick(info.inputs, options.input, 'input', info);
      else {
        const floats = info.inputs.filter((m) => m.type === 'float32');
        if (info.inputs.length !== 1 || floats.length !== 1) {
          throw new EncoderInputError(
            `${info.label} has inputs ${info.inputs.map((m) => `${m.name} (${m.type})`).join(', ')}; name the image input with the 'input' option`,
          );
        }
        input = floats[0]!;
      }
      const output = options.output ? pick(info.outputs, options.output, 'output', info) : defaultOutput(info);
      return new ImageEncoder(runner, input, output, batchSize, pooling);
    });
  }

  /** The model's image input shape, e.g. ['batch', 1, 224, 224] (strings are free dimensions). */
  get inputShape(): readonly (number | string)[] {
    return this.input.shape;
  }

  /** The declared shape of the chosen output, e.g. ['batch', 128]. */
  get outputShape(): readonly (number | string)[] {
    return this.info.outputs.find((m) => m.name === this.outputName)?.shape ?? [];
  }

  async encode(images: ImageBatch): Promise<TensorLike<Float32Array>> {
    this.assertOpen('ImageEncoder');
    const dims = [...images.dims];
    this.checkImages(images.data, dims);
    const n = dims[0]!;
    const per = dims.slice(1).reduce((a, b) => a * b, 1);
    const batches: { start: number; count: number }[] = [];
    for (let start = 0; start < n; start += this.batchSize) batches.push({ start, count: Math.min(this.batchSize, n - start) });

    let result: Float32Array | undefined;
    let itemDims: number[] = [];
    const runBatch = async ({ start, count }: { start: number; count: number }): Promise<void> => {
      // slice() gives the batch its own buffer, which is then moved (not copied) to the worker
      const data = images.data.slice(start * per, (start + count) * per);
      const out = await this.runner.run(
        { [this.inputName]: { type: 'float32', data, dims: [count, ...dims.slice(1)] } },
        { outputNames: [this.outputName], transfer: true },
      );
      const pooled = poolOutput(out[this.outputName]!, this.pooling, this.outputName);
      const size = pooled.data.length / count;
      if (!result) {
        itemDims = pooled.dims.slice(1);
        result = new Float32Array(n * size);
      } else if (pooled.dims.slice(1).join() !== itemDims.join()) {
        throw new EncoderSessionError(
          `${this.info.label}: output ${this.outputName} changed shape between batches (${JSON.stringify(itemDims)} vs ${JSON.stringify(pooled.dims.slice(1))})`,
        );
      }
      result.set(pooled.data, start * size);
    };
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < batches.length) await runBatch(batches[next++]!);
    };
    const lanes = IN_FLIGHT * (this.info.sessions ?? 1);
    await Promise.all(Array.from({ length: Math.min(lanes, batches.length) }, lane));
    if (!result)
      return { type: 'float32', data: new Float32Array(0), dims: [0, ...(pooledItemDims(this.outputShape, this.pooling) ?? [])] };
    return { type: 'float32', data: result, dims: [n, ...itemDims] };
  }

  private checkImages(data: Float32Array, dims: number[]): void {
    if (!(data instanceof Float32Array))
      throw new EncoderInputError(`images must be a Float32Array, got ${(data as object)?.constructor?.name ?? typeof data}`);
    const expected = this.input.shape;
    if (expected.length > 0 && dims.length !== expected.length) {
      throw new EncoderInputError(
        `images have dims ${JSON.stringify(dims)}; ${this.info.label} expects ${JSON.stringify(expected)} for ${this.inputName}`,
        { dims, expected },
      );
    }
    dims.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 0) throw new EncoderInputError(`images have invalid dims ${JSON.stringify(dims)}`, { dims });
      const e = expected[i];
      if (i > 0 && typeof e === 'number' && e > 0 && e !== d) {
        throw new EncoderInputError(
          `images have dims ${JSON.stringify(dims)}; ${this.info.label} expects ${JSON.stringify(expected)} for ${this.inputName} (axis ${i} must be ${e})`,
          { dims, expected },
        );
      }
    });
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new EncoderInputError(`images have ${data.length} values but dims ${JSON.stringify(dims)} need ${size}`, {
        dims,
        length: data.length,
      });
  }
}
