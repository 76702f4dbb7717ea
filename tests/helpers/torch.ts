/**
 * PyTorch as an oracle: runs tests/helpers/torch_reference.py with Debian's /usr/bin/python3
 * (python3-torch, python3-torchvision, python3-onnx) and reads what it wrote. Where those packages
 * are missing the tests skip with the reason; under CI=true they are required.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { differentiate } from '../../src/onnx/autodiff/differentiate.js';
import { TrainingSession } from '../../src/onnx/autodiff/session.js';
import { loadModel } from '../../src/onnx/model-io.js';
import { readParameters } from '../../src/onnx/parameters.js';
import type { TensorLike } from '../../src/onnx/tensor.js';
import { parseTrainConfig } from '../../src/train/config.js';
import type { TrainDataset } from '../../src/train/dataset.js';
import { EncoderSlot, IMAGE_PREFIX } from '../../src/train/finetune/encoder-slot.js';
import { segmentedOptimizer } from '../../src/train/finetune/segmented-optimizer.js';
import { slotSelection } from '../../src/train/finetune/setup.js';
import { resolveTrainOps } from '../../src/train/ops.js';
import { FlatParameters } from '../../src/train/parameters.js';
import { cosineLr } from '../../src/train/schedules.js';
import { ClassifierHead } from '../../src/train/tasks/classifier-head.js';
import { SINGLE_PROCESS } from '../../src/distributed/data-parallel.js';

export const PYTHON = '/usr/bin/python3';
export const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TORCH_REQUIRED = process.env.CI === 'true';

/** undefined when torch, torchvision and onnx import in /usr/bin/python3; else why not. */
export function torchMissing(): string | undefined {
  try {
    execFileSync(PYTHON, [REFERENCE_SCRIPT, 'check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return undefined;
  } catch (error) {
    const e = error as { stdout?: string; message: string };
    return `${PYTHON} cannot run the PyTorch reference: ${(e.stdout ?? '').trim() || e.message} (apt-get install python3-torch python3-torchvision python3-onnx)`;
  }
}

export interface BinEntry {
  name: string;
  file: string;
  dtype: 'float32' | 'float64' | 'int64';
  dims: number[];
}

export interface FlatEntry {
  name: string;
  offset: number;
  shape: number[];
}

export interface FlatFile {
  file: string;
  dtype: 'float32' | 'float64';
  tensors: FlatEntry[];
}

/** A temporary folder for one reference run, removed by the returned function. */
export function referenceDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `radlearn-torch-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs one reference command (torch on one thread unless `env` says otherwise) and returns the spec.json it wrote. */
export function runReference<T>(command: string, model: string, dir: string, extra: string[] = [], env: Record<string, string> = {}): T {
  execFileSync(PYTHON, [REFERENCE_SCRIPT, command, model, dir, ...extra], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore', PYTHONDONTWRITEBYTECODE: '1', ...env },
    maxBuffer: 1 << 26,
  });
  return JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as T;
}

function bytesOf(dir: string, file: string): ArrayBuffer {
  const b = readFileSync(join(dir, file));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export function readBin(dir: string, entry: BinEntry): Float32Array | Float64Array | BigInt64Array {
  const buffer = bytesOf(dir, entry.file);
  return entry.dtype === 'int64'
    ? new BigInt64Array(buffer)
    : entry.dtype === 'float64'
      ? new Float64Array(buffer)
      : new Float32Array(buffer);
}

export function readFloat32(dir: string, entry: BinEntry): Float32Array {
  const data = readBin(dir, entry);
  if (!(data instanceof Float32Array)) throw new Error(`${entry.file}: expected float32, got ${entry.dtype}`);
  return data;
}

/** A bin file as an onnxruntime feed. */
export function feedOf(dir: string, entry: BinEntry): TensorLike {
  return {
    type: entry.dtype === 'int64' ? 'int64' : 'float32',
    data: readBin(dir, entry) as Float32Array | BigInt64Array,
    dims: entry.dims,
  };
}

/** The tensors of a flat file by name (float64 views, or float32 widened). */
export function readFlat(dir: string, flat: FlatFile): Map<string, { shape: number[]; values: Float64Array }> {
  const buffer = bytesOf(dir, flat.file);
  const all = flat.dtype === 'float64' ? new Float64Array(buffer) : Float64Array.from(new Float32Array(buffer));
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  return new Map(flat.tensors.map((t) => [t.name, { shape: t.shape, values: all.subarray(t.offset, t.offset + size(t.shape)) }]));
}

export function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

export function diffNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export interface GradientRow {
  name: string;
  size: number;
  /** ||reference|| (float64 autograd). */
  refNorm: number;
  /** ||radlearn - reference|| / ||reference||. */
  relError: number;
  /** ||radlearn - reference||. */
  absError: number;
  /** ||torch float32 - reference|| / ||reference||: PyTorch's own float32 rounding on the same tensor. */
  torch32RelError: number;
}

export interface GradientComparison {
  rows: GradientRow[];
  /** ||reference|| over every parameter. */
  globalNorm: number;
  /** Reference parameters radlearn has no gradient for, and radlearn parameters PyTorch does not have. */
  missing: string[];
  extra: string[];
}

/**
 * radlearn's flat gradients (layout order) against the float64 reference and PyTorch's float32
 * gradients, tensor by tensor.
 */
export function compareGradients(
  layout: { parameters: readonly { name: string; offset: number; size: number }[] },
  flat: Float32Array,
  reference: Map<string, { values: Float64Array }>,
  torch32: Map<string, { values: Float64Array }>,
): GradientComparison {
  const rows: GradientRow[] = [];
  const seen = new Set<string>();
  let global = 0;
  for (const p of layout.parameters) {
    const ref = reference.get(p.name);
    if (!ref) continue;
    seen.add(p.name);
    const g = flat.subarray(p.offset, p.offset + p.size);
    const refNorm = norm(ref.values);
    global += refNorm * refNorm;
    const absError = diffNorm(g, ref.values);
    rows.push({
      name: p.name,
      size: p.size,
      refNorm,
      absError,
      relError: refNorm > 0 ? absError / refNorm : Infinity,
      torch32RelError: refNorm > 0 ? diffNorm(torch32.get(p.name)!.values, ref.values) / refNorm : 0,
    });
  }
  return {
    rows,
    globalNorm: Math.sqrt(global),
    missing: [...reference.keys()].filter((n) => !seen.has(n)),
    extra: layout.parameters.map((p) => p.name).filter((n) => !reference.has(n)),
  };
}

/** What `torch_reference.py gradients` writes. */
export interface GradientSpec {
  model: string;
  output: string;
  inputs: BinEntry[];
  projection: BinEntry;
  /** The output in float64 autograd. */
  output64: BinEntry;
  reference: FlatFile;
  torch32: FlatFile;
  torch: string;
}

/**
 * radlearn's side of a gradient reference: differentiate() the exported model.onnx and run one
 * TrainingSession step with the reference's inputs and grad_<output> = its projection.
 */
export async function radlearnGradients(
  dir: string,
  spec: GradientSpec,
  threads = 1,
): Promise<{ comparison: GradientComparison; outputRelError: number; trainingNodes: number; forwardNodes: number; stepMs: number }> {
  const model = loadModel(join(dir, 'model.onnx'));
  const training = differentiate(model, { outputs: [spec.output], modelPath: `${spec.model} (model.onnx)` });
  const session = await TrainingSession.create(training, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    const inputs: Record<string, TensorLike> = {};
    for (const entry of spec.inputs) inputs[entry.name] = feedOf(dir, entry);
    const gradients = new Float32Array(training.layout.size);
    const started = performance.now();
    const { outputs } = await session.step({
      parameters: readParameters(model, training.layout),
      gradients,
      inputs,
      outputGrads: { [spec.output]: feedOf(dir, spec.projection) },
    });
    const stepMs = performance.now() - started;
    const comparison = compareGradients(training.layout, gradients, readFlat(dir, spec.reference), readFlat(dir, spec.torch32));
    const y64 = readBin(dir, spec.output64) as Float64Array;
    const outputRelError = diffNorm(outputs[spec.output]!.data as Float32Array, y64) / norm(y64);
    return {
      comparison,
      outputRelError,
      trainingNodes: training.model.graph!.node!.length,
      forwardNodes: training.forwardNodeCount,
      stepMs,
    };
  } finally {
    await session.release();
  }
}

/** What `torch_reference.py trajectory` writes. */
export interface TrajectorySpec {
  model: string;
  output: string;
  steps: number;
  batch: number;
  labels: number;
  dim: number;
  hyper: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    maxGradNorm: number;
    warmupSteps: number;
    minLrRatio: number;
    headLrScale: number;
    chunkSize: number;
    batchNorm: 'frozen' | 'batch';
  };
  images: BinEntry;
  targets: BinEntry;
  mask: BinEntry;
  head: { weight: BinEntry; bias: BinEntry };
  losses: number[];
  gradNorms: number[];
  lrs: number[];
  final: FlatFile;
  torch: string;
}

export interface TrajectoryResult {
  losses: number[];
  gradNorms: number[];
  lrs: number[];
  /** The run's flat buffer by parameter name (image_encoder.<initializer>, classifier.fc.*), before and after. */
  initial: Map<string, Float32Array>;
  parameters: Map<string, Float32Array>;
}

/**
 * radlearn's side of a trajectory: the pieces `supervised-finetune` is made of, composed as
 * SupervisedFinetuneTask and the training loop compose them. The run's config (parsed by the
 * trainer's schema) carries the AdamW settings; the encoder slot (training graph + forward-only
 * session, gradient caching in chunks), the classifier head with its masked BCE kernel, the
 * segmented AdamW with global clipping and the cosine schedule are the trainer's own.
 */
export async function radlearnTrajectory(dir: string, spec: TrajectorySpec): Promise<TrajectoryResult> {
  const h = spec.hyper;
  const config = parseTrainConfig({
    name: 'torch-trajectory',
    mode: 'supervised-finetune',
    seed: 1,
    steps: spec.steps,
    batchSize: spec.batch,
    data: { manifest: join(dir, 'unused.csv'), uncertain: 'ignore' },
    head: { kind: 'linear' },
    optim: {
      lr: h.lr,
      beta1: h.beta1,
      beta2: h.beta2,
      eps: h.eps,
      weightDecay: h.weightDecay,
      maxGradNorm: h.maxGradNorm,
      warmupSteps: h.warmupSteps,
      minLrRatio: h.minLrRatio,
    },
    finetune: { chunkSize: h.chunkSize, batchNorm: h.batchNorm, groups: [{ pattern: '^classifier\\.', lrScale: h.headLrScale }] },
  });
  const ft = config.finetune!;
  const ops = resolveTrainOps();
  // the dataset as the head reads it: one row per (step, sample); a masked label is a missing (NaN) one
  const B = spec.batch;
  const L = spec.labels;
  const rows = spec.steps * B;
  const targets = readFloat32(dir, spec.targets);
  const mask = readFloat32(dir, spec.mask);
  const labels = Float32Array.from(targets, (t, i) => (mask[i] ? t : NaN));
  const dataset = { labelNames: Array.from({ length: L }, (_, l) => `label${l}`), labels, labelled: new Uint8Array(rows).fill(1) };
  // ClassifierHead reads only these three fields of the TrainDataset
  const trainDataset = dataset as unknown as TrainDataset;

  const slot = await EncoderSlot.create(loadModel(join(dir, 'model.onnx')), spec.output, IMAGE_PREFIX, spec.model, slotSelection(ft));
  try {
    const params = new FlatParameters([...slot.specs(), ...ClassifierHead.specs(config, trainDataset, spec.dim)], config.seed);
    params.view('classifier.fc.weight').set(readFloat32(dir, spec.head.weight));
    params.view('classifier.fc.bias').set(readFloat32(dir, spec.head.bias));
    const head = new ClassifierHead(params, config, trainDataset, spec.dim, ops);
    const optimizer = segmentedOptimizer(params, 'main', ft.groups);
    const images = readFloat32(dir, spec.images);
    const [C, H, W] = spec.images.dims.slice(2) as [number, number, number];
    const pixels = C * H * W;
    const result: TrajectoryResult = { losses: [], gradNorms: [], lrs: [], initial: new Map(), parameters: new Map() };
    for (const e of params.entries) result.initial.set(e.name, params.view(e.name).slice());
    for (let step = 0; step < spec.steps; step++) {
      const batch = Int32Array.from({ length: B }, (_, i) => step * B + i);
      const inputs = (s: number, e: number): Record<string, TensorLike> => ({
        [slot.encoder.training.dataInputs[0]!]: {
          type: 'float32',
          data: images.subarray((step * B + s) * pixels, (step * B + e) * pixels),
          dims: [e - s, C, H, W],
        },
      });
      // SupervisedFinetuneTask.step
      params.zeroGrad('main');
      const embedded = await slot.embed(params, B, ft.chunkSize, inputs);
      const r = head.stepThrough(batch, embedded.data, SINGLE_PROCESS);
      await slot.backward(params, B, embedded.dim, ft.chunkSize, inputs, r.dInput);
      // the training loop's update
      const o = config.optim;
      const lr = cosineLr(step, spec.steps, o.lr, Math.min(o.warmupSteps, Math.floor(spec.steps / 2)), o.minLrRatio);
      const [gs, ge] = params.groupRange('main');
      const norm = optimizer.update(params.grad.subarray(gs, ge), {
        lr,
        beta1: o.beta1,
        beta2: o.beta2,
        eps: o.eps,
        weightDecay: o.weightDecay,
        maxGradNorm: o.maxGradNorm,
      });
      result.losses.push(r.loss);
      result.gradNorms.push(norm);
      result.lrs.push(lr);
    }
    for (const e of params.entries) result.parameters.set(e.name, params.view(e.name).slice());
    return result;
  } finally {
    await slot.release();
  }
}
