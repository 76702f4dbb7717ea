/**
 * PyTorch-style layers on top of GraphBuilder: each declares its parameters under a dotted
 * prefix (e.g. 'blocks.0.attn.qkv.weight') and emits the standard ops PyTorch exports.
 */
import type { GraphBuilder, Value } from '../graph-builder.js';
import type { InitSpec } from '../init.js';

export interface LinearOptions {
  bias?: boolean;
  /** Weight init; default PyTorch's kaiming-uniform with fan-in = inFeatures. */
  init?: InitSpec;
}

/** y = x W + b with W stored [in, out] (MatMul then Add, valid for inputs of any rank). */
export function linear(g: GraphBuilder, x: Value, prefix: string, inFeatures: number, outFeatures: number, o: LinearOptions = {}): Value {
  const w = g.parameter(`${prefix}.weight`, [inFeatures, outFeatures], o.init ?? { kind: 'kaimingUniform', fanIn: inFeatures });
  let y = g.matMul(x, w);
  if (o.bias ?? true) y = g.add(y, g.parameter(`${prefix}.bias`, [outFeatures], { kind: 'zeros' }));
  return y;
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  init?: InitSpec;
}

/** Conv with square kernel; Kaiming-normal (fan-in, ReLU gain) by default as torchvision's ResNet. */
export function conv2d(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  o: Conv2dOptions = {},
): Value {
  const fanIn = inChannels * kernel * kernel;
  const w = g.parameter(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel], o.init ?? { kind: 'kaimingNormal', fanIn });
  const b = o.bias ? g.parameter(`${prefix}.bias`, [outChannels], { kind: 'zeros' }) : null;
  const s = o.stride ?? 1;
  const p = o.padding ?? 0;
  return g.conv(x, w, b, { kernelShape: [kernel, kernel], strides: [s, s], pads: [p, p, p, p] });
}

/**
 * Inference-form BatchNorm: trainable scale/shift, running statistics as frozen initializers
 * (mean 0, var 1 at init), which is how an eval-mode PyTorch export looks.
 */
export function batchNorm2d(g: GraphBuilder, x: Value, prefix: string, channels: number, o: { zeroInitScale?: boolean } = {}): Value {
  const scale = g.parameter(`${prefix}.weight`, [channels], o.zeroInitScale ? { kind: 'zeros' } : { kind: 'ones' });
  const shift = g.parameter(`${prefix}.bias`, [channels], { kind: 'zeros' });
  const mean = g.initializer(`${prefix}.running_mean`, new Float32Array(channels), [channels]);
  const variance = g.initializer(`${prefix}.running_var`, new Float32Array(channels).fill(1), [channels]);
  return g.batchNormalization(x, scale, shift, mean, variance, { epsilon: 1e-5 });
}

export function layerNorm(g: GraphBuilder, x: Value, prefix: string, dim: number, epsilon = 1e-6): Value {
  const scale = g.parameter(`${prefix}.weight`, [dim], { kind: 'ones' });
  const shift = g.parameter(`${prefix}.bias`, [dim], { kind: 'zeros' });
  return g.layerNormalization(x, scale, shift, { axis: -1, epsilon });
}

export interface AttentionOptions {
  /** Additive bias broadcastable to [N, heads, T, T] (0 keep, large negative mask), e.g. from a padding mask. */
  maskBias?: Value;
}

const transformerInit = (std: number): InitSpec => ({ kind: 'truncNormal', std });

/** Multi-head self-attention on x [N, T, dim]: fused qkv projection, scaled dot product, output projection. */
export function selfAttention(g: GraphBuilder, x: Value, prefix: string, dim: number, heads: number, o: AttentionOptions = {}): Value {
  const headDim = dim / heads;
  const qkv = linear(g, x, `${prefix}.qkv`, dim, 3 * dim, { init: transformerInit(0.02) });
  // [N, T, 3, heads, hd] -> [3, N, heads, T, hd]
  const split = g.transpose(g.reshape(qkv, [0, 0, 3, heads, headDim]), [2, 0, 3, 1, 4]);
  const q = g.gather(split, 0, 0);
  const k = g.gather(split, 1, 0);
  const v = g.gather(split, 2, 0);
  let scores = g.mul(g.matMul(q, g.transpose(k, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(headDim)));
  if (o.maskBias) scores = g.add(scores, o.maskBias);
  const context = g.matMul(g.softmax(scores, -1), v);
  const merged = g.reshape(g.transpose(context, [0, 2, 1, 3]), [0, 0, dim]);
  return linear(g, merged, `${prefix}.proj`, dim, dim, { init: transformerInit(0.02) });
}

export function mlp(g: GraphBuilder, x: Value, prefix: string, dim: number, hidden: number): Value {
  const h = g.gelu(linear(g, x, `${prefix}.fc1`, dim, hidden, { init: transformerInit(0.02) }));
  return linear(g, h, `${prefix}.fc2`, hidden, dim, { init: transformerInit(0.02) });
}

/** Pre-norm transformer block (ViT / modern BERT variants): x + attn(ln(x)), then x + mlp(ln(x)). */
export function transformerBlock(
  g: GraphBuilder,
  x: Value,
  prefix: string,
  dim: number,
  heads: number,
  hidden: number,
  o: AttentionOptions = {},
): Value {
  const a = g.add(x, selfAttention(g, layerNorm(g, x, `${prefix}.norm1`, dim), `${prefix}.attn`, dim, heads, o));
  return g.add(a, mlp(g, layerNorm(g, a, `${prefix}.norm2`, dim), `${prefix}.mlp`, dim, hidden));
}
