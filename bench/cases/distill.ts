/**
 * Self-distillation kernels: DINO loss (multi-crop, centering and Sinkhorn-Knopp teacher),
 * KoLeo and the EMA teacher update on the CPU, a plain TypeScript DINO loss as the in-process
 * baseline, and the CUDA kernels timed with events on device-resident data.
 *
 * GB/s counts the minimum traffic of the streamed algorithm: student logits read twice,
 * gradient written once, teacher logits read once, teacher probabilities written once and
 * read once per (student row, teacher view) pair. KoLeo GFLOP/s counts the 2 B^2 D of the
 * nearest-neighbour search.
 */
import { dinoLoss, emaTeacherUpdate, koleoLoss, type TeacherNormalization } from '../../src/index.js';
import { addon } from '../../src/native/addon.js';
import { summarize, time, withRatio, type BenchCase, type BenchRow, randomArray } from '../harness.js';

function dinoBytes(vs: number, vt: number, b: number, k: number): number {
  const pairs = vt * (vs - 1);
  return 4 * k * (3 * vs * b + 2 * vt * b + pairs * b);
}

function dinoRow(
  op: string,
  backend: string,
  vs: number,
  vt: number,
  b: number,
  k: number,
  t: { medianMs: number; p90Ms: number },
): BenchRow {
  return {
    op,
    backend,
    shape: `Vs=${vs} Vt=${vt} B=${b} K=${k}`,
    medianMs: t.medianMs,
    p90Ms: t.p90Ms,
    gbPerSec: dinoBytes(vs, vt, b, k) / (t.medianMs * 1e6),
    itemsPerSec: (vs * b) / (t.medianMs / 1e3),
    itemName: 'student rows',
    peakMemoryBytes: 4 * vt * b * k,
    note: 'scratch = teacher probabilities [Vt*B, K]',
  };
}

/** The straightforward float32 TypeScript DINO loss (centering), as an in-process baseline. */
function tsDinoLoss(
  student: Float32Array,
  teacher: Float32Array,
  center: Float32Array,
  vs: number,
  vt: number,
  b: number,
  k: number,
): number {
  const p = new Float32Array(vt * b * k);
  for (let r = 0; r < vt * b; r++) {
    let mx = -Infinity;
    for (let i = 0; i < k; i++) mx = Math.max(mx, (teacher[r * k + i]! - center[i]!) / 0.04);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += p[r * k + i] = Math.exp((teacher[r * k + i]! - center[i]!) / 0.04 - mx);
    for (let i = 0; i < k; i++) p[r * k + i]! /= sum;
  }
  const grad = new Float32Array(vs * b * k);
  const w = 1 / (vt * (vs - 1) * b);
  let loss = 0;
  for (let j = 0; j < vs; j++)
    for (let n = 0; n < b; n++) {
      const row = (j * b + n) * k;
      let mx = -Infinity;
      for (let i = 0; i < k; i++) mx = Math.max(mx, student[row + i]! / 0.1);
      let sum = 0;
      for (let i = 0; i < k; i++) sum += Math.exp(student[row + i]! / 0.1 - mx);
      const lse = mx + Math.log(sum);
      for (let t = 0; t < vt; t++) {
        if (t === j) continue;
        for (let i = 0; i < k; i++) {
          const z = student[row + i]! / 0.1;
          const pt = p[(t * b + n) * k + i]!;
          loss += w * pt * (lse - z);
          grad[row + i]! += (w / 0.1) * (Math.exp(z - lse) - pt);
        }
      }
    }
  return loss;
}

async function cpuDino(vs: number, vt: number, b: number, k: number, normalization: TeacherNormalization): Promise<BenchRow> {
  const student = randomArray(vs * b * k, 1, 4);
  const teacher = randomArray(vt * b * k, 2, 2);
  const center = randomArray(k, 3, 0.2);
  const gradOut = new Float32Array(student.length);
  const centerOut = new Float32Array(k);
  const t = await time(
    () =>
      dinoLoss(student, teacher, {
        studentViews: vs,
        teacherViews: vt,
        batch: b,
        prototypes: k,
        normalization,
        center,
        gradOut,
        centerOut,
        backend: 'cpu',
        checkFinite: false,
      }),
    { minRuns: 10, maxRuns: 40, minTimeMs: 2000 },
  ); // many runs: the shared machine is noisy
  return dinoRow(`dinoLoss (${normalization})`, 'cpu', vs, vt, b, k, t);
}

export const cases: BenchCase[] = [
  {
    name: 'distill',
    async run({ quick, cuda }) {
      const rows: BenchRow[] = [];
      const shapes: Array<[number, number, number, number]> = quick
        ? [
            [10, 2, 16, 65536],
            [10, 2, 64, 4096],
          ]
        : [
            [10, 2, 64, 65536],
            [10, 2, 256, 4096],
          ];
      for (const [vs, vt, b, k] of shapes) {
        for (const normalization of ['center', 'sinkhorn'] as const) rows.push(await cpuDino(vs, vt, b, k, normalization));
        if (cuda) {
          const samples = Array.from(
            addon().benchDistillCuda({ op: 'dino', studentViews: vs, teacherViews: vt, batch: b, prototypes: k, iterations: 20 }),
          );
          rows.push(dinoRow('dinoLoss (center)', 'cuda (events)', vs, vt, b, k, summarize(samples)));
        }
      }
      // Baseline: the plain TypeScript loop, at the smaller shape only.
      {
        const [vs, vt, b, k] = quick ? [10, 2, 16, 4096] : [10, 2, 64, 4096];
        const student = randomArray(vs * b * k, 1, 4);
        const teacher = randomArray(vt * b * k, 2, 2);
        const center = randomArray(k, 3, 0.2);
        const ts = dinoRow(
          'typescript loop',
          'cpu',
          vs,
          vt,
          b,
          k,
          await time(() => tsDinoLoss(student, teacher, center, vs, vt, b, k), { minRuns: 3, maxRuns: 3 }),
        );
        const ours = await cpuDino(vs, vt, b, k, 'center');
        rows.push(ts, withRatio(ours, ts));
      }
      {
        const [b, d] = [1024, 256];
        const x = randomArray(b * d, 4);
        const gradOut = new Float32Array(b * d);
        const t = await time(() => koleoLoss(x, { rows: b, dim: d, gradOut, backend: 'cpu', checkFinite: false }), {
          minRuns: 20,
          maxRuns: 100,
          minTimeMs: 1000,
        });
        const row = (backend: string, timing: { medianMs: number; p90Ms: number }): BenchRow => ({
          op: 'koleoLoss',
          backend,
          shape: `B=${b} D=${d}`,
          medianMs: timing.medianMs,
          p90Ms: timing.p90Ms,
          gflops: (2 * b * b * d) / (timing.medianMs * 1e6),
          itemsPerSec: b / (timing.medianMs / 1e3),
          itemName: 'rows',
        });
        rows.push(row('cpu', t));
        if (cuda)
          rows.push(
            row('cuda (events)', summarize(Array.from(addon().benchDistillCuda({ op: 'koleo', rows: b, dim: d, iterations: 20 })))),
          );
      }
      {
        const n = quick ? 1_000_000 : 20_000_000;
        const teacher = randomArray(n, 5);
        const student = randomArray(n, 6);
        const t = await time(() => emaTeacherUpdate(teacher, student, { momentum: 0.996, backend: 'cpu', checkFinite: false }));
        rows.push({
          op: 'emaTeacherUpdate',
          backend: 'cpu',
          shape: `n=${n}`,
          medianMs: t.medianMs,
          p90Ms: t.p90Ms,
          gbPerSec: (12 * n) / (t.medianMs * 1e6),
          itemsPerSec: n / (t.medianMs / 1e3),
          itemName: 'parameters',
        });
      }
      return rows;
    },
  },
];
