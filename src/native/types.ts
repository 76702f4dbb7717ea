/** The addon's raw surface as the TS layer sees it. Users call src/kernels, never this. */

export type NativeBackend = 'cpu' | 'cuda';
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int32' | 'uint8' | 'uint16';

export interface NativeDeviceTensor {
  readonly dims: number[];
  readonly dtype: DType;
  readonly disposed: boolean;
  readonly byteLength: number;
  download(): Float32Array | Int32Array | Uint8Array | Uint16Array;
  dispose(): void;
}

export interface NativeDeviceTensorClass {
  upload(data: ArrayBufferView, dims: number[], dtype?: DType): NativeDeviceTensor;
  empty(dims: number[], dtype?: DType): NativeDeviceTensor;
}

export interface NativeBackendInfo {
  cudaCompiled: boolean;
  nvtx: boolean;
  threads: number;
  maxThreads: number;
  device: null | {
    name: string;
    computeCapability: string;
    memoryBytes: number;
    driverVersion: number;
    runtimeVersion: number;
    multiprocessors: number;
  };
  deviceReason?: string;
  runtimeVersion?: number;
}

/** How the addon binary was built (native/src/bindings/build_info.cc). */
export interface NativeBuildInfo {
  /** The radlearn version whose sources it was compiled from. */
  version: string;
  /** cmake-js or node-gyp. */
  builder: string;
  /** e.g. "GCC 12.2.0". */
  compiler: string;
  /** What the build system passed: build type, optimisation, -march=native, nvcc and how cudart is linked. */
  flags: string;
  /** The CPU vector extensions the compiler targeted, e.g. "x86-64" or "x86-64 sse4.2 avx avx2 fma". */
  isa: string;
  /** CUDA architectures compiled in, e.g. "80-real,86-real,89-real,90-real,90-virtual"; null without CUDA. */
  cudaArchs: string | null;
}

export interface NativeTraceEvent {
  name: string;
  cat: string;
  ts: number;
  dur: number;
  tid: number;
}

/** What a loss kernel returns: the mean loss, the number of valid entries and d(loss)/d(logits). */
export interface NativeLossResult {
  loss: number;
  valid: number;
  grad: NativeFloat;
}

/** A float32 operand as the addon accepts it. */
export type NativeFloat = Float32Array | NativeDeviceTensor;

/** Whether an MPI library could be loaded, which, and why not. */
export interface NativeMpiProbe {
  available: boolean;
  library: string;
  version: string;
  reason: string;
}

export interface NativeAddon {
  abiVersion: number;
  DeviceTensor: NativeDeviceTensorClass;
  backend(): NativeBackendInfo;
  /** Absent from addons built before it existed (a RADLEARN_ADDON override may be one). */
  buildInfo?(): NativeBuildInfo;
  setThreads(threads: number): number;
  maxThreads(): number;
  traceEnable(on: boolean): void;
  traceTake(): NativeTraceEvent[];
  traceNow(): number;

  similarity(a: NativeFloat, b: NativeFloat, options: NativeSimilarityOptions): NativeFloat | Promise<NativeFloat>;
  l2Normalize(x: NativeFloat, options: NativeL2NormalizeOptions): NativeFloat | Promise<NativeFloat>;
  l2NormalizeBackward(x: NativeFloat, grad: NativeFloat, options: NativeL2NormalizeOptions): NativeFloat | Promise<NativeFloat>;
  benchSimilarityCuda(options: { n: number; m: number; d: number; iterations: number }): Float64Array;

  linearForward(x: NativeFloat, w: NativeFloat, options: NativeLinearForwardOptions): NativeFloat | Promise<NativeFloat>;
  linearBackward(x: NativeFloat, w: NativeFloat, dy: NativeFloat, options: NativeLinearBackwardOptions): undefined | Promise<undefined>;
  geluForward(x: NativeFloat, options: NativeElementwiseOptions): NativeFloat | Promise<NativeFloat>;
  geluBackward(x: NativeFloat, dy: NativeFloat, options: NativeElementwiseOptions): NativeFloat | Promise<NativeFloat>;
  benchLinearCuda(options: { rows: number; inFeatures: number; outFeatures: number; iterations: number }): { forward: Float64Array; backward: Float64Array };

  bceWithLogits(logits: NativeFloat, targets: NativeFloat, options: NativeBceOptions): NativeLossResult | Promise<NativeLossResult>;
  softmaxCrossEntropy(logits: NativeFloat, options: NativeSoftmaxCrossEntropyOptions): NativeLossResult | Promise<NativeLossResult>;
  ordinalLoss(logits: NativeFloat, levels: NativeFloat, options: NativeOrdinalOptions): NativeLossResult | Promise<NativeLossResult>;

  adamwStep(params: NativeFloat, grads: NativeFloat, m: NativeFloat, v: NativeFloat, options: NativeAdamWOptions): number | Promise<number>;
  gradNorm(grads: NativeFloat, options: NativeGradNormOptions): number | Promise<number>;
  emaUpdate(ema: NativeFloat, params: NativeFloat, options: NativeEmaOptions): undefined | Promise<undefined>;
  benchAdamwCuda(options: { length: number; iterations: number }): Float64Array;

  contrastive(image: NativeFloat, text: NativeFloat, options: NativeContrastiveOptions): NativeContrastiveOutput | Promise<NativeContrastiveOutput>;
  benchContrastiveCuda(options: { batch: number; dim: number; kind: 'infonce' | 'siglip'; dtype: 'float32' | 'bfloat16' | 'float16';
    iterations: number }): Float64Array;

  dinoLoss(student: NativeFloat, teacher: NativeFloat, options: NativeDinoOptions): NativeDistillResult | Promise<NativeDistillResult>;
  ibotLoss(student: NativeFloat, teacher: NativeFloat, masks: Uint8Array | NativeDeviceTensor,
    options: NativeIbotOptions): NativeDistillResult | Promise<NativeDistillResult>;
  koleoLoss(x: NativeFloat, options: NativeKoleoOptions): NativeDistillResult | Promise<NativeDistillResult>;
  sinkhornKnopp(logits: NativeFloat, options: NativeSinkhornOptions): NativeFloat | Promise<NativeFloat>;
  updateCenter(center: NativeFloat, teacher: NativeFloat, options: NativeUpdateCenterOptions): NativeFloat | Promise<NativeFloat>;

  /** MPI, loaded at run time (native/include/radlearn/mpi_runtime.h); absent from addons built before it. */
  mpiProbe?(): NativeMpiProbe;
  mpiInit?(): { rank: number; size: number };
  mpiAllreduce?(values: Float32Array | Float64Array, op: 'sum' | 'max'): void;
  mpiAllgather?(values: Float32Array | Float64Array, out: Float32Array | Float64Array): void;
  mpiBroadcast?(bytes: ArrayBufferView, root: number): void;
  mpiBarrier?(): void;
  mpiAbort?(code: number): never;
  mpiFinalize?(): void;
  /** NCCL on DeviceTensors, loaded at run time (native/include/radlearn/nccl_runtime.h); absent from older addons. */
  ncclProbe?(): NativeMpiProbe;
  ncclUniqueId?(): Uint8Array;
  ncclInit?(id: Uint8Array, rank: number, size: number, device: number): void;
  ncclAllreduce?(tensor: NativeDeviceTensor, op: 'sum' | 'max'): void;
  ncclAllgather?(tensor: NativeDeviceTensor, out: NativeDeviceTensor, size: number): void;
  ncclBroadcast?(tensor: NativeDeviceTensor, root: number): void;
  ncclDestroy?(): void;
  emaTeacherUpdate(teacher: NativeFloat, student: NativeFloat, options: NativeEmaTeacherOptions): NativeFloat | Promise<NativeFloat>;
  benchDistillCuda(options: { op: 'dino'; studentViews: number; teacherViews: number; batch: number; prototypes: number; iterations: number }
    | { op: 'koleo'; rows: number; dim: number; iterations: number }): Float64Array;
}

/*
 * One options interface per kernel binding: the fields the C++ side reads by name
 * (native/src/bindings/<op>.cc). The TS wrappers in src/kernels validate every value and
 * apply every default before building these; the addon checks only what protects memory
 * (sizes against operand lengths, placement, dtype, overlap, loop bounds, label indices).
 */

/** Fields every kernel binding reads: where it runs and whether it returns a Promise. */
export interface NativeCall {
  backend: NativeBackend;
  async: boolean;
}

export interface NativeSimilarityOptions extends NativeCall {
  n: number;
  m: number;
  d: number;
  scale: number;
  out?: NativeFloat;
}

export interface NativeL2NormalizeOptions extends NativeCall {
  rows: number;
  dim: number;
  out?: NativeFloat;
}

export interface NativeLinearForwardOptions extends NativeCall {
  rows: number;
  inFeatures: number;
  outFeatures: number;
  b?: NativeFloat;
  out?: NativeFloat;
}

export interface NativeLinearBackwardOptions extends NativeCall {
  rows: number;
  inFeatures: number;
  outFeatures: number;
  dx?: NativeFloat;
  dw?: NativeFloat;
  db?: NativeFloat;
  accumulate: boolean;
}

export interface NativeElementwiseOptions extends NativeCall {
  length: number;
  out?: NativeFloat;
}

export interface NativeBceOptions extends NativeCall {
  rows: number;
  classes: number;
  mask?: NativeFloat;
  posWeight?: NativeFloat;
  uncertain: 'ignore' | 'ones' | 'zeros';
  grad?: NativeFloat;
}

export interface NativeSoftmaxCrossEntropyOptions extends NativeCall {
  rows: number;
  classes: number;
  /** Exactly one of labels and targets. */
  labels?: NativeFloat;
  targets?: NativeFloat;
  labelSmoothing: number;
  temperature: number;
  grad?: NativeFloat;
}

export interface NativeOrdinalOptions extends NativeCall {
  rows: number;
  levels: number;
  grad?: NativeFloat;
}

export interface NativeAdamWOptions extends NativeCall {
  length: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  /** 0: no clipping. */
  maxGradNorm: number;
  decayMask?: Uint8Array | NativeDeviceTensor;
}

export interface NativeGradNormOptions extends NativeCall {
  length: number;
}

export interface NativeEmaOptions extends NativeCall {
  length: number;
  momentum: number;
}

export interface NativeContrastiveOptions extends NativeCall {
  batch: number;
  dim: number;
  kind: 'infonce' | 'siglip';
  logitScale: number;
  bias: number;
  normalize: boolean;
  groups?: Int32Array;
  relaxThreshold?: number;
}

/** The teacher-target fields DINO and iBOT share. */
export interface NativeTeacherTargets extends NativeCall {
  center?: NativeFloat;
  studentTemperature: number;
  teacherTemperature: number;
  normalization: 'center' | 'sinkhorn';
  sinkhornIterations: number;
  centerMomentum: number;
  updateCenter: boolean;
  gradOut?: NativeFloat;
  centerOut?: NativeFloat;
}

export interface NativeDinoOptions extends NativeTeacherTargets {
  studentViews: number;
  teacherViews: number;
  batch: number;
  prototypes: number;
}

export interface NativeIbotOptions extends NativeTeacherTargets {
  batch: number;
  patches: number;
  prototypes: number;
}

export interface NativeKoleoOptions extends NativeCall {
  rows: number;
  dim: number;
  gradOut?: NativeFloat;
}

export interface NativeSinkhornOptions extends NativeCall {
  rows: number;
  prototypes: number;
  temperature: number;
  iterations: number;
  out?: NativeFloat;
}

export interface NativeUpdateCenterOptions extends NativeCall {
  rows: number;
  prototypes: number;
  momentum: number;
  out?: NativeFloat;
}

export interface NativeEmaTeacherOptions extends NativeCall {
  n: number;
  momentum: number;
}

/** What the distillation losses return (distinct from the heads' NativeLossResult): the loss, the gradient wrt the student, the new center. */
export interface NativeDistillResult {
  loss: number;
  grad: NativeFloat;
  center?: NativeFloat;
}

/** Raw result of the augment binding: one output (and mask) per crop group, params per view. */
export interface NativeAugmentResult {
  outputs: Array<Float32Array | Uint16Array | NativeDeviceTensor>;
  masks: Array<Uint8Array | NativeDeviceTensor | null>;
  params: Float64Array;
}

export interface NativeContrastiveOutput {
  loss: number;
  gradImage: NativeFloat;
  gradText: NativeFloat;
  gradLogitScale: number;
  gradBias?: number;
}

export type NativeRange = [number, number];

/** An augment spec after src/kernels/augment-spec.ts validated it and applied every default. */
export interface NativeAugmentSpec {
  crops: Array<{
    count: number;
    size: number;
    scale: NativeRange;
    ratio: NativeRange;
    mask: { mode: 'block' | 'random'; patchSize: number; ratio: NativeRange; p: number } | null;
  }>;
  flip: { horizontal: number; vertical: number };
  rotate: { p: number; degrees: NativeRange };
  translate: { p: number; x: number; y: number };
  intensity: { p: number; brightness: NativeRange; contrast: NativeRange; gamma: NativeRange };
  blur: { p: number; sigma: NativeRange };
  noise: { p: number; std: NativeRange };
  /** null: the dtype's own range. */
  window: { center: number; width: number } | null;
  normalize: { mean: number; std: number };
  output: 'float32' | 'bfloat16' | 'float16';
}

/** The images' shapes and the draw keys of an augment call (one entry per image). */
export interface NativeAugmentDraw {
  heights: number[];
  widths: number[];
  keys: number[];
  spec: NativeAugmentSpec;
  seed: number;
  step: number;
}

export interface NativeAugment {
  augment(images: Array<Uint8Array | Uint16Array | Float32Array | NativeDeviceTensor>,
    options: NativeAugmentDraw & NativeCall): NativeAugmentResult | Promise<NativeAugmentResult>;
  augmentParams(options: NativeAugmentDraw): { masks: Array<Uint8Array | null>; params: Float64Array };
  benchAugmentCuda(options: { height: number; width: number; sourceDtype: 'uint8' | 'uint16' | 'float32'; batch: number;
    spec: NativeAugmentSpec; iterations: number }): { kernelMs: Float64Array; callMs: Float64Array; copyMs: Float64Array; outputBytes: number };
}

// Declaration merging adds the augment functions to NativeAddon without touching its body.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeAddon extends NativeAugment {}
