import { GraphBuilder } from '../graph-builder.js';
import { ENCODER_METADATA_KEY, divisible, positiveInt } from './config.js';
import { layerNorm, linear, transformerBlock } from './layers.js';
import { resamplePositions } from './position-resample.js';
import type { BuiltEncoder } from './resnet.js';

export interface ViTEncoderConfig {
  inChannels?: number;
  /** Square input size, or [height, width]; fixed because position embeddings are learned per patch. */
  imageSize?: number | readonly [number, number];
  patchSize?: number;
  /**
   * Input size the learned position embeddings belong to. When given, pos_embed keeps that grid's
   * shape and is resampled bilinearly in the graph (identity when equal to imageSize), so this
   * graph shares its parameter layout with the plain one built at positionImageSize.
   */
  positionImageSize?: number | readonly [number, number];
  dim?: number;
  depth?: number;
  heads?: number;
  mlpRatio?: number;
  /** Embedding from the CLS token or the mean of the patch tokens. */
  pooling?: 'cls' | 'mean';
  /** Adds a linear projection from dim to this size; default: dim. */
  embedDim?: number;
  /** Also output 'patch_tokens' [N, patches, dim] (after the final LayerNorm, CLS excluded). */
  patchTokens?: boolean;
  seed?: number;
}

export const defaultViTConfig = {
  inChannels: 1,
  imageSize: 224 as number | readonly [number, number],
  patchSize: 16,
  dim: 96,
  depth: 4,
  heads: 4,
  mlpRatio: 2,
  pooling: 'cls' as 'cls' | 'mean',
  patchTokens: true,
  seed: 0,
};

/** A small pre-norm ViT for [N, C, H, W] float32 images: patch conv, CLS token, learned positions. */
export function buildViTEncoder(config: ViTEncoderConfig = {}): BuiltEncoder {
  const c = { ...defaultViTConfig, ...config };
  const [height, width] = typeof c.imageSize === 'number' ? [c.imageSize, c.imageSize] : c.imageSize;
  const reference = c.positionImageSize ?? c.imageSize;
  const [refHeight, refWidth] = typeof reference === 'number' ? [reference, reference] : reference;
  const inChannels = positiveInt(c.inChannels, 'inChannels');
  const patch = positiveInt(c.patchSize, 'patchSize');
  const dim = positiveInt(c.dim, 'dim');
  const heads = positiveInt(c.heads, 'heads');
  const depth = positiveInt(c.depth, 'depth');
  positiveInt(height, 'imageSize (height)');
  positiveInt(width, 'imageSize (width)');
  divisible(height, patch, 'image height / patchSize');
  divisible(width, patch, 'image width / patchSize');
  positiveInt(refHeight, 'positionImageSize (height)');
  positiveInt(refWidth, 'positionImageSize (width)');
  divisible(refHeight, patch, 'positionImageSize height / patchSize');
  divisible(refWidth, patch, 'positionImageSize width / patchSize');
  divisible(dim, heads, 'dim / heads');
  const hidden = positiveInt(Math.round(dim * c.mlpRatio), 'dim * mlpRatio');
  const patches = (height / patch) * (width / patch);

  const g = new GraphBuilder('radlearn_vit', { seed: c.seed });
  const image = g.input('image', 'float32', ['batch', inChannels, height, width]);
  const pw = g.parameter('patch_embed.proj.weight', [dim, inChannels, patch, patch], {
    kind: 'kaimingUniform',
    fanIn: inChannels * patch * patch,
  });
  const pb = g.parameter('patch_embed.proj.bias', [dim], { kind: 'zeros' });
  const grid = g.conv(image, pw, pb, { kernelShape: [patch, patch], strides: [patch, patch] });
  const tokens = g.transpose(g.reshape(grid, [0, dim, -1]), [0, 2, 1]); // [N, P, dim]

  const cls = g.parameter('cls_token', [1, 1, dim], { kind: 'truncNormal', std: 0.02 });
  const batch = g.shape(image, { start: 0, end: 1 });
  const clsBatch = g.expand(cls, g.concat([batch, g.ints([1, dim])], 0));
  const refGrid = [refHeight / patch, refWidth / patch] as const;
  const pos = g.parameter('pos_embed', [1, refGrid[0] * refGrid[1] + 1, dim], { kind: 'truncNormal', std: 0.02 });
  const resample = c.positionImageSize !== undefined;
  const positions = resample ? resamplePositions(g, pos, dim, refGrid, [height / patch, width / patch]) : pos;
  let x = g.add(g.concat([clsBatch, tokens], 1), positions);
  for (let i = 0; i < depth; i++) x = transformerBlock(g, x, `blocks.${i}`, dim, heads, hidden);
  x = layerNorm(g, x, 'norm', dim);

  const patchTokens = g.slice(x, [1], [patches + 1], [1]);
  let embedding = c.pooling === 'cls' ? g.gather(x, 0, 1) : g.reduceMean(patchTokens, [1], false);
  let embedDim = dim;
  if (config.embedDim !== undefined) {
    embedDim = positiveInt(config.embedDim, 'embedDim');
    embedding = linear(g, embedding, 'head', dim, embedDim, { init: { kind: 'truncNormal', std: 0.02 } });
  }
  const outputs = ['embedding'];
  g.output(embedding, 'embedding', ['batch', embedDim]);
  if (c.patchTokens) {
    g.output(patchTokens, 'patch_tokens', ['batch', patches, dim]);
    outputs.push('patch_tokens');
  }
  const model = g.build({
    docString: 'radlearn built-in ViT image encoder',
    metadata: {
      [ENCODER_METADATA_KEY]: JSON.stringify({
        kind: 'vit',
        ...c,
        imageSize: [height, width],
        ...(resample ? { positionImageSize: [refHeight, refWidth] } : {}),
        embedDim,
      }),
    },
  });
  return { model, inputs: ['image'], outputs, embedDim };
}
