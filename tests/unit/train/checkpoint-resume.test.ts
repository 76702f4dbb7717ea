/**
 * Resuming a run whose checkpoints were damaged: the newest intact one is used (with a warning
 * event the CLI prints), the result is still bit-identical to an uninterrupted run, nothing
 * intact means a typed refusal, and temporary files of crashed writes are removed.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRenderer } from '../../../src/cli/render/progress.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train, type TrainEvent, type TrainResult } from '../../../src/index.js';
import type { TrainConfigInput } from '../../../src/train/config.js';

let root = '';
let manifest = '';
let dinoManifest = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-resume-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 48, size: 64, seed: 3 })).manifestPath;
  dinoManifest = (await generatePhantom({ out: join(root, 'phantom-dino'), n: 40, size: 32, seed: 5 })).manifestPath;
});

const config = (name: string): TrainConfigInput =>
  ({
    name,
    mode: 'contrastive',
    runsDir: join(root, 'runs'),
    seed: 5,
    steps: 12,
    batchSize: 8,
    checkpoint: { every: 4, keep: 2 },
    data: { manifest, sentences: { min: 1, max: 3 } },
    image: { size: 64 },
    text: { vocabSize: 300, maxLength: 48 },
    head: { kind: 'mlp', hidden: 24, projectionDim: 16 },
    loss: { groups: 'labels' },
    optim: { lr: 3e-3, warmupSteps: 3, ema: 0.9 },
  }) as TrainConfigInput;

const dinoConfig = (name: string): TrainConfigInput =>
  ({
    name,
    mode: 'dino',
    runsDir: join(root, 'runs'),
    seed: 3,
    steps: 8,
    batchSize: 8,
    logEvery: 1,
    checkpoint: { every: 3, keep: 2 },
    data: { manifest: dinoManifest, split: { train: 0.8, val: 0.1, test: 0.1 } },
    image: { size: 32 },
    optim: { lr: 2e-3, warmupSteps: 1 },
    dino: {
      vit: { patchSize: 8, dim: 16, depth: 1, heads: 2 },
      head: { hidden: 32, bottleneck: 8, prototypes: 64 },
      crops: { localCount: 1, localSize: 0 },
    },
  }) as TrainConfigInput;

async function resume(input: TrainConfigInput): Promise<{ result: TrainResult; events: TrainEvent[] }> {
  const run = train(input, { skipEvaluation: true, resume: true });
  const events: TrainEvent[] = [];
  for await (const e of run) events.push(e);
  return { result: await run.result, events };
}

const stages = (events: TrainEvent[], stage: string): string[] =>
  events.flatMap((e) => (e.type === 'stage' && e.stage === stage ? [e.message] : []));
const same = (a: Float32Array | undefined, b: Float32Array | undefined): boolean =>
  Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength).equals(Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength));

function flipByte(path: string, fromEnd: number): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - fromEnd]! ^= 0x04;
  writeFileSync(path, bytes);
}

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

describe('resume with damaged checkpoints (trainer)', () => {
  let straight: TrainResult;
  beforeAll(async () => {
    straight = await train(config('straight'), { skipEvaluation: true }).result;
  });

  it('a flipped byte in the newest checkpoint: falls back to the previous one with a printed warning, and ends bit-identical', async () => {
    const first = await train(config('flipped'), { skipEvaluation: true, stopAtStep: 10 }).result;
    expect(first.steps).toBe(10);
    const dir = join(root, 'runs', 'flipped', 'checkpoints');
    const newest = join(dir, 'step-0000010.safetensors');
    flipByte(newest, 5); // inside the last tensor's data (the EMA)
    const { result, events } = await resume(config('flipped'));
    const [warning] = stages(events, 'warning');
    expect(warning).toContain(newest);
    expect(warning).toMatch(/tensor ema: data SHA-256 is [0-9a-f]{64}, recorded [0-9a-f]{64}/);
    expect(stages(events, 'resume').join()).toMatch(/resumed from step 8 /);
    expect(result.steps).toBe(12);
    expect(same(result.parameters, straight.parameters)).toBe(true);
    expect(same(result.ema, straight.ema)).toBe(true);
    const steps = readFileSync(join(root, 'runs', 'flipped', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step: number })
      .filter((l) => l.type === 'step');
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(existsSync(`${newest}.damaged`)).toBe(true);

    // the CLI's renderer prints the warning event as a [warning] line
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const render = createRenderer();
      for (const e of events) render(e);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain(`[warning] checkpoint damage found: ${newest}`);
  });

  it('a truncated pointer is reported, the checkpoints are found by scanning, stale temporary files of dead writers are removed', async () => {
    await train(config('pointer'), { skipEvaluation: true, stopAtStep: 6 }).result;
    const runDir = join(root, 'runs', 'pointer');
    const dir = join(runDir, 'checkpoints');
    const pointer = join(dir, 'latest.json');
    writeFileSync(pointer, readFileSync(pointer).subarray(0, 20));
    const dead = deadPid();
    const stale = [join(dir, `.step-0000008.safetensors.${dead}.0a1b2c3d.tmp`), join(runDir, `.metrics.jsonl.${dead}.ffffffff.tmp`)];
    const kept = [
      join(dir, `.latest.json.${process.pid}.0a1b2c3d.tmp`),
      join(dir, `.latest.json.${process.ppid}.12345678.tmp`),
      join(dir, 'notes.tmp'),
      join(dir, `.x.${dead}.abc.tmp`),
      join(dir, `.x.${dead}.0a1b2c3d.tmp.bak`),
    ];
    for (const path of [...stale, ...kept]) writeFileSync(path, 'partial');
    const { result, events } = await resume(config('pointer'));
    expect(stages(events, 'warning')[0]).toContain(`${pointer}: is not valid JSON`);
    expect(stages(events, 'cleanup')[0]).toContain(stale[0]);
    for (const path of stale) expect(existsSync(path), path).toBe(false);
    for (const path of kept) expect(existsSync(path), path).toBe(true);
    expect(same(result.parameters, straight.parameters)).toBe(true);
    expect(same(result.ema, straight.ema)).toBe(true);
  });

  it('when no checkpoint is intact, resuming is refused with a typed error listing each one and why', async () => {
    await train(config('ruined'), { skipEvaluation: true, stopAtStep: 8 }).result;
    const dir = join(root, 'runs', 'ruined', 'checkpoints');
    const state8 = join(dir, 'step-0000008.json');
    writeFileSync(state8, readFileSync(state8).subarray(0, 100));
    const tensors4 = join(dir, 'step-0000004.safetensors');
    writeFileSync(tensors4, readFileSync(tensors4).subarray(0, 64));
    const error = (await train(config('ruined'), { skipEvaluation: true, resume: true }).result.catch((e: unknown) => e)) as {
      code: string;
      message: string;
      details: { tried: Array<{ path: string; reason: string }> };
    };
    expect(error).not.toBeInstanceOf(SyntaxError);
    expect(error.code).toBe('ERR_CHECKPOINT_DAMAGED');
    expect(error.details.tried.map((t) => t.path)).toEqual([state8, tensors4]);
    expect(error.message).toContain(`${state8}: is not valid JSON`);
    expect(error.message).toMatch(/step-0000004\.safetensors: has 64 bytes, the checkpoint recorded \d+ \(truncated\)/);
  });

  it("stale temporary files are only those of the atomic writer's pattern with a dead pid", async () => {
    const { removeStaleTempFiles } = await import('../../../src/train/stale-temp.js');
    const dir = join(root, 'tmp-only');
    mkdirSync(join(dir, `.sub.${deadPid()}.0a1b2c3d.tmp`), { recursive: true }); // a folder, not a file
    const dead = join(dir, `.config.json.${deadPid()}.deadbeef.tmp`);
    writeFileSync(dead, '{');
    writeFileSync(join(dir, '.config.json.0.deadbeef.tmp'), '{');
    expect(await removeStaleTempFiles(dir)).toEqual([dead]);
    expect(await removeStaleTempFiles(join(root, 'nothing-here'))).toEqual([]);
  });
});

describe('dino checkpoints: damage, layout, runs of an older radlearn', () => {
  it('falls back to the previous intact DINO checkpoint with a warning and ends bit-identical', async () => {
    const full = await train(dinoConfig('dino-full'), { skipEvaluation: true }).result;
    const part = await train(dinoConfig('dino-flipped'), { skipEvaluation: true, stopAtStep: 7 }).result;
    expect(part.steps).toBe(7);
    const dir = join(root, 'runs', 'dino-flipped', 'checkpoints');
    const state = join(dir, 'step-0000007.json');
    writeFileSync(state, readFileSync(state, 'utf8').replace('  "step": 7', '   "step": 7'));
    const pointer = join(dir, 'latest.json');
    writeFileSync(pointer, readFileSync(pointer).subarray(0, 30));
    const { result, events } = await resume(dinoConfig('dino-flipped'));
    const [warning] = stages(events, 'warning');
    expect(warning).toContain(`${pointer}: is not valid JSON`);
    expect(warning).toContain(`${state}: differs from its canonical serialisation`);
    expect(stages(events, 'resume').join()).toMatch(/resumed from step 6 /);
    expect(result.steps).toBe(8);
    expect(same(result.parameters, full.parameters)).toBe(true);
    expect(same(result.ema, full.ema)).toBe(true);
  });

  it("its checkpoints are the trainer's: parameters by name, AdamW moments, the teacher as the average, the centers as task state", async () => {
    await train(dinoConfig('dino-layout'), { skipEvaluation: true, stopAtStep: 3 }).result;
    const dir = join(root, 'runs', 'dino-layout', 'checkpoints');
    const state = JSON.parse(readFileSync(join(dir, 'step-0000003.json'), 'utf8')) as {
      format: string;
      ema: boolean;
      optimizer: { groups: { main: { step: number } } };
      dataOrder: { phase: string };
    };
    expect(state).toMatchObject({
      format: 'radlearn-checkpoint-v2',
      ema: true,
      optimizer: { groups: { main: { step: 3 } } },
      dataOrder: { phase: 'dino' },
    });
    const { readSafetensors } = await import('../../../src/train/safetensors.js');
    const names = [...(await readSafetensors(join(dir, 'step-0000003.safetensors'))).tensors.keys()];
    expect(names).toContain('dino_head.prototypes.weight_v');
    for (const name of ['optimizer.main.exp_avg', 'optimizer.main.exp_avg_sq', 'ema', 'state.dino.center', 'state.ibot.center'])
      expect(names).toContain(name);
  });

  it('a run folder with the checkpoint layout of an older radlearn is refused with a typed message, and starts over with overwrite', async () => {
    const runDir = join(root, 'runs', 'dino-outdated');
    const dir = join(runDir, 'checkpoints');
    mkdirSync(dir, { recursive: true });
    for (const name of ['dino-latest.json', 'dino-step-00000006.json', 'dino-step-00000006.safetensors'])
      writeFileSync(join(dir, name), '{}');
    for (const options of [{ resume: true }, {}, { resume: true, overwrite: true }]) {
      const error = (await train(dinoConfig('dino-outdated'), { skipEvaluation: true, ...options }).result.catch((e: unknown) => e)) as {
        code: string;
        message: string;
        details: { files: string[] };
      };
      expect(error.code).toBe('ERR_CHECKPOINT_OUTDATED');
      expect(error.message).toContain('written by an older radlearn');
      expect(error.message).toContain('--overwrite');
      expect(error.details.files).toContain(join(dir, 'dino-latest.json'));
    }
    const fresh = await train(dinoConfig('dino-outdated'), { skipEvaluation: true, overwrite: true, stopAtStep: 1 }).result;
    expect(fresh.steps).toBe(1);
    expect(existsSync(join(dir, 'dino-latest.json'))).toBe(false);
    expect(existsSync(join(dir, 'step-0000001.safetensors'))).toBe(true);
  });
});
