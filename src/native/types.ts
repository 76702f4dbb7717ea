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

export interface NativeTraceEvent {
  name: string;
  cat: string;
  ts: number;
  dur: number;
  tid: number;
}

/** A float32 operand as the addon accepts it. */
export type NativeFloat = Float32Array | NativeDeviceTensor;

export interface NativeAddon {
  abiVersion: number;
  DeviceTensor: NativeDeviceTensorClass;
  backend(): NativeBackendInfo;
  setThreads(threads: number): number;
  traceEnable(on: boolean): void;
  traceTake(): NativeTraceEvent[];
  traceNow(): number;

  similarity(a: NativeFloat, b: NativeFloat, n: number, m: number, d: number, scale: number,
    out: NativeFloat | undefined, backend: NativeBackend, async: boolean): NativeFloat | Promise<NativeFloat>;
  l2Normalize(x: NativeFloat, rows: number, dim: number, out: NativeFloat | undefined, backend: NativeBackend,
    async: boolean): NativeFloat | Promise<NativeFloat>;
  l2NormalizeBackward(x: NativeFloat, grad: NativeFloat, rows: number, dim: number, out: NativeFloat | undefined,
    backend: NativeBackend, async: boolean): NativeFloat | Promise<NativeFloat>;
  benchSimilarityCuda(n: number, m: number, d: number, iterations: number): Float64Array;

  dinoLoss(student: NativeFloat, teacher: NativeFloat, center: NativeFloat | undefined, studentViews: number,
    teacherViews: number, batch: number, prototypes: number, studentTemperature: number, teacherTemperature: number,
    normalization: 'center' | 'sinkhorn', sinkhornIterations: number, centerMomentum: number, updateCenter: boolean,
    gradOut: NativeFloat | undefined, centerOut: NativeFloat | undefined, backend: NativeBackend,
    async: boolean): NativeLossResult | Promise<NativeLossResult>;
  ibotLoss(student: NativeFloat, teacher: NativeFloat, masks: Uint8Array | NativeDeviceTensor, center: NativeFloat | undefined,
    batch: number, patches: number, prototypes: number, studentTemperature: number, teacherTemperature: number,
    normalization: 'center' | 'sinkhorn', sinkhornIterations: number, centerMomentum: number, updateCenter: boolean,
    gradOut: NativeFloat | undefined, centerOut: NativeFloat | undefined, backend: NativeBackend,
    async: boolean): NativeLossResult | Promise<NativeLossResult>;
  koleoLoss(x: NativeFloat, rows: number, dim: number, gradOut: NativeFloat | undefined, backend: NativeBackend,
    async: boolean): NativeLossResult | Promise<NativeLossResult>;
  sinkhornKnopp(logits: NativeFloat, rows: number, prototypes: number, temperature: number, iterations: number,
    out: NativeFloat | undefined, backend: NativeBackend, async: boolean): NativeFloat | Promise<NativeFloat>;
  updateCenter(center: NativeFloat, teacher: NativeFloat, rows: number, prototypes: number, momentum: number,
    out: NativeFloat | undefined, backend: NativeBackend, async: boolean): NativeFloat | Promise<NativeFloat>;
  emaTeacherUpdate(teacher: NativeFloat, student: NativeFloat, n: number, momentum: number, backend: NativeBackend,
    async: boolean): NativeFloat | Promise<NativeFloat>;
  benchDistillCuda(op: 'dino' | 'koleo', a: number, b: number, c: number, d: number, iterations: number): Float64Array;
}

/** What the distillation losses return: the loss, the gradient wrt the student, the new center. */
export interface NativeLossResult {
  loss: number;
  grad: NativeFloat;
  center?: NativeFloat;
}
