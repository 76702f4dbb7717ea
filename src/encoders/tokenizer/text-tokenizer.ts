import { existsSync, readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { MissingFileError } from '../../errors.js';
import type { TensorLike } from '../../onnx/tensor.js';
import { EncoderInputError, TokenizerError } from '../errors.js';

export interface BatchEncodeOptions {
  /** Longest sequence, special tokens included. */
  maxLength: number;
  /** 'longest' pads to the longest sequence of the batch, 'maxLength' always to maxLength. */
  padding?: 'longest' | 'maxLength';
  /** Cut longer texts to maxLength, keeping the template's special tokens (default true); false throws instead. */
  truncation?: boolean;
  addSpecialTokens?: boolean;
  /** Also return token_type_ids (all 0 for single texts), which BERT exports take as a third input. */
  returnTokenTypeIds?: boolean;
}

/** Token ids and masks as int64 [N, T] tensors, the layout ONNX text encoders take. */
export interface BatchEncoding {
  inputIds: TensorLike<BigInt64Array>;
  attentionMask: TensorLike<BigInt64Array>;
  tokenTypeIds?: TensorLike<BigInt64Array>;
  /** Tokens per text before padding (after truncation). */
  lengths: Int32Array;
  /** How many texts were truncated. */
  truncated: number;
}

const PAD_CANDIDATES = ['[PAD]', '<pad>', '<|pad|>', '<|endoftext|>'];

/**
 * Any Hugging Face tokenizer.json, loaded offline through @huggingface/tokenizers, with the
 * batching, truncation and padding that package leaves to its callers.
 */
export class TextTokenizer {
  readonly padId: number;
  readonly vocabSize: number;
  private readonly hf: HfTokenizer;
  private readonly source: string;

  private constructor(json: object, config: object, source: string) {
    this.source = source;
    try {
      this.hf = new HfTokenizer(json, config);
    } catch (cause) {
      throw new TokenizerError(`${source} is not a usable tokenizer.json: ${(cause as Error).message}`, { source }, { cause });
    }
    const vocab = this.hf.get_vocab(true);
    this.vocabSize = Math.max(-1, ...vocab.values()) + 1;
    const padding = (json as { padding?: { pad_id?: number } | null }).padding;
    const configPad = (config as { pad_token?: string }).pad_token;
    let pad = padding?.pad_id ?? (configPad ? this.hf.token_to_id(configPad) : undefined);
    for (const t of PAD_CANDIDATES) pad ??= this.hf.token_to_id(t);
    this.padId = pad ?? 0;
  }

  /** Reads tokenizer.json (and optionally tokenizer_config.json) from disk; nothing is downloaded. */
  static fromFile(path: string, configPath?: string): TextTokenizer {
    if (!existsSync(path)) throw new MissingFileError(path, 'tokenizer.json');
    const json = parseJson(path);
    let config = {};
    if (configPath !== undefined) {
      if (!existsSync(configPath)) throw new MissingFileError(configPath, 'tokenizer_config.json');
      config = parseJson(configPath);
    }
    return new TextTokenizer(json, config, path);
  }

  static fromJSON(json: object, config: object = {}): TextTokenizer {
    if (typeof json !== 'object' || json === null || !('model' in json))
      throw new TokenizerError('tokenizer JSON object has no "model" entry; expected the contents of a tokenizer.json');
    return new TextTokenizer(json, config, 'tokenizer JSON object');
  }

  tokenize(text: string): string[] {
    return this.hf.tokenize(text);
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[] | readonly bigint[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.hf.decode([...ids] as number[], { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  encodeBatch(texts: readonly string[], options: BatchEncodeOptions): BatchEncoding {
    const { maxLength } = options;
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new EncoderInputError(`maxLength must be a positive integer, got ${maxLength}`);
    const addSpecial = options.addSpecialTokens ?? true;
    let truncated = 0;
    const seqs = texts.map((text, i) => {
      if (typeof text !== 'string') throw new EncoderInputError(`text ${i} of the batch is ${typeof text}, expected a string`);
      const ids = this.encode(text, { addSpecialTokens: addSpecial });
      if (ids.length <= maxLength) return ids;
      if (options.truncation === false) {
        throw new EncoderInputError(`text ${i} has ${ids.length} tokens, more than maxLength ${maxLength} (truncation is off)`, {
          index: i,
          tokens: ids.length,
        });
      }
      truncated++;
      return addSpecial ? this.truncateKeepingSpecials(text, ids, maxLength) : ids.slice(0, maxLength);
    });
    const n = texts.length;
    const t = options.padding === 'maxLength' ? maxLength : Math.max(1, ...seqs.map((s) => s.length));
    const inputIds = new BigInt64Array(n * t).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(n * t);
    const lengths = new Int32Array(n);
    seqs.forEach((s, i) => {
      for (let j = 0; j < s.length; j++) inputIds[i * t + j] = BigInt(s[j]!);
      attentionMask.fill(1n, i * t, i * t + s.length);
      lengths[i] = s.length;
    });
    const dims = [n, t];
    const out: BatchEncoding = {
      inputIds: { type: 'int64', data: inputIds, dims },
      attentionMask: { type: 'int64', data: attentionMask, dims },
      lengths,
      truncated,
    };
    if (options.returnTokenTypeIds) out.tokenTypeIds = { type: 'int64', data: new BigInt64Array(n * t), dims };
    return out;
  }

  /** Cuts the text's own tokens, keeping whatever the post-processor put before and after them. */
  private truncateKeepingSpecials(text: string, full: number[], maxLength: number): number[] {
    const bare = this.encode(text, { addSpecialTokens: false });
    const extra = full.length - bare.length;
    let head = 0;
    while (head <= extra && !bare.every((id, j) => full[head + j] === id)) head++;
    if (head > extra || extra >= maxLength) return full.slice(0, maxLength);
    const tail = extra - head;
    return [...full.slice(0, head), ...bare.slice(0, maxLength - extra), ...full.slice(full.length - tail)];
  }

  toString(): string {
    return `TextTokenizer(${this.source}, vocab ${this.vocabSize})`;
  }
}

function parseJson(path: string): object {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (cause) {
    throw new TokenizerError(`${path} is not valid JSON: ${(cause as Error).message}`, { path }, { cause });
  }
}
