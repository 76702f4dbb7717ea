/**
 * The DINO projection head as part of the trainable ONNX graph (DINO / iBOT / DINOv2):
 *   MLP (Linear-GELU-Linear-GELU-Linear) -> bottleneck -> L2 normalisation ->
 *   weight-normalised prototypes W = V / ||V|| per prototype (the weight-norm gain g fixed to 1).
 * It is appended to an encoder with GraphBuilder.extend, so `differentiate` yields gradients
 * for encoder and head in one flat buffer. For a ViT the patch tokens go through the same head
 * (shared parameters), which gives the iBOT patch logits.
 */
import { positiveSize } from '../../kernels/operands.js';
import { GraphBuilder, type Value } from '../../onnx/graph-builder.js';
import type { ModelProto } from '../../onnx/proto.js';

export interface DinoHeadOptions {
  /** Width of the encoder output the head reads (the embedding dimension). */
  inDim: number;
  /** MLP hidden width (DINO: 2048). */
  hidden: number;
  /** Bottleneck width before the prototypes (DINO: 256). */
  bottleneck: number;
  /** Number of prototypes K (DINO: 65536). */
  prototypes: number;
  /** Encoder output with the image embedding [N, D] (default 'embedding'). */
  embeddingOutput?: string;
  /** Encoder output with patch tokens [N, P, D]; when given, 'ibot_logits' [N, P, K] is added. */
  patchOutput?: string;
  /** Patch count P, for the declared output shape. */
  patches?: number;
  seed?: number;
  /** Std of the truncated-normal MLP weights (default 0.02, as DINO). */
  initStd?: number;
}

/** Names of the head's parameters (prefix 'dino_head.'). */
export const DINO_HEAD_PREFIX = 'dino_head.';

interface HeadParams {
  w: Value[];
  b: Value[];
  v: Value;
}

function l2Normalize(g: GraphBuilder, x: Value, axis: number): Value {
  // sqrt(sum x^2 + eps): differentiable everywhere (F.normalize clamps the norm at 1e-12 instead)
  const norm = g.sqrt(g.add(g.reduceSum(g.mul(x, x), [axis], true), g.scalar(1e-12)));
  return g.div(x, norm);
}

function applyHead(g: GraphBuilder, x: Value, p: HeadParams): Value {
  let h = x;
  for (let i = 0; i < p.w.length; i++) {
    h = g.add(g.matMul(h, p.w[i]!), p.b[i]!);
    if (i < p.w.length - 1) h = g.gelu(h);
  }
  const z = l2Normalize(g, h, -1);
  // weight norm per prototype (column of V [bottleneck, K]), g = 1
  const w = l2Normalize(g, p.v, 0);
  return g.matMul(z, w);
}

/**
 * The encoder model with the head appended. Outputs: the encoder's embedding (kept, for KoLeo and
 * for exporting the encoder), 'dino_logits' [N, K] and, with patchOutput, 'ibot_logits' [N, P, K].
 */
export function appendDinoHead(encoder: ModelProto, options: DinoHeadOptions): ModelProto {
  const inDim = positiveSize(options.inDim, 'DINO head inDim', false);
  const hidden = positiveSize(options.hidden, 'DINO head hidden', false);
  const bottleneck = positiveSize(options.bottleneck, 'DINO head bottleneck', false);
  const K = positiveSize(options.prototypes, 'DINO head prototypes', false);
  const g = GraphBuilder.extend(encoder, { seed: options.seed ?? 0 });
  const embedding = g.value(options.embeddingOutput ?? 'embedding');
  const patchTokens = options.patchOutput ? g.value(options.patchOutput) : undefined;
  const dims = [
    [inDim, hidden],
    [hidden, hidden],
    [hidden, bottleneck],
  ] as const;
  const params: HeadParams = {
    // DINO initialises the MLP with trunc_normal(std=0.02) and zero biases
    w: dims.map(([i, o], k) =>
      g.parameter(`${DINO_HEAD_PREFIX}mlp.${k}.weight`, [i, o], { kind: 'truncNormal', std: options.initStd ?? 0.02 }),
    ),
    b: dims.map(([, o], k) => g.parameter(`${DINO_HEAD_PREFIX}mlp.${k}.bias`, [o], { kind: 'zeros' })),
    v: g.parameter(`${DINO_HEAD_PREFIX}prototypes.weight_v`, [bottleneck, K], { kind: 'kaimingUniform', fanIn: bottleneck }),
  };
  g.clearOutputs();
  g.output(embedding, embedding.name, ['batch', inDim]);
  g.output(applyHead(g, embedding, params), 'dino_logits', ['batch', K]);
  if (patchTokens) g.output(applyHead(g, patchTokens, params), 'ibot_logits', ['batch', options.patches ?? 'patches', K]);
  return g.build({ docString: 'radlearn encoder + DINO head' });
}
