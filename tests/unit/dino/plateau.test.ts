import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { DinoPlateauMonitor, PLATEAU_FRACTION, summarizeDinoLosses } from '../../../src/train/dino/plateau.js';
import { train } from '../../../src/train/train.js';
import { Rng } from '../../../src/random/index.js';

const K = 64;
const logK = Math.log(K);

function records(n: number, level: (step: number) => number, seed: number) {
  const rng = new Rng(seed, 'plateau-test');
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    dino: level(i + 1) + 0.01 * rng.normal(0, 1),
    ibot: 3 + rng.normal(0, 0.1),
    koleo: rng.normal(0, 0.1),
  }));
}

describe('DINO plateau detection', () => {
  it('summarises the last window and flags losses at or above PLATEAU_FRACTION log K', () => {
    const flat = summarizeDinoLosses(
      records(300, () => logK, 1),
      K,
      50,
    )!;
    expect(flat.window).toBe(50);
    expect(flat.lastStep).toBe(300);
    expect(flat.firstStep).toBe(251);
    expect(flat.dinoOverLogK).toBeCloseTo(1, 2);
    expect(flat.plateau).toBe(true);
    // falls from log K to 0.7 log K: only the tail counts
    const falling = summarizeDinoLosses(
      records(300, (s) => logK * (1 - (0.3 * s) / 300), 2),
      K,
      30,
    )!;
    expect(falling.dinoOverLogK).toBeLessThan(PLATEAU_FRACTION);
    expect(falling.plateau).toBe(false);
    expect(summarizeDinoLosses([], K, 10)).toBeUndefined();
  });

  it('warns once, and not before a quarter of the run', () => {
    const monitor = new DinoPlateauMonitor(K, 400, 20);
    const messages = records(400, () => 1.01 * logK, 3)
      .map((r) => monitor.push(r))
      .map((m, i) => [i + 1, m] as const)
      .filter(([, m]) => m);
    expect(messages).toHaveLength(1);
    expect(messages[0]![0]).toBe(100);
    expect(messages[0]![1]).toMatch(/uniform plateau log K = 4\.159/);
    const learning = new DinoPlateauMonitor(K, 400, 20);
    expect(records(400, (s) => logK * (1 - s / 800), 4).some((r) => learning.push(r))).toBe(false);
  });

  it('a dino run whose student cannot move writes a plateau summary and warns', async () => {
    const root = mkdtempSync(join(tmpdir(), 'radlearn-dino-plateau-'));
    const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 6 })).manifestPath;
    const run = train({
      name: 'stuck',
      mode: 'dino',
      runsDir: join(root, 'runs'),
      seed: 2,
      steps: 40,
      batchSize: 8,
      logEvery: 1,
      checkpoint: { every: 1000, keep: 1 },
      data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
      image: { size: 32 },
      // a learning rate this small leaves the student where it started: random targets, loss >= log K
      optim: { lr: 1e-12, warmupSteps: 0 },
      dino: {
        vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
        head: { hidden: 32, bottleneck: 16, prototypes: K },
        crops: { localCount: 0 },
        loss: { ibot: 0, koleo: 0, normalization: 'sinkhorn' },
      },
    });
    const warnings: string[] = [];
    for await (const e of run) if (e.type === 'stage' && e.stage === 'warning') warnings.push(e.message);
    const result = await run.result;
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatch(/uniform plateau/);
    const summary = JSON.parse(readFileSync(join(result.runDir, 'dino-summary.json'), 'utf8')) as {
      plateau: boolean;
      dinoOverLogK: number;
      windowSteps: number;
      lastStep: number;
    };
    expect(summary.plateau).toBe(true);
    expect(summary.dinoOverLogK).toBeGreaterThanOrEqual(PLATEAU_FRACTION);
    expect(summary.windowSteps).toBe(10);
    expect(summary.lastStep).toBe(40);
  }, 60_000);
});
