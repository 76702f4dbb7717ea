import { describe, expect, it } from 'vitest';
import { type GraphBuilder, type Value } from '../../../src/onnx/graph-builder.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { attr } from '../../../src/onnx/attributes.js';
import { Sfc32, streamSeed } from '../../../src/random/index.js';
import { type CheckInput, buildModel, checkModelGradients, checkOpGradients, randomArray } from './gradcheck.js';

// Per-operator finite-difference checks. float64 wherever onnxruntime's CPU provider has a float64
// kernel for the forward op (relative error <= 1e-6); float32 otherwise (Conv, AveragePool,
// GlobalAveragePool, Erf and the Erf-based GELU have float32 kernels only; <= 1e-3).
// Each case draws its inputs from its own stream (seeded by its name), so filtering tests never changes the data.
let rng = new Sfc32(20261123);
type Dt = 'float32' | 'float64';

function x(
  dims: number[],
  o: { dtype?: Dt; f?: (v: number) => number; declared?: (number | string)[] | null; check?: boolean } = {},
): CheckInput {
  const n = dims.reduce((a, b) => a * b, 1);
  return { data: randomArray(rng, n, o.dtype ?? 'float64', o.f), dims, declared: o.declared, check: o.check };
}
const positive = (v: number): number => Math.abs(v) + 0.5;
const awayFromZero = (v: number): number => (v >= 0 ? v + 0.2 : v - 0.2);
const f32 = (dims: number[], o: { f?: (v: number) => number; declared?: (number | string)[] } = {}): CheckInput =>
  x(dims, { ...o, dtype: 'float32' });

const scalar = (g: GraphBuilder, v: number, dtype: Dt = 'float64'): Value =>
  g.constant(dtype === 'float64' ? new Float64Array([v]) : new Float32Array([v]), [], 'c');

interface Case {
  name: string;
  inputs: () => Record<string, CheckInput>;
  build: (g: GraphBuilder, v: Record<string, Value>) => Value | Value[];
  dtype?: Dt;
}

const cases: Case[] = [
  // ---- elementwise, with broadcasting -------------------------------------------------------
  { name: 'Add [2,3,4] + [3,1]', inputs: () => ({ a: x([2, 3, 4]), b: x([3, 1]) }), build: (g, v) => g.add(v.a!, v.b!) },
  {
    name: 'Add with symbolic dims (run-time unbroadcast)',
    inputs: () => ({ a: x([2, 3, 4], { declared: ['n', 't', 4] }), b: x([1, 3, 1], { declared: [1, 't', 'one'] }) }),
    build: (g, v) => g.add(v.a!, v.b!),
  },
  { name: 'Sub [2,3] - [3]', inputs: () => ({ a: x([2, 3]), b: x([3]) }), build: (g, v) => g.sub(v.a!, v.b!) },
  { name: 'Mul [2,1,4] * [3,1]', inputs: () => ({ a: x([2, 1, 4]), b: x([3, 1]) }), build: (g, v) => g.mul(v.a!, v.b!) },
  { name: 'Div [3,4] / [4]', inputs: () => ({ a: x([3, 4]), b: x([4], { f: awayFromZero }) }), build: (g, v) => g.div(v.a!, v.b!) },
  { name: 'Pow base and exponent', inputs: () => ({ a: x([3, 4], { f: positive }), b: x([4]) }), build: (g, v) => g.pow(v.a!, v.b!) },
  { name: 'Pow by a constant', inputs: () => ({ a: x([5], { f: positive }) }), build: (g, v) => g.pow(v.a!, scalar(g, 3)) },
  { name: 'Sqrt', inputs: () => ({ a: x([2, 5], { f: positive }) }), build: (g, v) => g.sqrt(v.a!) },
  { name: 'Neg', inputs: () => ({ a: x([7]) }), build: (g, v) => g.neg(v.a!) },
  { name: 'Exp', inputs: () => ({ a: x([2, 3]) }), build: (g, v) => g.exp(v.a!) },
  { name: 'Log', inputs: () => ({ a: x([2, 3], { f: positive }) }), build: (g, v) => g.log(v.a!) },
  { name: 'Relu', inputs: () => ({ a: x([3, 5], { f: awayFromZero }) }), build: (g, v) => g.relu(v.a!) },
  {
    name: 'LeakyRelu alpha 0.2',
    inputs: () => ({ a: x([3, 5], { f: awayFromZero }) }),
    build: (g, v) => g.node('LeakyRelu', [v.a!], { alpha: attr.float(0.2) })[0]!,
  },
  { name: 'Sigmoid', inputs: () => ({ a: x([3, 5]) }), build: (g, v) => g.sigmoid(v.a!) },
  { name: 'Tanh', inputs: () => ({ a: x([3, 5]) }), build: (g, v) => g.tanh(v.a!) },
  { name: 'Erf', dtype: 'float32', inputs: () => ({ a: f32([3, 5]) }), build: (g, v) => g.erf(v.a!) },
  { name: 'GELU (Erf decomposition)', dtype: 'float32', inputs: () => ({ a: f32([4, 6]) }), build: (g, v) => g.gelu(v.a!) },
  {
    name: 'Where',
    inputs: () => ({ c: x([3, 4], { check: false }), a: x([3, 4]), b: x([4]) }),
    build: (g, v) => g.where(g.node('Greater', [v.c!, scalar(g, 0)], {}, ['bool'])[0]!, v.a!, v.b!),
  },
  { name: 'Expand [3,1] to [2,3,4]', inputs: () => ({ a: x([3, 1]) }), build: (g, v) => g.expand(v.a!, [2, 3, 4]) },
  {
    name: 'Identity and Dropout (inference)',
    inputs: () => ({ a: x([4, 3]) }),
    build: (g, v) => g.node('Dropout', [g.identity(v.a!)])[0]!,
  },
  {
    name: 'Cast float64 -> float64, and integer casts stop the gradient',
    inputs: () => ({ a: x([3, 4]) }),
    build: (g, v) => g.add(g.cast(v.a!, 'float64'), g.cast(g.cast(v.a!, 'int64'), 'float64')),
  },
  {
    name: 'Constant operand',
    inputs: () => ({ a: x([2, 3]) }),
    build: (g, v) => g.mul(v.a!, g.constant(Float64Array.from([1, -2, 3]), [3])),
  },
  {
    name: 'Max / Min of two (broadcast)',
    inputs: () => ({ a: x([3, 4]), b: x([4]) }),
    build: (g, v) => [g.node('Max', [v.a!, v.b!])[0]!, g.node('Min', [v.a!, v.b!])[0]!],
  },
  {
    name: 'Clip (ReLU6)',
    inputs: () => ({ a: x([3, 4], { f: (t) => 3 + 2.5 * t }) }),
    build: (g, v) => g.node('Clip', [v.a!, scalar(g, 0), scalar(g, 6)])[0]!,
  },
  {
    name: 'Sum of three with broadcasting',
    inputs: () => ({ a: x([2, 3]), b: x([3]), c: x([2, 1]) }),
    build: (g, v) => g.node('Sum', [v.a!, v.b!, v.c!])[0]!,
  },
  {
    name: 'fan-out (a value used four times)',
    inputs: () => ({ a: x([3, 3]) }),
    build: (g, v) => g.mul(g.add(v.a!, g.tanh(v.a!)), g.matMul(v.a!, v.a!)),
  },

  // ---- linear algebra -----------------------------------------------------------------------
  {
    name: 'MatMul batched with broadcasting [2,1,3,4] @ [3,4,5]',
    inputs: () => ({ a: x([2, 1, 3, 4]), b: x([3, 4, 5]) }),
    build: (g, v) => g.matMul(v.a!, v.b!),
  },
  {
    name: 'MatMul [2,3,4] @ [4,5] (shared weight)',
    inputs: () => ({ a: x([2, 3, 4]), b: x([4, 5]) }),
    build: (g, v) => g.matMul(v.a!, v.b!),
  },
  {
    name: 'MatMul symbolic batch',
    inputs: () => ({ a: x([2, 3, 4], { declared: ['n', 't', 4] }), b: x([2, 4, 5], { declared: ['n', 4, 5] }) }),
    build: (g, v) => g.matMul(v.a!, v.b!),
  },
  {
    name: 'MatMul 1-D @ 3-D and 3-D @ 1-D',
    inputs: () => ({ a: x([4]), b: x([2, 4, 3]), c: x([3]) }),
    build: (g, v) => g.matMul(g.matMul(v.a!, v.b!), v.c!),
  },
  {
    name: 'MatMul with operands of unknown rank (Einsum transposes, run-time unbroadcast)',
    inputs: () => ({ a: x([2, 3, 4], { declared: null }), b: x([4, 5], { declared: null }) }),
    build: (g, v) => g.matMul(v.a!, v.b!),
  },
  { name: 'MatMul 1-D @ 1-D', inputs: () => ({ a: x([4]), b: x([4]) }), build: (g, v) => g.matMul(v.a!, v.b!) },
  ...[false, true].flatMap((transA) =>
    [false, true].map((transB): Case => ({
      name: `Gemm transA=${transA} transB=${transB} alpha/beta, C broadcast`,
      inputs: () => ({ a: x(transA ? [4, 3] : [3, 4]), b: x(transB ? [5, 4] : [4, 5]), c: x([5]) }),
      build: (g, v) => g.gemm(v.a!, v.b!, v.c!, { transA, transB, alpha: 0.7, beta: 1.3 }),
    })),
  ),

  // ---- convolution and pooling (float32 kernels only) ---------------------------------------
  ...(
    [
      ['3x3 pad 1', [2, 3, 6, 5], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }],
      ['stride 2 pad 1 odd size', [2, 3, 7, 6], [4, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }],
      ['groups 2 stride 2', [2, 4, 7, 6], [6, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }],
      ['depthwise stride 2', [1, 3, 8, 7], [3, 1, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], group: 3 }],
      ['dilation 2 asymmetric pads', [1, 2, 8, 9], [3, 2, 3, 2], { dilations: [2, 2], pads: [2, 1, 0, 1] }],
      ['1x1 stride 2 (downsample)', [2, 3, 6, 6], [5, 3, 1, 1], { strides: [2, 2] }],
      ['stride 3 kernel 2 (strides > kernel)', [1, 2, 8, 8], [3, 2, 2, 2], { strides: [3, 3] }],
      ['1-D conv', [2, 3, 9], [4, 3, 3], { strides: [2], pads: [1, 1] }],
      ['patch embedding 4x4 stride 4, remainder rows', [2, 3, 9, 8], [5, 3, 4, 4], { strides: [4, 4] }],
      ['8x8 kernel (general dW form)', [1, 2, 10, 9], [3, 2, 8, 8], { pads: [1, 0, 1, 0] }],
      [
        'one-channel stem 5x5 stride 2 pad 2, odd sizes (dW from phases)',
        [2, 1, 11, 9],
        [4, 1, 5, 5],
        { strides: [2, 2], pads: [2, 2, 2, 2] },
      ],
      [
        'one-channel 2x2 stride 3, rows in no window (dW from phases)',
        [1, 1, 10, 8],
        [3, 1, 2, 2],
        { strides: [3, 3], pads: [0, 1, 0, 0] },
      ],
    ] as [string, number[], number[], Record<string, number[] | number>][]
  ).flatMap(([label, xd, wd, o]): Case[] => [
    {
      name: `Conv ${label}`,
      dtype: 'float32',
      inputs: () => ({ x: f32(xd), w: f32(wd), b: f32([wd[0]!]) }),
      build: (g, v) => g.conv(v.x!, v.w!, v.b!, o as never),
    },
    {
      name: `Conv ${label}, symbolic sizes`,
      dtype: 'float32',
      inputs: () => ({ x: f32(xd, { declared: ['n', xd[1]!, ...xd.slice(2).map((_, i) => `s${i}`)] }), w: f32(wd) }),
      build: (g, v) => g.conv(v.x!, v.w!, null, o as never),
    },
  ]),
  ...(
    [
      ['groups 2 stride 2', [2, 4, 7, 6], [6, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }],
      ['dilation 2 asymmetric pads', [1, 2, 8, 9], [3, 2, 3, 2], { dilations: [2, 2], pads: [2, 1, 0, 1] }],
      ['3x3 pad 1', [2, 3, 6, 5], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }],
    ] as [string, number[], number[], Record<string, number[] | number>][]
  ).map(([label, xd, wd, o]): Case => ({
    // A kernel of unknown shape takes the general forms: ConvTranspose for dX, Conv over the transposed input for dW.
    name: `Conv ${label}, kernel of unknown shape (general forms)`,
    dtype: 'float32',
    inputs: () => ({ x: f32(xd), w: f32(wd, { declared: ['m', 'cg', 'kh', 'kw'] }) }),
    build: (g, v) => g.conv(v.x!, v.w!, null, o as never),
  })),
  {
    name: 'MaxPool 3x3 stride 2 pad 1',
    inputs: () => ({ a: x([2, 3, 7, 6]) }),
    build: (g, v) => g.maxPool(v.a!, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  },
  {
    name: 'MaxPool 2x2 stride 2, odd size, symbolic',
    inputs: () => ({ a: x([2, 2, 9, 7], { declared: ['n', 2, 'h', 'w'] }) }),
    build: (g, v) => g.maxPool(v.a!, { kernelShape: [2, 2], strides: [2, 2] }),
  },
  {
    name: 'MaxPool 5x4 stride 3, asymmetric pads',
    inputs: () => ({ a: x([1, 2, 13, 11]) }),
    build: (g, v) => g.maxPool(v.a!, { kernelShape: [5, 4], strides: [3, 3], pads: [2, 1, 0, 2] }),
  },
  {
    name: 'MaxPool 2x2 ceil mode',
    inputs: () => ({ a: x([1, 2, 5, 5]) }),
    build: (g, v) => g.maxPool(v.a!, { kernelShape: [2, 2], strides: [2, 2], ceilMode: true }),
  },
  {
    name: 'AveragePool 3x3 stride 2 pad 1 (count_include_pad=0)',
    dtype: 'float32',
    inputs: () => ({ a: f32([2, 3, 7, 6]) }),
    build: (g, v) => g.averagePool(v.a!, { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  },
  {
    name: 'AveragePool 2x2 count_include_pad=1, symbolic',
    dtype: 'float32',
    inputs: () => ({ a: f32([2, 2, 6, 5], { declared: ['n', 2, 'h', 'w'] }) }),
    build: (g, v) => g.averagePool(v.a!, { kernelShape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], countIncludePad: true }),
  },
  { name: 'GlobalAveragePool', dtype: 'float32', inputs: () => ({ a: f32([2, 3, 4, 5]) }), build: (g, v) => g.globalAveragePool(v.a!) },

  // ---- normalisation and softmax ------------------------------------------------------------
  {
    name: 'BatchNormalization (inference) grads to x, scale, bias, mean, var',
    inputs: () => ({ a: x([2, 3, 4, 2]), s: x([3]), b: x([3]), m: x([3]), v: x([3], { f: positive }) }),
    build: (g, v) => g.batchNormalization(v.a!, v.s!, v.b!, v.m!, v.v!, { epsilon: 1e-3 }),
  },
  {
    name: 'BatchNormalization on [N, C] symbolic',
    inputs: () => ({
      a: x([4, 3], { declared: ['n', 3] }),
      s: x([3]),
      b: x([3]),
      m: x([3], { check: false }),
      v: x([3], { f: positive, check: false }),
    }),
    build: (g, v) => g.batchNormalization(v.a!, v.s!, v.b!, v.m!, v.v!),
  },
  {
    name: 'BatchNormalization on an input of unknown rank',
    inputs: () => ({ a: x([2, 3, 2, 3], { declared: null }), s: x([3]), b: x([3]), m: x([3]), v: x([3], { f: positive }) }),
    build: (g, v) => g.batchNormalization(v.a!, v.s!, v.b!, v.m!, v.v!),
  },
  {
    name: 'Add / Mul / Softmax / ReduceMean on inputs of unknown rank',
    inputs: () => ({ a: x([2, 3, 4], { declared: null }), b: x([3, 1], { declared: null }) }),
    build: (g, v) => g.reduceMean(g.softmax(g.mul(g.add(v.a!, v.b!), v.b!), -1), [1], false),
  },
  {
    name: 'LayerNormalization axis -1',
    inputs: () => ({ a: x([2, 3, 5]), s: x([5]), b: x([5]) }),
    build: (g, v) => g.layerNormalization(v.a!, v.s!, v.b!, { axis: -1, epsilon: 1e-5 }),
  },
  {
    name: 'LayerNormalization axis 1 (two normalised axes)',
    inputs: () => ({ a: x([2, 3, 4]), s: x([3, 4]), b: x([4]) }),
    build: (g, v) => g.layerNormalization(v.a!, v.s!, v.b!, { axis: 1 }),
  },
  {
    name: 'LayerNormalization reusing the saved Mean/InvStdDev outputs',
    dtype: 'float32',
    inputs: () => ({ a: f32([3, 2, 6]), s: f32([6]), b: f32([6]) }),
    build: (g, v) => g.layerNormalization(v.a!, v.s!, v.b!),
  },
  { name: 'Softmax axis -1', inputs: () => ({ a: x([2, 3, 5]) }), build: (g, v) => g.softmax(v.a!, -1) },
  { name: 'Softmax axis 1', inputs: () => ({ a: x([2, 3, 5]) }), build: (g, v) => g.softmax(v.a!, 1) },
  { name: 'LogSoftmax axis -1', inputs: () => ({ a: x([3, 6]) }), build: (g, v) => g.logSoftmax(v.a!, -1) },

  // ---- reductions ---------------------------------------------------------------------------
  { name: 'ReduceMean axes [1] keepdims 0', inputs: () => ({ a: x([2, 3, 4]) }), build: (g, v) => g.reduceMean(v.a!, [1], false) },
  {
    name: 'ReduceMean all axes keepdims 1',
    inputs: () => ({ a: x([2, 3]) }),
    build: (g, v) => g.node('ReduceMean', [v.a!], { keepdims: attr.int(1) })[0]!,
  },
  { name: 'ReduceSum axes [0, -1] keepdims 0', inputs: () => ({ a: x([2, 3, 4]) }), build: (g, v) => g.reduceSum(v.a!, [0, -1], false) },
  {
    name: 'ReduceSum axes from a computed tensor',
    inputs: () => ({ a: x([2, 3, 4]) }),
    build: (g, v) => g.node('ReduceSum', [v.a!, g.node('Identity', [g.ints([1])], {}, ['int64'])[0]!], { keepdims: attr.int(0) })[0]!,
  },

  // ---- data movement ------------------------------------------------------------------------
  { name: 'Flatten axis 2', inputs: () => ({ a: x([2, 3, 2, 2]) }), build: (g, v) => g.flatten(v.a!, 2) },
  { name: 'Reshape with 0 and -1', inputs: () => ({ a: x([2, 3, 4]) }), build: (g, v) => g.reshape(v.a!, [0, -1, 2]) },
  {
    name: 'Reshape and ReduceSum by value_ints Constants',
    inputs: () => ({ a: x([2, 3, 4], { declared: ['n', 3, 4] }) }),
    build: (g, v) =>
      g.node(
        'ReduceSum',
        [
          g.reshape(v.a!, g.node('Constant', [], { value_ints: attr.ints([0, 2, -1]) }, ['int64'])[0]!),
          g.node('Constant', [], { value_ints: attr.ints([2]) }, ['int64'])[0]!,
        ],
        { keepdims: attr.int(0) },
      )[0]!,
  },
  {
    name: 'Transpose perm [2,0,1] and default',
    inputs: () => ({ a: x([2, 3, 4]) }),
    build: (g, v) => [g.transpose(v.a!, [2, 0, 1]), g.node('Transpose', [v.a!])[0]!],
  },
  { name: 'Squeeze / Unsqueeze', inputs: () => ({ a: x([2, 1, 3]) }), build: (g, v) => g.unsqueeze(g.squeeze(v.a!, [1]), [0, 3]) },
  {
    name: 'Concat three on axis 1',
    inputs: () => ({ a: x([2, 1, 3]), b: x([2, 2, 3]), c: x([2, 3, 3]) }),
    build: (g, v) => g.concat([v.a!, v.b!, v.c!], 1),
  },
  {
    name: 'Concat symbolic lengths',
    inputs: () => ({ a: x([2, 1, 3], { declared: ['n', 'p', 3] }), b: x([2, 2, 3], { declared: ['n', 'q', 3] }) }),
    build: (g, v) => g.concat([v.a!, v.b!], -2),
  },
  {
    name: 'Split (one output unused)',
    inputs: () => ({ a: x([2, 6]) }),
    build: (g, v) =>
      g.node('Split', [v.a!, g.ints([1, 2, 3])], { axis: attr.int(1) }, ['float64', 'float64', 'float64']).filter((_, i) => i !== 1),
  },
  {
    name: 'Slice with steps and negatives',
    inputs: () => ({ a: x([4, 7]) }),
    build: (g, v) => g.slice(v.a!, [1, -1], [4, 0], [0, 1], [2, -2]),
  },
  {
    name: 'Slice with symbolic end (Shape-based)',
    inputs: () => ({ a: x([5, 3], { declared: ['len', 3] }), b: x([1, 3]) }),
    build: (g, v) => g.slice(g.add(v.a!, v.b!), [1], g.shape(v.a!, { start: 0, end: 1 }), [0]),
  },
  {
    name: 'Gather rows with repeated ids',
    inputs: () => ({ a: x([5, 3]) }),
    build: (g, v) => g.gather(v.a!, g.constant(BigInt64Array.from([3n, 0n, 3n, 4n, 3n, 1n]), [2, 3]), 0),
  },
  {
    name: 'Gather rows by run-time ids (negative and repeated)',
    inputs: () => ({ a: x([5, 3]), i: { data: BigInt64Array.from([4n, -1n, 0n, 2n, -5n, 2n]), dims: [3, 2] } }),
    build: (g, v) => g.gather(v.a!, v.i!, 0),
  },
  {
    name: 'Gather axis 1 with negative index',
    inputs: () => ({ a: x([2, 4, 3]) }),
    build: (g, v) => g.gather(v.a!, g.constant(BigInt64Array.from([-1n, 0n]), [2]), 1),
  },
  {
    name: 'Gather scalar index (Pad form)',
    inputs: () => ({ a: x([3, 2, 4]) }),
    build: (g, v) => g.add(g.gather(v.a!, 1, 0), g.gather(v.a!, -1, 0)),
  },
  {
    name: 'Pad constant with negative pads',
    inputs: () => ({ a: x([3, 4]) }),
    build: (g, v) => g.node('Pad', [v.a!, g.ints([1, -1, 2, 0])])[0]!,
  },
];

describe('per-operator gradient checks (central differences through onnxruntime)', () => {
  for (const c of cases) {
    const dtype = c.dtype ?? 'float64';
    const tol = dtype === 'float64' ? 1e-6 : 1e-3;
    it(`${c.name} [${dtype}, rel. error <= ${tol}]`, async () => {
      rng = new Sfc32(streamSeed(20261123, c.name));
      const r = await checkOpGradients(c.inputs(), c.build);
      if (process.env.AUTODIFF_REPORT)
        console.info(`[autodiff op] ${c.name} [${dtype}]: ${r.relativeError.toExponential(2)} (${r.checked} entries)`);
      expect(r.checked).toBeGreaterThan(0);
      expect(r.numericNorm).toBeGreaterThan(1e-3);
      expect(r.relativeError).toBeLessThanOrEqual(tol);
    });
  }
});

describe('opset versions', () => {
  it('opset 18 models get ReduceMean with axes as an input (LayerNormalization gradient)', async () => {
    rng = new Sfc32(18);
    const inputs = { a: x([2, 3, 5]), s: x([5]), b: x([5]) };
    const model = buildModel(inputs, (g, v) => g.softmax(g.layerNormalization(v.a!, v.s!, v.b!), -1));
    model.opsetImport = [{ domain: '', version: 18 }];
    const r = await checkModelGradients(model, inputs, { inputsGrad: ['a', 's', 'b'] });
    expect(r.relativeError).toBeLessThanOrEqual(1e-6);
  });

  it('the Gelu operator of opset 20 (float32)', async () => {
    rng = new Sfc32(20);
    const inputs = { a: x([3, 7], { dtype: 'float32' }) };
    const model = buildModel(inputs, (g, v) => g.node('Gelu', [v.a!])[0]!);
    model.opsetImport = [{ domain: '', version: 20 }];
    model.irVersion = 9;
    const r = await checkModelGradients(model, inputs, { inputsGrad: ['a'] });
    expect(r.relativeError).toBeLessThanOrEqual(1e-3);
  });

  it('refuses opset < 13 models', () => {
    const model = buildModel({ a: x([2, 3]) }, (g, v) => g.relu(v.a!));
    model.opsetImport = [{ domain: '', version: 11 }];
    expect(() => differentiate(model, { inputsGrad: true })).toThrow(/opset 11/);
  });
});
