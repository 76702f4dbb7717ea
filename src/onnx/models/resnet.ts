import { GraphBuilder, type Value } from '../graph-builder.js';
import type { ModelProto } from '../proto.js';
import { ENCODER_METADATA_KEY, positiveInt, positiveInts } from './config.js';
import { batchNorm2d, conv2d, linear } from './layers.js';

export interface ResNetEncoderConfig {
  /** Input channels (1 for radiographs). */
  inChannels?: number;
  /** Channels of each stage; stage i > 0 halves the resolution. */
  widths?: readonly number[];
  /** Basic blocks per stage (same length as widths). */
  blocks?: readonly number[];
  /** Stem: conv kernel (stride 2) followed by a 3x3/2 max pool. */
  stemKernel?: number;
  /** Adds a linear projection from the last width to this size; default: the last width. */
  embedDim?: number;
  seed?: number;
}

export interface BuiltEncoder {
  model: ModelProto;
  /** Graph input names, in order. */
  inputs: readonly string[];
  /** Output names; the first is the [N, D] embedding. */
  outputs: readonly string[];
  embedDim: number;
}

export const defaultResNetConfig: Required<Omit<ResNetEncoderConfig, 'embedDim'>> = {
  inChannels: 1,
  widths: [16, 32, 64, 128],
  blocks: [1, 1, 1, 1],
  stemKernel: 5,
  seed: 0,
};

/**
 * A small ResNet (basic blocks, inference-form BatchNorm) for [N, C, H, W] float32 images of any
 * size >= 32; global average pooling gives the [N, D] embedding named 'embedding'.
 */
export function buildResNetEncoder(config: ResNetEncoderConfig = {}): BuiltEncoder {
  const c = { ...defaultResNetConfig, ...config };
  const inChannels = positiveInt(c.inChannels, 'inChannels');
  const widths = positiveInts(c.widths, 'widths');
  const blocks = positiveInts(c.blocks, 'blocks');
  const stemKernel = positiveInt(c.stemKernel, 'stemKernel');
  if (blocks.length !== widths.length) positiveInt(-1, `blocks (length ${blocks.length} must equal widths length ${widths.length})`);
  const g = new GraphBuilder('radlearn_resnet', { seed: c.seed });
  const image = g.input('image', 'float32', ['batch', inChannels, 'height', 'width']);

  let x = conv2d(g, image, 'stem.conv', inChannels, widths[0]!, stemKernel, { stride: 2, padding: Math.floor(stemKernel / 2) });
  x = g.relu(batchNorm2d(g, x, 'stem.bn', widths[0]!));
  x = g.maxPool(x, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });

  let channels = widths[0]!;
  widths.forEach((width, stage) => {
    for (let b = 0; b < blocks[stage]!; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      x = basicBlock(g, x, `layer${stage + 1}.${b}`, channels, width, stride);
      channels = width;
    }
  });

  let embedding = g.flatten(g.globalAveragePool(x), 1);
  let embedDim = channels;
  if (config.embedDim !== undefined) {
    embedDim = positiveInt(config.embedDim, 'embedDim');
    embedding = linear(g, embedding, 'head', channels, embedDim);
  }
  g.output(embedding, 'embedding', ['batch', embedDim]);
  const model = g.build({
    docString: 'radlearn built-in ResNet image encoder',
    metadata: { [ENCODER_METADATA_KEY]: JSON.stringify({ kind: 'resnet', ...c, embedDim }) },
  });
  return { model, inputs: ['image'], outputs: ['embedding'], embedDim };
}

/**
 * conv3x3-BN-ReLU-conv3x3-BN plus (projected) shortcut, then ReLU. The residual BN scale starts
 * at one (not zero-init) so a frozen, untrained encoder still gives features that use every layer.
 */
function basicBlock(g: GraphBuilder, x: Value, prefix: string, inC: number, outC: number, stride: number): Value {
  let h = g.relu(batchNorm2d(g, conv2d(g, x, `${prefix}.conv1`, inC, outC, 3, { stride, padding: 1 }), `${prefix}.bn1`, outC));
  h = batchNorm2d(g, conv2d(g, h, `${prefix}.conv2`, outC, outC, 3, { padding: 1 }), `${prefix}.bn2`, outC);
  let shortcut = x;
  if (stride !== 1 || inC !== outC) {
    shortcut = batchNorm2d(g, conv2d(g, x, `${prefix}.downsample.0`, inC, outC, 1, { stride }), `${prefix}.downsample.1`, outC);
  }
  return g.relu(g.add(h, shortcut));
}
