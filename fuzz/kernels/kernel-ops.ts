/**
 * The kernel ops the kernel fuzz surface calls: for each, a builder of valid arguments at
 * small awkward sizes (positional values, the options object last) and the call itself in
 * its Promise and *Sync forms. Mutations (kernels.ts) then turn the valid call hostile.
 */
import {
  AdamW,
  DeviceTensor,
  augment,
  augmentParams,
  augmentSync,
  bceWithLogits,
  bceWithLogitsSync,
  contrastiveLoss,
  contrastiveLossSync,
  cosineSchedule,
  createHead,
  dinoLoss,
  dinoLossSync,
  emaTeacherUpdate,
  emaTeacherUpdateSync,
  emaUpdate,
  emaUpdateSync,
  gelu,
  geluBackward,
  geluBackwardSync,
  geluSync,
  gradNorm,
  gradNormSync,
  halfBitsToFloat32,
  ibotLoss,
  ibotLossSync,
  koleoLoss,
  koleoLossSync,
  l2Normalize,
  l2NormalizeBackward,
  l2NormalizeBackwardSync,
  l2NormalizeSync,
  linearBackward,
  linearBackwardSync,
  linearForward,
  linearForwardSync,
  ordinalLoss,
  ordinalLossSync,
  ordinalPredict,
  setThreads,
  similarity,
  similaritySync,
  sinkhornKnopp,
  sinkhornKnoppSync,
  softmaxCrossEntropy,
  softmaxCrossEntropySync,
  teacherMomentum,
  teacherTemperature,
  updateCenter,
  updateCenterSync,
  adamwStep,
  adamwStepSync,
} from '../../src/index.js';
import type { Rng } from '../../src/random/index.js';

export type Args = unknown[];

export interface KernelOp {
  name: string;
  build(r: Rng): Args;
  call(args: Args, async: boolean): unknown;
}

const SIZES = [1, 2, 3, 5, 7, 8, 13, 17, 31, 33];
export const size = (r: Rng): number => r.pick(SIZES);
export const floats = (r: Rng, n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * (r.next() * 2 - 1));

type Fn = (...a: any[]) => unknown;
const pair =
  (asyncFn: Fn, syncFn: Fn) =>
  (args: Args, async: boolean): unknown =>
    (async ? asyncFn : syncFn)(...args);

export const OPS: KernelOp[] = [
  {
    name: 'similarity',
    build(r) {
      const n = size(r),
        m = size(r),
        d = size(r);
      return [
        floats(r, n * d),
        floats(r, m * d),
        { n, m, d, scale: r.uniform(0.5, 20), ...(r.chance(0.5) ? { out: new Float32Array(n * m) } : {}) },
      ];
    },
    call: pair(similarity, similaritySync),
  },
  {
    name: 'l2Normalize',
    build(r) {
      const rows = size(r),
        dim = size(r);
      return [floats(r, rows * dim), { rows, dim, ...(r.chance(0.5) ? { out: new Float32Array(rows * dim) } : {}) }];
    },
    call: pair(l2Normalize, l2NormalizeSync),
  },
  {
    name: 'l2NormalizeBackward',
    build(r) {
      const rows = size(r),
        dim = size(r);
      return [floats(r, rows * dim), floats(r, rows * dim), { rows, dim, ...(r.chance(0.5) ? { out: new Float32Array(rows * dim) } : {}) }];
    },
    call: pair(l2NormalizeBackward, l2NormalizeBackwardSync),
  },
  {
    name: 'linearForward',
    build(r) {
      const rows = size(r),
        inFeatures = size(r),
        outFeatures = size(r);
      return [
        floats(r, rows * inFeatures),
        floats(r, outFeatures * inFeatures),
        r.chance(0.7) ? floats(r, outFeatures) : undefined,
        { rows, inFeatures, outFeatures, ...(r.chance(0.5) ? { out: new Float32Array(rows * outFeatures) } : {}) },
      ];
    },
    call: pair(linearForward, linearForwardSync),
  },
  {
    name: 'linearBackward',
    build(r) {
      const rows = size(r),
        inFeatures = size(r),
        outFeatures = size(r);
      const grad = (n: number): Float32Array | true | undefined => r.pick([new Float32Array(n), true, undefined]);
      return [
        floats(r, rows * inFeatures),
        floats(r, outFeatures * inFeatures),
        floats(r, rows * outFeatures),
        {
          rows,
          inFeatures,
          outFeatures,
          dx: grad(rows * inFeatures),
          dw: grad(outFeatures * inFeatures),
          db: grad(outFeatures),
          accumulate: r.chance(0.3),
        },
      ];
    },
    call: pair(linearBackward, linearBackwardSync),
  },
  {
    name: 'gelu',
    build(r) {
      const n = size(r) * size(r);
      return [floats(r, n, 4), r.chance(0.5) ? { out: new Float32Array(n) } : {}];
    },
    call: pair(gelu, geluSync),
  },
  {
    name: 'geluBackward',
    build(r) {
      const n = size(r) * size(r);
      return [floats(r, n, 4), floats(r, n), r.chance(0.5) ? { out: new Float32Array(n) } : {}];
    },
    call: pair(geluBackward, geluBackwardSync),
  },
  {
    name: 'bceWithLogits',
    build(r) {
      const rows = size(r),
        classes = size(r);
      const targets = Float32Array.from({ length: rows * classes }, () => r.pick([0, 1, -1]));
      return [
        floats(r, rows * classes, 5),
        targets,
        {
          rows,
          classes,
          uncertain: r.pick(['ignore', 'ones', 'zeros']),
          ...(r.chance(0.4) ? { mask: Uint8Array.from({ length: rows * classes }, () => r.int(2)) } : {}),
          ...(r.chance(0.3) ? { posWeight: Float32Array.from({ length: classes }, () => r.uniform(0.1, 5)) } : {}),
          ...(r.chance(0.3) ? { grad: new Float32Array(rows * classes) } : {}),
        },
      ];
    },
    call: pair(bceWithLogits, bceWithLogitsSync),
  },
  {
    name: 'softmaxCrossEntropy',
    build(r) {
      const rows = size(r),
        classes = size(r) + 1;
      const soft = r.chance(0.4);
      return [
        floats(r, rows * classes, 5),
        {
          rows,
          classes,
          ...(soft
            ? { targets: Float32Array.from({ length: rows * classes }, () => r.next()) }
            : { labels: Int32Array.from({ length: rows }, () => r.int(classes + 1) - 1) }),
          ...(r.chance(0.3) ? { labelSmoothing: r.uniform(0, 0.5) } : {}),
          ...(r.chance(0.3) ? { temperature: r.uniform(0.5, 4) } : {}),
          ...(r.chance(0.3) ? { grad: new Float32Array(rows * classes) } : {}),
        },
      ];
    },
    call: pair(softmaxCrossEntropy, softmaxCrossEntropySync),
  },
  {
    name: 'ordinalLoss',
    build(r) {
      const rows = size(r),
        levels = 2 + r.int(5);
      return [
        floats(r, rows * (levels - 1), 3),
        Int32Array.from({ length: rows }, () => r.int(levels + 1) - 1),
        { rows, levels, ...(r.chance(0.3) ? { grad: new Float32Array(rows * (levels - 1)) } : {}) },
      ];
    },
    call: pair(ordinalLoss, ordinalLossSync),
  },
  {
    name: 'ordinalPredict',
    build(r) {
      const rows = size(r),
        levels = 2 + r.int(5);
      return [floats(r, rows * (levels - 1), 3), rows, levels];
    },
    call: (args) => ordinalPredict(...(args as Parameters<typeof ordinalPredict>)),
  },
  {
    name: 'adamwStep',
    build(r) {
      const n = size(r) * size(r);
      return [
        floats(r, n),
        floats(r, n),
        { m: floats(r, n, 0.1), v: Float32Array.from({ length: n }, () => r.next() * 0.01) },
        {
          lr: r.uniform(1e-5, 1e-1),
          step: 1 + r.int(100),
          ...(r.chance(0.3) ? { weightDecay: r.uniform(0, 0.1) } : {}),
          ...(r.chance(0.3) ? { maxGradNorm: r.uniform(0.1, 2) } : {}),
          ...(r.chance(0.3) ? { decayMask: Uint8Array.from({ length: n }, () => r.int(2)) } : {}),
        },
      ];
    },
    call: pair(adamwStep, adamwStepSync),
  },
  {
    name: 'gradNorm',
    build: (r) => [floats(r, size(r) * size(r)), {}],
    call: pair(gradNorm, gradNormSync),
  },
  {
    name: 'emaUpdate',
    build(r) {
      const n = size(r) * size(r);
      return [floats(r, n), floats(r, n), r.next(), {}];
    },
    call: pair(emaUpdate, emaUpdateSync),
  },
  {
    name: 'AdamW',
    build(r) {
      const n = size(r) * size(r);
      const state = {
        step: 1 + r.int(9),
        numParams: n,
        m: floats(r, n, 0.1),
        v: Float32Array.from({ length: n }, () => r.next() * 0.01),
        hyperparameters: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
      };
      return [n, floats(r, n), floats(r, n), r.chance(0.5) ? state : undefined, { lr: r.uniform(1e-4, 1e-2) }];
    },
    async call(args, async) {
      const [n, params, grads, state, options] = args as [number, Float32Array, Float32Array, unknown, { lr: number }];
      const optimizer = new AdamW(n, { onNonFinite: 'throw' });
      if (state !== undefined) optimizer.loadState(state as Parameters<AdamW['loadState']>[0]);
      const result = async ? await optimizer.step(params, grads, options) : optimizer.stepSync(params, grads, options);
      return [result, optimizer.state()];
    },
  },
  {
    name: 'contrastiveLoss',
    build(r) {
      const batch = size(r),
        dim = size(r);
      const kind = r.pick(['infonce', 'siglip'] as const);
      return [
        floats(r, batch * dim),
        floats(r, batch * dim),
        {
          batch,
          dim,
          kind,
          logitScale: r.uniform(1, 30),
          ...(kind === 'siglip' && r.chance(0.5) ? { bias: r.uniform(-10, 0) } : {}),
          ...(r.chance(0.3) ? { normalize: r.chance(0.7) } : {}),
          ...(r.chance(0.3) ? { groups: Int32Array.from({ length: batch }, () => r.int(Math.max(1, batch >> 1))) } : {}),
          ...(kind === 'infonce' && r.chance(0.3) ? { relaxThreshold: r.uniform(0.2, 0.9) } : {}),
        },
      ];
    },
    call: pair(contrastiveLoss, contrastiveLossSync),
  },
  {
    name: 'dinoLoss',
    build(r) {
      const batch = size(r),
        prototypes = size(r) + 1,
        studentViews = 1 + r.int(4),
        teacherViews = 1 + r.int(2);
      const sinkhorn = r.chance(0.4);
      const center = floats(r, prototypes, 0.1);
      return [
        floats(r, studentViews * batch * prototypes, 3),
        floats(r, teacherViews * batch * prototypes, 3),
        {
          batch,
          prototypes,
          studentViews,
          teacherViews,
          studentTemperature: 0.1,
          teacherTemperature: r.uniform(0.02, 0.07),
          normalization: sinkhorn ? 'sinkhorn' : 'center',
          ...(sinkhorn
            ? {}
            : {
                center,
                ...(r.chance(0.5) ? { updateCenter: true, centerMomentum: 0.9, ...(r.chance(0.5) ? { centerOut: center } : {}) } : {}),
              }),
        },
      ];
    },
    call: pair(dinoLoss, dinoLossSync),
  },
  {
    name: 'ibotLoss',
    build(r) {
      const batch = size(r),
        patches = size(r),
        prototypes = size(r) + 1;
      return [
        floats(r, batch * patches * prototypes, 3),
        floats(r, batch * patches * prototypes, 3),
        Uint8Array.from({ length: batch * patches }, () => r.int(2)),
        { batch, patches, prototypes, normalization: 'sinkhorn', teacherTemperature: 0.05 },
      ];
    },
    call: pair(ibotLoss, ibotLossSync),
  },
  {
    name: 'koleoLoss',
    build(r) {
      const rows = 2 + r.int(20),
        dim = size(r);
      return [floats(r, rows * dim), { rows, dim }];
    },
    call: pair(koleoLoss, koleoLossSync),
  },
  {
    name: 'sinkhornKnopp',
    build(r) {
      const rows = size(r),
        prototypes = size(r) + 1;
      return [floats(r, rows * prototypes, 3), { rows, prototypes, temperature: r.uniform(0.02, 1), iterations: 1 + r.int(5) }];
    },
    call: pair(sinkhornKnopp, sinkhornKnoppSync),
  },
  {
    name: 'updateCenter',
    build(r) {
      const rows = size(r),
        prototypes = size(r);
      const center = floats(r, prototypes);
      return [
        center,
        floats(r, rows * prototypes),
        { rows, prototypes, momentum: r.next(), ...(r.chance(0.4) ? { out: r.chance(0.5) ? center : new Float32Array(prototypes) } : {}) },
      ];
    },
    call: pair(updateCenter, updateCenterSync),
  },
  {
    name: 'emaTeacherUpdate',
    build(r) {
      const n = size(r) * size(r);
      return [floats(r, n), floats(r, n), { momentum: r.next() }];
    },
    call: pair(emaTeacherUpdate, emaTeacherUpdateSync),
  },
  {
    name: 'augment',
    build(r) {
      const count = 1 + r.int(3);
      const images = Array.from({ length: count }, (_, i) => {
        const height = 4 + r.int(40),
          width = 4 + r.int(40);
        const kind = r.int(3);
        const data =
          kind === 0
            ? Uint8Array.from({ length: height * width }, () => r.int(256))
            : kind === 1
              ? Uint16Array.from({ length: height * width }, () => r.int(65536))
              : floats(r, height * width);
        return { data, height, width, ...(r.chance(0.3) ? { key: i * 7 } : {}) };
      });
      const size1 = r.pick([4, 8, 12, 16]);
      const spec = {
        crops: [
          { count: 1 + r.int(2), size: size1, scale: [0.3, 1] as [number, number] },
          ...(r.chance(0.5) ? [{ count: 1 + r.int(3), size: 8, scale: [0.05, 0.4] as [number, number] }] : []),
        ],
        ...(r.chance(0.5) ? { flip: { horizontal: 0.5 } } : {}),
        ...(r.chance(0.4) ? { rotate: { degrees: 10 } } : {}),
        ...(r.chance(0.4) ? { intensity: { brightness: 0.2, contrast: 0.2, gamma: 1.5, p: 0.8 } } : {}),
        ...(r.chance(0.3) ? { blur: { sigma: [0.1, 2] as [number, number], p: 0.5 } } : {}),
        ...(r.chance(0.3) ? { noise: { std: 0.05 } } : {}),
        ...(r.chance(0.3) ? { mask: { patchSize: 4, ratio: [0.1, 0.5] as [number, number] } } : {}),
        ...(r.chance(0.3) ? { normalize: { mean: 0.5, std: 0.25 } } : {}),
        ...(r.chance(0.2) ? { output: r.pick(['bfloat16', 'float16'] as const) } : {}),
      };
      return [images, spec, { seed: r.int(1000), step: r.int(10) }];
    },
    call: pair(augment, augmentSync),
  },
  {
    name: 'augmentParams',
    build(r) {
      const images = [{ height: 8 + r.int(40), width: 8 + r.int(40) }];
      return [images, { crops: [{ count: 2, size: 8, scale: [0.3, 1] }] }, { seed: r.int(100), step: 0 }];
    },
    call: (args) => augmentParams(...(args as Parameters<typeof augmentParams>)),
  },
  {
    name: 'halfBitsToFloat32',
    build: (r) => [Uint16Array.from({ length: size(r) }, () => r.int(65536)), r.pick(['bfloat16', 'float16'])],
    call: (args) => halfBitsToFloat32(...(args as Parameters<typeof halfBitsToFloat32>)),
  },
  {
    name: 'createHead',
    build: (r) => {
      const rows = size(r),
        inFeatures = size(r),
        outFeatures = size(r);
      const options = r.chance(0.5)
        ? { inFeatures, outFeatures, seed: r.int(100) }
        : { kind: 'mlp', inFeatures, hidden: size(r), outFeatures, seed: r.int(100) };
      return [options, floats(r, rows * inFeatures), rows, floats(r, rows * outFeatures)];
    },
    call(args) {
      const [options, x, rows, dy] = args as [Parameters<typeof createHead>[0], Float32Array, number, Float32Array];
      const head = createHead(options);
      const y = head.forward(x, rows);
      head.params.zeroGrad();
      return [y, head.backward(dy, { inputGrad: true }), head.params.grad];
    },
  },
  {
    name: 'cosineSchedule',
    build: (r) => [{ base: r.uniform(1e-4, 1e-2), totalSteps: 1 + r.int(100), warmupSteps: r.int(2), final: 0 }, r.int(120)],
    call(args) {
      const [options, step] = args as [Parameters<typeof cosineSchedule>[0], number];
      return cosineSchedule(options)(step);
    },
  },
  {
    name: 'teacherSchedules',
    build: (r) => [r.int(50), { warmupEpochs: r.int(10), warmupTemperature: 0.04, temperature: 0.07 }, r.int(100), 100],
    call(args) {
      const [epoch, options, step, total] = args as [number, Parameters<typeof teacherTemperature>[1], number, number];
      return [teacherTemperature(epoch, options), teacherMomentum(step, total)];
    },
  },
  {
    name: 'setThreads',
    build: (r) => [r.pick([1, 2, 3, 4, 0])],
    call(args) {
      try {
        return setThreads(args[0] as number);
      } finally {
        setThreads(0); // leave the default pool for the next case
      }
    },
  },
  {
    name: 'DeviceTensor',
    build: (r) => [floats(r, 6), [2, 3], r.pick(['float32', 'float16', 'bfloat16'])],
    call(args) {
      const tensor = DeviceTensor.upload(...(args as Parameters<typeof DeviceTensor.upload>));
      try {
        return tensor.download();
      } finally {
        tensor.dispose();
      }
    },
  },
];
