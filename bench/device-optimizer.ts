/**
 * The optimizer-placement measurement of docs/gpu.md: one fused AdamW step (clip + decay mask) over
 * host Float32Arrays, the buffers onnxruntime-node forces the trainer to keep, timed wall-clock
 * on the CPU backend and on the CUDA backend (which stages params, grads, m, v and the mask up and
 * params, m, v down on every call), plus the step on device-resident DeviceTensors with the
 * gradient upload and parameter download the trainer would then need. Without a CUDA device only
 * the CPU row runs.
 *
 *   npx tsx bench/device-optimizer.ts [--params 25.6e6,86e6] [--reps 7]
 */
import { adamwStepSync, backendInfo, DeviceTensor } from '../src/index.js';

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sizes = (argument('params') ?? '25.6e6,86e6').split(',').map(Number);
const reps = Number(argument('reps') ?? 7);
const info = backendInfo();
const hyper = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 1 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(fn: () => void): number {
  fn(); // warm-up: allocations, page faults, CUDA context
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

console.log(`CPU threads ${info.threads}; CUDA ${info.device ? `${info.device.name}` : `not available (${info.fallbackReason})`}\n`);
console.log(
  '| params | AdamW on the CPU, host buffers | AdamW on CUDA, host buffers staged | grads up + AdamW on DeviceTensors + params down |',
);
console.log('|---|---|---|---|');
for (const n of sizes) {
  const params = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.02);
  const grads = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 1e-3);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const mask = new Uint8Array(n).fill(1);
  let step = 0;
  const on = (backend: 'cpu' | 'cuda'): number =>
    timed(() => adamwStepSync(params, grads, { m, v }, { ...hyper, step: ++step, decayMask: mask, backend }));
  const cpu = on('cpu');
  let staged = NaN;
  let resident = NaN;
  if (info.device) {
    staged = on('cuda');
    const dp = DeviceTensor.upload(params, [n]);
    const dm = DeviceTensor.upload(m, [n]);
    const dv = DeviceTensor.upload(v, [n]);
    const dmask = DeviceTensor.upload(mask, [n], 'uint8');
    try {
      // DeviceTensors have no in-place upload: each step allocates the gradient tensor and the downloaded copy
      resident = timed(() => {
        const dg = DeviceTensor.upload(grads, [n]);
        try {
          adamwStepSync(dp, dg, { m: dm, v: dv }, { ...hyper, step: ++step, decayMask: dmask });
        } finally {
          dg.dispose();
        }
        params.set(dp.download() as Float32Array);
      });
    } finally {
      for (const t of [dp, dm, dv, dmask]) t.dispose();
    }
  }
  const cell = (ms: number): string => (Number.isNaN(ms) ? 'no CUDA device' : `${ms.toFixed(1)} ms`);
  console.log(`| ${(n / 1e6).toFixed(1)}M | ${cell(cpu)} | ${cell(staged)} | ${cell(resident)} |`);
}
