/**
 * The ai.onnx operators onnxruntime's CUDA execution provider has kernels for, by name, from
 * onnxruntime's docs/OperatorKernels.md ("Operators implemented by CUDAExecutionProvider"; read at
 * microsoft/onnxruntime commit 001d12d2, a main branch after 1.22). Type constraints and opset
 * ranges are not checked here: docs/gpu.md lists, for every operator and element type radlearn's
 * training graphs contain, the row that covers it. A node whose operator is missing still runs:
 * onnxruntime assigns it to the CPU provider and copies its inputs and outputs across.
 */
import { parseModel } from '../onnx/model-io.js';

const CUDA_OPERATORS = new Set(
  (
    'Abs Add Affine And ArgMax ArgMin Attention AveragePool BatchNormalization Cast Ceil Clip Compress Concat ' +
    'ConcatFromSequence ConstantOfShape Conv ConvTranspose Cos Crop CumSum DepthToSpace DequantizeLinear Div Dropout ' +
    'DynamicSlice Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm ' +
    'GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual GridSample HardSigmoid HardSwish Identity If ImageScaler ' +
    'InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop MatMul ' +
    'MatMulInteger Max MaxPool MemcpyFromHost MemcpyToHost Min Mod Mul Neg NonZero Not OneHot Or PRelu Pad ' +
    'ParametricSoftplus Pow QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike RandomUniform ' +
    'RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ' +
    'ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign RotaryEmbedding Round ScaledTanh ' +
    'Scan Scatter ScatterElements ScatterND Selu SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert ' +
    'SequenceLength Shape Shrink Sigmoid Sign SimplifiedLayerNormalization Sin Size Slice Softmax Softplus Softsign ' +
    'SpaceToDepth Split Sqrt Squeeze Sub Sum Tanh TensorScatter ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze ' +
    'Upsample Where Xor'
  ).split(' '),
);

/** Operators that never become kernels: onnxruntime turns Constant nodes into initializers when it loads the graph. */
const NO_KERNEL_NEEDED = new Set(['Constant']);

/**
 * The distinct ai.onnx operator types of a model's top-level graph that have no CUDA kernel,
 * sorted. Operators of other domains (com.microsoft, custom) are not checked: radlearn's graphs
 * use none, and onnxruntime reports their placement at run time (placement.ts).
 */
export function operatorsWithoutCudaKernel(model: Uint8Array, where = 'model'): string[] {
  const graph = parseModel(model, where).graph!;
  const missing = new Set<string>();
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    const domain = node.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx') continue;
    if (!CUDA_OPERATORS.has(op) && !NO_KERNEL_NEEDED.has(op)) missing.add(op);
  }
  return [...missing].sort();
}
