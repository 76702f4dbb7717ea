/**
 * A control for the DINO plateau (too slow for the unit suite: ~1.5 min per variant on 2 cores):
 * a dataset whose images differ in every crop, 1-3 random shapes (disc, square, diamond, striped
 * square) at random places, sizes and intensities on a random noisy background, 128 px 12-bit
 * DICOMs, then DINOv2's views at the quick study preset's scale (ViT 64x2, 64 px, K = 256, Sinkhorn,
 * batch 32; "the base recipe") with augmentations added back one at a time. Prints the mean DINO loss over the last 20 steps against
 * log K. If even these images keep the loss at log K, the plateau is the recipe's, not the data's.
 *
 *   npx tsx bench/dino-shapes.ts [--steps 300] [--n 2000] [--only A,B] [--manifest M]
 *
 * `--manifest M` trains the same variants on another dataset (the phantom, say) instead of the shapes;
 * V*, W* and U* are lighter recipes tried for the study's quick preset (U2 is what it uses; figures in
 * docs/study.md). The run length (--steps) matters: lighter views leave log K only after a few hundred
 * steps. The base recipe is the quick preset before it moved to U2 (global crops 0.32-1, two local
 * crops, momentum 0.98).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDicom } from '../src/index.js';
import { Rng } from '../src/random/index.js';
import { flag } from './harness.js';

const steps = Number(flag('steps', '300'));
const n = Number(flag('n', '2000'));
const only = flag('only', '').split(',').filter(Boolean);
const manifestFlag = flag('manifest', '');
const S = 128;

/** Writes the shapes dataset; labels: whether an image holds a disc, a square. */
function writeShapes(out: string): string {
  mkdirSync(join(out, 'images'), { recursive: true });
  const rng = new Rng(7, 'shapes');
  const rows = ['image_path,patient_id,disc,square,split'];
  for (let i = 0; i < n; i++) {
    const px = new Uint16Array(S * S);
    const background = 500 + rng.next() * 1500;
    for (let k = 0; k < S * S; k++) px[k] = background + rng.next() * 200;
    const kinds = new Set<number>();
    for (let o = 1 + rng.int(3); o > 0; o--) {
      const kind = rng.int(4);
      kinds.add(kind);
      const [cx, cy, r, value] = [rng.next() * S, rng.next() * S, 8 + rng.next() * 30, 2000 + rng.next() * 2000];
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          const [dx, dy] = [x - cx, y - cy];
          const inside =
            kind === 0
              ? dx * dx + dy * dy < r * r
              : kind === 2
                ? Math.abs(dx) + Math.abs(dy) < r
                : Math.abs(dx) < r && Math.abs(dy) < r && (kind === 1 || Math.floor((x + y) / 6) % 2 === 0);
          if (inside) px[y * S + x] = value;
        }
    }
    const name = `img${String(i).padStart(5, '0')}.dcm`;
    const pixels = px.map((v) => Math.min(4095, v));
    writeFileSync(join(out, 'images', name), writeDicom({ rows: S, columns: S, bitsAllocated: 16, bitsStored: 12, pixels }));
    const split = i % 10 < 8 ? 'train' : i % 10 === 8 ? 'val' : 'test';
    rows.push(`images/${name},P${i},${kinds.has(0) ? 1 : 0},${kinds.has(1) ? 1 : 0},${split}`);
  }
  writeFileSync(join(out, 'manifest.csv'), `${rows.join('\n')}\n`);
  return join(out, 'manifest.csv');
}

const plain = { warmupTemperature: 0.04, temperature: 0.04, momentum: 0.9 };
const dinoOnly = { normalization: 'sinkhorn', ibot: 0, koleo: 0 };
const fullImage = { globalScale: [1, 1], aspectRatio: [1, 1], localCount: 0, maskProbability: 0 };
/** name, what it is, the dino section's changes from the quick preset. */
const VARIANTS: Array<[string, string, Record<string, unknown>]> = [
  [
    'A',
    'equal global views, no augmentation; DINO alone, tau_t 0.04, momentum 0.9',
    { crops: { ...fullImage, flip: 0, intensity: 0, blur: 0 }, loss: dinoOnly, schedule: plain },
  ],
  ['F', 'A + flip, intensity jitter, blur (default probabilities)', { crops: fullImage, loss: dinoOnly, schedule: plain }],
  [
    'E',
    'A + global crops [0.32, 1] and flip',
    { crops: { localCount: 0, maskProbability: 0, intensity: 0, blur: 0 }, loss: dinoOnly, schedule: plain },
  ],
  [
    'G',
    'A + two local crops [0.05, 0.32] at 24 px',
    { crops: { ...fullImage, localCount: 2, intensity: 0, blur: 0 }, loss: dinoOnly, schedule: plain },
  ],
  [
    'B',
    'every augmentation (crops, local crops, masks, jitter); DINO alone, tau_t 0.04, momentum 0.9',
    { crops: { localCount: 2 }, loss: dinoOnly, schedule: plain },
  ],
  ['C', 'the base recipe (iBOT, KoLeo, tau_t warm-up) with momentum 0.9', { schedule: { momentum: 0.9 } }],
  ['Q', 'the base recipe', {}],
  [
    'V1',
    'DINO alone, tau_t 0.04, momentum 0.9; global crops [0.6, 1], no local crops; flip, jitter, blur',
    { crops: { localCount: 0, globalScale: [0.6, 1], maskProbability: 0 }, loss: dinoOnly, schedule: plain },
  ],
  [
    'W1',
    'V1 with tau_t 0.02',
    {
      crops: { localCount: 0, globalScale: [0.6, 1], maskProbability: 0 },
      loss: dinoOnly,
      schedule: { ...plain, warmupTemperature: 0.02, temperature: 0.02 },
    },
  ],
  [
    'W2',
    'V1 with lr 2e-3',
    { crops: { localCount: 0, globalScale: [0.6, 1], maskProbability: 0 }, loss: dinoOnly, schedule: plain, lr: 2e-3 },
  ],
  [
    'U1',
    'DINO alone, tau_t 0.04, momentum 0.9; global crops [0.85, 1], no local crops; flip, jitter, blur',
    { crops: { localCount: 0, globalScale: [0.85, 1], maskProbability: 0 }, loss: dinoOnly, schedule: plain },
  ],
  ['U2', 'U1 + iBOT and KoLeo (the preset loss)', { crops: { localCount: 0, globalScale: [0.85, 1] }, schedule: plain }],
  [
    'U3',
    'U2 + 2 local crops [0.25, 0.5] at 24 px',
    { crops: { localCount: 2, globalScale: [0.85, 1], localScale: [0.25, 0.5] }, schedule: plain },
  ],
];

const root = mkdtempSync(join(tmpdir(), 'radlearn-dino-shapes-'));
const manifest = manifestFlag || writeShapes(join(root, 'shapes'));
const cli = join(import.meta.dirname, '..', 'bin', 'radlearn.js');
process.stdout.write(
  `${manifestFlag || `shapes: ${n} images`}; ${steps} steps per variant\n\n| variant | DINO loss (last 20 steps) | / log K |\n|---|---|---|\n`,
);
for (const [name, what, variant] of VARIANTS) {
  if (only.length > 0 && !only.includes(name)) continue;
  // `lr` is the optimiser's, every other key the dino section's
  const { lr = 5e-4, ...dino } = variant as Record<string, unknown> & { lr?: number };
  const config = join(root, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      name,
      mode: 'dino',
      runsDir: join(root, 'runs'),
      seed: 1,
      steps,
      batchSize: 32,
      logEvery: 1,
      checkpoint: { every: 100_000, keep: 1 },
      data: { manifest },
      image: { size: 64 },
      optim: { lr, warmupSteps: Math.floor(steps / 10) },
      export: false,
      dino: {
        vit: { patchSize: 8, dim: 64, depth: 2, heads: 4 },
        head: { hidden: 256, bottleneck: 64, prototypes: 256 },
        crops: { localCount: 2 },
        loss: { normalization: 'sinkhorn' },
        schedule: { momentum: 0.98 },
        ...dino,
      },
    }),
  );
  const run = spawnSync(process.execPath, [cli, 'train', '--config', config], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${name} failed:\n${run.stderr}`);
  const losses = readFileSync(join(root, 'runs', name, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"step"'))
    .map((l) => (JSON.parse(l) as { metrics: { dino: number } }).metrics.dino)
    .slice(-20);
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  const prototypes = (dino.head as { prototypes?: number } | undefined)?.prototypes ?? 256;
  const logK = Math.log(prototypes);
  process.stdout.write(`| ${name}: ${what} | ${mean.toFixed(3)} | ${(mean / logK).toFixed(3)} |\n`);
}
