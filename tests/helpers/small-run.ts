import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom, train, type TrainResult } from '../../src/index.js';

/** A phantom in a fresh temp folder and a short supervised run (linear head, no probe) on it. */
export async function smallSupervisedRun(options: {
  prefix: string;
  studies: number;
  phantomSeed: number;
  seed: number;
  steps: number;
  imageSize: number;
}): Promise<{ root: string; manifest: string; run: TrainResult }> {
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  const manifest = (await generatePhantom({ out: join(root, 'phantom'), n: options.studies, size: 64, seed: options.phantomSeed }))
    .manifestPath;
  const run = await train({
    name: 'sup',
    mode: 'supervised',
    runsDir: join(root, 'runs'),
    steps: options.steps,
    batchSize: 16,
    seed: options.seed,
    data: { manifest },
    image: { size: options.imageSize },
    head: { kind: 'linear' },
    eval: { linearProbe: false },
  }).result;
  return { root, manifest, run };
}
