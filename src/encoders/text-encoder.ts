import type { TensorLike } from '../onnx/tensor.js';
import { EncoderInputError } from './errors.js';
import { defaultOutput, pick } from './io-names.js';
import { ENCODER_METADATA_KEY } from '../onnx/models/config.js';
import type { ModelSource } from './model-source.js';
import { EncoderSession } from './encoder-session.js';
import type { EncoderParameters } from './parameter-binding.js';
import { type Pooling, checkPooling, poolOutput, pooledItemDims } from './pooling.js';
import type { IoMetadata, SessionOptions, SessionRunner } from './session-runner.js';
import { TextTokenizer } from './tokenizer/text-tokenizer.js';

export interface TextEncoderOptions extends SessionOptions {
  /**
   * Feed the parameters from one flat Float32Array instead of the model's initializers (the model is
   * rewritten with parameters as inputs). Update the array in place, then call syncParameters().
   */
  parameters?: EncoderParameters;
  /**
   * Longest token sequence, special tokens included; longer texts are truncated. Default: the
   * maxLength a radlearn built-in model (given as a ModelProto) was made with, else 128.
   */
  maxLength?: number;
  /** Input names (default: found by name: input_ids, attention_mask, token_type_ids). */
  inputIds?: string;
  attentionMask?: string;
  tokenTypeIds?: string;
  /** Output to return (default 'embedding', 'pooler_output', ... or the first). */
  output?: string;
  /** For [N, T, D] outputs such as last_hidden_state: 'cls' (token 0) or 'mean' over the attention mask. Default 'none'. */
  pooling?: Pooling;
  /** Texts per onnxruntime run (default 64). */
  batchSize?: number;
}

/** A tokenizer, a tokenizer.json path, or a parsed tokenizer.json object. */
export type TokenizerSource = TextTokenizer | string | object;

/**
 * Embeds texts with an ONNX text model: tokenizes (sorting by length so batches carry little padding),
 * runs batches in a worker thread, and returns float32 [N, D] in the input order.
 */
export class TextEncoder extends EncoderSession {
  readonly tokenizer: TextTokenizer;
  readonly maxLength: number;
  readonly batchSize: number;
  readonly pooling: Pooling;
  readonly outputName: string;
  private readonly names: { ids: string; mask?: string; types?: string };

  private constructor(
    runner: SessionRunner,
    tokenizer: TextTokenizer,
    names: { ids: string; mask?: string; types?: string },
    output: IoMetadata,
    o: { maxLength: number; batchSize: number; pooling: Pooling },
  ) {
    super(runner);
    this.tokenizer = tokenizer;
    this.names = names;
    this.outputName = output.name;
    this.maxLength = o.maxLength;
    this.batchSize = o.batchSize;
    this.pooling = o.pooling;
  }

  static async create(model: ModelSource, tokenizer: TokenizerSource, options: TextEncoderOptions = {}): Promise<TextEncoder> {
    const tok =
      tokenizer instanceof TextTokenizer
        ? tokenizer
        : typeof tokenizer === 'string'
          ? TextTokenizer.fromFile(tokenizer)
          : TextTokenizer.fromJSON(tokenizer);
    const declared = declaredTextConfig(model);
    const modelMax = declared.maxLength;
    if (declared.vocabSize !== undefined && tok.vocabSize > declared.vocabSize) {
      throw new EncoderInputError(
        `the tokenizer has ${tok.vocabSize} tokens but the model embeds only ${declared.vocabSize}; rebuild the model with vocabSize ${tok.vocabSize}`,
        { tokenizer: tok.vocabSize, model: declared.vocabSize },
      );
    }
    const maxLength = options.maxLength ?? modelMax ?? 128;
    if (modelMax !== undefined && maxLength > modelMax) {
      throw new EncoderInputError(`maxLength ${maxLength} exceeds the ${modelMax} positions the model was built with`, {
        maxLength,
        modelMax,
      });
    }
    const batchSize = options.batchSize ?? 64;
    const pooling = options.pooling ?? 'none';
    for (const [k, v] of [
      ['maxLength', maxLength],
      ['batchSize', batchSize],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new EncoderInputError(`${k} must be a positive integer, got ${v}`);
    }
    checkPooling(pooling);
    return EncoderSession.open(model, options, (runner, info) => {
      const find = (explicit: string | undefined, pattern: RegExp): string | undefined =>
        explicit !== undefined ? pick(info.inputs, explicit, 'input', info).name : info.inputs.find((m) => pattern.test(m.name))?.name;
      const ids = find(options.inputIds, /input_ids|^ids$|tokens?$/i) ?? info.inputs.find((m) => m.type === 'int64')?.name;
      if (!ids)
        throw new EncoderInputError(
          `${info.label} has no token-id input (inputs: ${info.inputs.map((m) => m.name).join(', ')}); name it with the 'inputIds' option`,
        );
      const mask = find(options.attentionMask, /attention_mask|mask/i);
      const types = find(options.tokenTypeIds, /token_type_ids|segment/i);
      const known = new Set([ids, mask, types]);
      const unknown = info.inputs.filter((m) => !known.has(m.name));
      if (unknown.length > 0) {
        throw new EncoderInputError(
          `${info.label} needs inputs ${unknown.map((m) => m.name).join(', ')} that a text encoder cannot fill (it feeds ids, attention mask and token type ids)`,
        );
      }
      const output = options.output ? pick(info.outputs, options.output, 'output', info) : defaultOutput(info);
      return new TextEncoder(runner, tok, { ids, mask, types }, output, { maxLength, batchSize, pooling });
    });
  }

  async encode(texts: readonly string[]): Promise<TensorLike<Float32Array>> {
    this.assertOpen('TextEncoder');
    if (!Array.isArray(texts)) throw new EncoderInputError('encode expects an array of strings');
    const n = texts.length;
    if (n === 0) {
      const shape = this.info.outputs.find((m) => m.name === this.outputName)?.shape ?? [];
      return { type: 'float32', data: new Float32Array(0), dims: [0, ...(pooledItemDims(shape, this.pooling) ?? [])] };
    }
    const all = this.tokenizer.encodeBatch(texts, { maxLength: this.maxLength });
    const width = all.inputIds.dims[1]!;
    // longest first: the first batch fixes the output size early, similar lengths share a batch
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => all.lengths[b]! - all.lengths[a]! || a - b);
    let result: Float32Array | undefined;
    let itemDims: number[] = [];
    const runBatch = async (start: number): Promise<void> => {
      const rows = order.slice(start, start + this.batchSize);
      const t = Math.max(1, ...rows.map((r) => all.lengths[r]!));
      const ids = new BigInt64Array(rows.length * t);
      const mask = new BigInt64Array(rows.length * t);
      rows.forEach((r, i) => {
        ids.set(all.inputIds.data.subarray(r * width, r * width + t), i * t);
        mask.set(all.attentionMask.data.subarray(r * width, r * width + t), i * t);
      });
      const dims = [rows.length, t];
      const feeds: Record<string, TensorLike> = { [this.names.ids]: { type: 'int64', data: ids, dims } };
      // the mask is still needed for masked mean pooling, so it is copied, not moved, to the worker
      if (this.names.mask) feeds[this.names.mask] = { type: 'int64', data: this.pooling === 'mean' ? mask.slice() : mask, dims };
      if (this.names.types) feeds[this.names.types] = { type: 'int64', data: new BigInt64Array(rows.length * t), dims };
      const out = await this.runner.run(feeds, { outputNames: [this.outputName], transfer: true });
      const pooled = poolOutput(out[this.outputName]!, this.pooling, this.outputName, this.pooling === 'mean' ? mask : undefined);
      const size = pooled.data.length / rows.length;
      if (pooled.dims.length > 2) {
        throw new EncoderInputError(
          `output ${this.outputName} of ${this.info.label} is per token (${JSON.stringify(pooled.dims)}); choose pooling 'mean' or 'cls', or another output`,
        );
      }
      if (!result) {
        itemDims = pooled.dims.slice(1);
        result = new Float32Array(n * size);
      }
      rows.forEach((r, i) => result!.set(pooled.data.subarray(i * size, (i + 1) * size), r * size));
    };
    // one batch at a time per session: with several sessions, each runs its own batches
    const starts: number[] = [];
    for (let start = 0; start < n; start += this.batchSize) starts.push(start);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < starts.length) await runBatch(starts[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.info.sessions ?? 1, starts.length) }, lane));
    return { type: 'float32', data: result!, dims: [n, ...itemDims] };
  }
}

/** Positions and vocabulary stored in a built-in text model's metadata (read from an in-memory ModelProto only). */
function declaredTextConfig(model: ModelSource): { maxLength?: number; vocabSize?: number } {
  if (typeof model === 'string' || model instanceof Uint8Array) return {};
  const raw = model.metadataProps?.find((p) => p.key === ENCODER_METADATA_KEY)?.value;
  if (!raw) return {};
  const c = JSON.parse(raw) as { maxLength?: unknown; vocabSize?: unknown };
  return {
    maxLength: typeof c.maxLength === 'number' ? c.maxLength : undefined,
    vocabSize: typeof c.vocabSize === 'number' ? c.vocabSize : undefined,
  };
}
