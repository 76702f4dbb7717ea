/**
 * augment (batched multi-crop views): radlearn's CPU kernel against sharp (extract + resize +
 * flop per view, several requests in flight: what a Node user would write) and the float64
 * TypeScript reference, in one process; CUDA timed with events inside the addon, with the
 * output bandwidth compared with a measured device-to-device copy.
 * Sources: 512 x 512 uint16 images with pseudo-random pixels.
 */
import sharp from 'sharp';
import { augment, augmentParams, type AugmentSpec } from '../../src/index.js';
import { encodeAugmentSpec } from '../../src/kernels/augment-spec.js';
import { addon } from '../../src/native/addon.js';
import { renderViewReference } from '../../tests/helpers/reference-augment.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, type Timing } from '../harness.js';

const SIDE = 512;

export const SINGLE_224: AugmentSpec = {
  crops: [{ count: 1, size: 224, scale: [0.32, 1] }],
  flip: { horizontal: 0.5 },
  normalize: { mean: 0.5, std: 0.25 },
};

export const DINO_MULTI_CROP: AugmentSpec = {
  crops: [
    { count: 2, size: 224, scale: [0.32, 1], mask: { patchSize: 16, ratio: [0.1, 0.5], p: 0.5 } },
    { count: 8, size: 96, scale: [0.05, 0.32] },
  ],
  flip: { horizontal: 0.5 },
  intensity: { brightness: 0.4, contrast: 0.4, gamma: [0.8, 1.25], p: 0.8 },
  blur: { sigma: [0.1, 2], p: 0.5 },
  normalize: { mean: 0.5, std: 0.25 },
};

function sources(batch: number): Uint16Array[] {
  const out: Uint16Array[] = [];
  let s = 12345;
  for (let b = 0; b < batch; b++) {
    const image = new Uint16Array(SIDE * SIDE);
    for (let i = 0; i < image.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      image[i] = s >>> 16;
    }
    out.push(image);
  }
  return out;
}

function viewsPerImage(spec: AugmentSpec): number {
  return spec.crops.reduce((n, c) => n + c.count, 0);
}

function outputBytes(spec: AugmentSpec, batch: number): number {
  const element = spec.output === undefined || spec.output === 'float32' ? 4 : 2;
  return spec.crops.reduce((n, c) => n + c.count * c.size * c.size * element, 0) * batch;
}

/**
 * time() plus the process CPU time per run (all threads: the pool's, libuv's, libvips').
 * On a shared machine wall-clock time depends on how many threads each side runs against
 * the other load; CPU time per image is the load-independent cost.
 */
async function timeWithCpu(fn: () => unknown, options: Parameters<typeof time>[1]): Promise<Timing & { cpuMs: number }> {
  const warmup = options?.warmup ?? 1;
  const start = process.cpuUsage();
  const t = await time(fn, options);
  const used = process.cpuUsage(start);
  return { ...t, cpuMs: (used.user + used.system) / 1000 / (t.samples.length + warmup) };
}

function row(
  op: string,
  backend: string,
  spec: AugmentSpec,
  name: string,
  batch: number,
  t: { medianMs: number; p90Ms: number; cpuMs?: number },
  note?: string,
): BenchRow {
  return {
    op,
    backend,
    shape: `${batch}x${SIDE}² u16 -> ${name}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    itemsPerSec: (batch * 1000) / t.medianMs,
    itemName: 'img',
    gbPerSec: outputBytes(spec, batch) / (t.medianMs * 1e6),
    ...(note || t.cpuMs !== undefined
      ? { note: [t.cpuMs === undefined ? '' : `cpu ${(t.cpuMs / batch).toFixed(3)} ms/img`, note ?? ''].filter(Boolean).join('; ') }
      : {}),
  };
}

/** Ratio of CPU time per image (baseline / ours), the load-independent comparison. */
function cpuRatio(
  ours: BenchRow,
  baseline: BenchRow,
  oursCpu: number,
  baselineCpu: number,
  batchOurs: number,
  batchBase: number,
): BenchRow {
  const value = baselineCpu / batchBase / (oursCpu / batchOurs);
  return { ...ours, note: `${ours.note ?? ''}; ${value.toFixed(2)}x less CPU time per image than ${baseline.op}` };
}

/** sharp: every view as extract (integer box) + resize + flop, `inFlight` requests at a time. */
async function sharpViews(images: Uint16Array[], spec: AugmentSpec, inFlight: number): Promise<void> {
  const { params } = augmentParams(
    images.map(() => ({ height: SIDE, width: SIDE })),
    spec,
    { seed: 7 },
  );
  let next = 0;
  async function worker() {
    while (next < params.length) {
      const p = params[next++]!;
      const size = spec.crops[p.group]!.size;
      const left = Math.min(SIDE - 1, Math.round(p.crop.x));
      const top = Math.min(SIDE - 1, Math.round(p.crop.y));
      const width = Math.max(1, Math.min(SIDE - left, Math.round(p.crop.width)));
      const height = Math.max(1, Math.min(SIDE - top, Math.round(p.crop.height)));
      let pipeline = sharp(images[p.image]!, { raw: { width: SIDE, height: SIDE, channels: 1 } })
        .extract({ left, top, width, height })
        .resize(size, size, { fit: 'fill' });
      if (p.flipHorizontal) pipeline = pipeline.flop();
      await pipeline.toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
}

function referenceBatch(images: Uint16Array[], spec: AugmentSpec): void {
  const { params } = augmentParams(
    images.map(() => ({ height: SIDE, width: SIDE })),
    spec,
    { seed: 7 },
  );
  const settings = { valueScale: 1 / 65535, valueOffset: 0, clamp: false, mean: 0.5, std: 0.25, seed: 7, step: 0 };
  for (const p of params) renderViewReference(images[p.image]!, SIDE, SIDE, spec.crops[p.group]!.size, p, settings);
}

async function specRows(name: string, spec: AugmentSpec, quick: boolean, cuda: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const batch = quick ? 8 : 32;
  const images = sources(batch);
  const batchInput = { images: images.map((data, i) => ({ data, height: SIDE, width: SIDE, key: i })) };
  let step = 0;
  const oursTime = await timeWithCpu(() => augment(batchInput, spec, { seed: 7, step: step++, backend: 'cpu' }), {
    minRuns: 5,
    minTimeMs: 1500,
  });
  const ours = row('augment', 'cpu', spec, name, batch, oursTime);
  const sharpTime = await timeWithCpu(() => sharpViews(images, spec, 4), { minRuns: 3, minTimeMs: 1500 });
  const sharpRow = row(
    'sharp extract+resize+flop',
    'cpu (libvips, 4 in flight)',
    spec,
    name,
    batch,
    sharpTime,
    `${viewsPerImage(spec)} sharp pipelines per image, uint16 out, no intensity ops`,
  );
  const refBatch = 2;
  const referenceTime = await timeWithCpu(() => referenceBatch(images.slice(0, refBatch), spec), {
    warmup: 0,
    minRuns: 1,
    maxRuns: 2,
    minTimeMs: 0,
  });
  const reference = row('typescript reference (float64)', 'cpu (1 thread)', spec, name, refBatch, referenceTime);
  // The reference renders fewer images than the batch: compare per image.
  const perImage = reference.medianMs / refBatch / (ours.medianMs / batch);
  rows.push(sharpRow, reference, { ...ours, ratio: { vs: `${reference.op} (${reference.backend}), per image`, value: perImage } });
  rows.push(cpuRatio(withRatio(ours, sharpRow), sharpRow, oursTime.cpuMs, sharpTime.cpuMs, batch, batch));
  if (cuda) {
    const cudaBatch = 256;
    const r = addon().benchAugmentCuda({
      height: SIDE,
      width: SIDE,
      sourceDtype: 'uint16',
      batch: cudaBatch,
      spec: encodeAugmentSpec(spec),
      iterations: 20,
    });
    const copy = summarize(Array.from(r.copyMs));
    // A device-to-device copy of the output's size moves 2x its bytes (read + write).
    const copyGbPerSec = (2 * r.outputBytes) / (copy.medianMs * 1e6);
    for (const [label, samples] of [
      ['cuda kernels (events)', r.kernelMs],
      ['cuda call (events, incl. plan upload)', r.callMs],
    ] as const) {
      const gpu = row('augment', label, spec, name, cudaBatch, summarize(Array.from(samples)));
      rows.push({
        ...gpu,
        peakPercent: (100 * (gpu.gbPerSec ?? 0)) / copyGbPerSec,
        note: `% of D2D copy bandwidth ${copyGbPerSec.toFixed(0)} GB/s (read+write)`,
      });
    }
  }
  return rows;
}

export const cases: BenchCase[] = [
  {
    name: 'augment',
    async run({ quick, cuda }) {
      return [
        ...(await specRows('1x224 (0.32,1) flip', SINGLE_224, quick, cuda)),
        ...(await specRows('DINO 2x224+8x96', DINO_MULTI_CROP, quick, cuda)),
      ];
    },
  },
];
