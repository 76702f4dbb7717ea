import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train } from '../../../src/train/train.js';

/**
 * Positive control for the whole DINO loop (student gradients through the autodiff, view order,
 * Sinkhorn targets, EMA teacher, weight-normalised prototypes): when the two global views of an
 * image carry the same content, the DINO loss must leave its uniform plateau log K. A sign error,
 * an inverted EMA, swapped views or a dead head keeps it at (or above) log K.
 */
describe('trainer mode dino: DINO loss leaves the uniform plateau', () => {
  it('with identical global views the DINO loss falls below 0.9 log K within 300 steps', async () => {
    const root = mkdtempSync(join(tmpdir(), 'radlearn-dino-takeoff-'));
    const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 40, size: 32, seed: 5 })).manifestPath;
    const K = 128;
    const run = train({
      name: 'takeoff',
      mode: 'dino',
      runsDir: join(root, 'runs'),
      seed: 3,
      steps: 300,
      batchSize: 16,
      logEvery: 1,
      checkpoint: { every: 1000, keep: 1 },
      data: { manifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
      image: { size: 32 },
      optim: { lr: 5e-4, warmupSteps: 10 },
      dino: {
        vit: { patchSize: 8, dim: 32, depth: 1, heads: 2 },
        head: { hidden: 64, bottleneck: 32, prototypes: K },
        // whole image, no flip / jitter / blur / mask: both global views are the image itself
        crops: { globalScale: [1, 1], aspectRatio: [1, 1], localCount: 0, maskProbability: 0, flip: 0, intensity: 0, blur: 0 },
        loss: { normalization: 'sinkhorn', ibot: 0, koleo: 0 },
        schedule: { warmupTemperature: 0.04, temperature: 0.04, momentum: 0.9 },
      },
    });
    const dino: number[] = [];
    for await (const e of run) if (e.type === 'step') dino.push(e.metrics?.dino ?? NaN);
    const result = await run.result;
    expect(dino.length).toBe(300);
    const summary = JSON.parse(readFileSync(join(result.runDir, 'dino-summary.json'), 'utf8')) as {
      plateau: boolean;
      dinoOverLogK: number;
    };
    expect(summary.plateau).toBe(false);
    expect(summary.dinoOverLogK).toBeLessThan(0.9);
    const tail = dino.slice(-30).reduce((a, b) => a + b, 0) / 30;
    expect(dino[0]!).toBeGreaterThan(0.95 * Math.log(K));
    expect(tail).toBeLessThan(0.9 * Math.log(K));
  }, 60_000);
});
