import { GraphBuilder } from '../graph-builder.js';
import { ENCODER_METADATA_KEY, divisible, positiveInt } from './config.js';
import { layerNorm, linear, transformerBlock } from './layers.js';
import type { BuiltEncoder } from './resnet.js';

export interface TextTransformerConfig {
  /** Size of the tokenizer's vocabulary (ids must be < vocabSize). */
  vocabSize: number;
  /** Longest sequence the position embeddings cover. */
  maxLength?: number;
  dim?: number;
  depth?: number;
  heads?: number;
  mlpRatio?: number;
  /** 'mean' over tokens where attention_mask is 1, or the first ([CLS]) token. */
  pooling?: 'mean' | 'cls';
  embedDim?: number;
  /** Also output 'token_embeddings' [N, T, dim]. */
  tokenEmbeddings?: boolean;
  seed?: number;
}

export const defaultTextTransformerConfig = {
  maxLength: 128,
  dim: 128,
  depth: 2,
  heads: 4,
  mlpRatio: 2,
  pooling: 'mean' as 'mean' | 'cls',
  tokenEmbeddings: false,
  seed: 0,
};

/**
 * A small BERT-like text encoder: inputs 'input_ids' and 'attention_mask' (int64 [N, T], T <= maxLength),
 * output 'embedding' [N, D]. Padding is masked out of attention and of mean pooling.
 */
export function buildTextTransformer(config: TextTransformerConfig): BuiltEncoder {
  const c = { ...defaultTextTransformerConfig, ...config };
  const vocab = positiveInt(c.vocabSize, 'vocabSize');
  const maxLength = positiveInt(c.maxLength, 'maxLength');
  const dim = positiveInt(c.dim, 'dim');
  const heads = positiveInt(c.heads, 'heads');
  const depth = positiveInt(c.depth, 'depth');
  divisible(dim, heads, 'dim / heads');
  const hidden = positiveInt(Math.round(dim * c.mlpRatio), 'dim * mlpRatio');

  const g = new GraphBuilder('radlearn_text_transformer', { seed: c.seed });
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);

  const table = g.parameter('embeddings.word_embeddings.weight', [vocab, dim], { kind: 'truncNormal', std: 0.02 });
  const pos = g.parameter('embeddings.position_embeddings', [1, maxLength, dim], { kind: 'truncNormal', std: 0.02 });
  const length = g.shape(ids, { start: 1, end: 2 });
  let x = g.add(g.gather(table, ids, 0), g.slice(pos, [0], length, [1]));

  const maskF = g.cast(mask, 'float32');
  // 0 where attended, -10000 at padding: large enough that softmax gives padding exactly 0 in float32.
  const maskBias = g.unsqueeze(g.mul(g.sub(maskF, g.scalar(1)), g.scalar(10000)), [1, 2]);
  for (let i = 0; i < depth; i++) x = transformerBlock(g, x, `encoder.layer.${i}`, dim, heads, hidden, { maskBias });
  x = layerNorm(g, x, 'encoder.norm', dim);

  let embedding;
  if (c.pooling === 'cls') {
    embedding = g.gather(x, 0, 1);
  } else {
    const m = g.unsqueeze(maskF, [2]);
    const total = g.reduceSum(g.mul(x, m), [1], false);
    const count = g.node('Max', [g.reduceSum(m, [1], false), g.scalar(1)])[0]!;
    embedding = g.div(total, count);
  }
  let embedDim = dim;
  if (config.embedDim !== undefined) {
    embedDim = positiveInt(config.embedDim, 'embedDim');
    embedding = linear(g, embedding, 'head', dim, embedDim, { init: { kind: 'truncNormal', std: 0.02 } });
  }
  const outputs = ['embedding'];
  g.output(embedding, 'embedding', ['batch', embedDim]);
  if (c.tokenEmbeddings) {
    g.output(x, 'token_embeddings', ['batch', 'sequence', dim]);
    outputs.push('token_embeddings');
  }
  const model = g.build({
    docString: 'radlearn built-in transformer text encoder',
    metadata: { [ENCODER_METADATA_KEY]: JSON.stringify({ kind: 'text-transformer', ...c, embedDim }) },
  });
  return { model, inputs: ['input_ids', 'attention_mask'], outputs, embedDim };
}
