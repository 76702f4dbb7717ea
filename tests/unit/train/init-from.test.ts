// finetune.initFrom warm-starts from an earlier run: a radlearn checkpoint is verified as on
// resume (a damaged one is refused), a foreign safetensors file is loaded as it is.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../../src/train/checkpoint.js';
import { initFromCheckpoint } from '../../../src/train/finetune/init-from.js';
import type { FlatOptimizer } from '../../../src/train/ops.js';
import { FlatParameters } from '../../../src/train/parameters.js';
import { tensor, writeSafetensors } from '../../../src/train/safetensors.js';

const layout = [
  { name: 'proj.weight', shape: [3, 4], init: { kind: 'normal' as const, std: 0.5 } },
  { name: 'proj.bias', shape: [3], init: { kind: 'constant' as const, value: 0.25 } },
];

async function runWithCheckpoint(step: number): Promise<{ run: string; params: FlatParameters }> {
  const run = mkdtempSync(join(tmpdir(), 'radlearn-init-'));
  const dir = join(run, 'checkpoints');
  mkdirSync(dir);
  const params = new FlatParameters(layout, step);
  const optimizer: FlatOptimizer = {
    params: params.data,
    m: new Float32Array(params.data.length),
    v: new Float32Array(params.data.length),
    step,
    update: () => 0,
  };
  await saveCheckpoint(
    dir,
    {
      step,
      totalSteps: 10,
      phase: 'contrastive',
      configHash: 'h',
      rng: { kind: 'counter', seed: 1, streams: [] },
      dataOrder: { phase: 'contrastive', epoch: 0, position: 0, permutation: [0] },
      optimizer: { kind: 'adamw', groups: { main: { step, range: [0, params.data.length] } } },
      ema: false,
      lastLoss: 1,
    },
    { params, optimizers: new Map([['main', optimizer]]) },
    3,
  );
  return { run, params };
}

describe('finetune.initFrom', () => {
  it('loads a run folder or a checkpoint file, verified, and refuses a damaged one', async () => {
    const { run, params } = await runWithCheckpoint(4);
    const target = new FlatParameters(layout, 99);
    expect(await initFromCheckpoint(target, run)).toEqual(['proj.weight', 'proj.bias']);
    expect(Array.from(target.data)).toEqual(Array.from(params.data));
    const file = join(run, 'checkpoints', 'step-0000004.safetensors');
    expect(await initFromCheckpoint(new FlatParameters(layout, 98), file)).toHaveLength(2);
    const bytes = readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x10;
    writeFileSync(file, bytes);
    await expect(initFromCheckpoint(new FlatParameters(layout, 97), file)).rejects.toMatchObject({ code: 'ERR_CHECKPOINT_DAMAGED' });
    await expect(initFromCheckpoint(new FlatParameters(layout, 97), run)).rejects.toMatchObject({ code: 'ERR_CHECKPOINT_DAMAGED' });
  });

  it('loads a safetensors file that is not a radlearn checkpoint as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-init-'));
    const path = join(dir, 'exported-from-pytorch.safetensors');
    await writeSafetensors(path, { 'proj.bias': tensor(Float32Array.of(1, 2, 3), [3]) });
    const target = new FlatParameters(layout, 5);
    expect(await initFromCheckpoint(target, path)).toEqual(['proj.bias']);
    expect(Array.from(target.view('proj.bias'))).toEqual([1, 2, 3]);
  });
});
