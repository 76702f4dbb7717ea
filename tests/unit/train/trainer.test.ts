import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { train, type TrainEvent } from '../../../src/index.js';
import type { TrainConfigInput } from '../../../src/train/config.js';
import { readSafetensors } from '../../../src/train/safetensors.js';

let root = '';
let manifest = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-train-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 48, size: 64, seed: 3 })).manifestPath;
});

function config(name: string, extra: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
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
    ...extra,
  } as TrainConfigInput;
}

describe('train()', () => {
  it('streams step/checkpoint/done events, writes config/metrics/checkpoints, and the same seed gives the same numbers', async () => {
    const run = train(config('a'), { skipEvaluation: true });
    const seen: TrainEvent[] = [];
    const emitted: string[] = [];
    run.on('checkpoint', (e: TrainEvent) => emitted.push(e.type));
    for await (const e of run) seen.push(e);
    const result = await run.result;
    const steps = seen.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.samplesPerSec).toBeGreaterThan(0);
      expect(s.dataMs).toBeGreaterThanOrEqual(0);
      expect(s.metrics.logitScale).toBeGreaterThan(1);
    }
    expect(seen.filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([4, 8, 12]);
    expect(emitted).toHaveLength(3);
    expect(seen.at(-1)?.type).toBe('done');
    const dir = join(root, 'runs', 'a');
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).loss.kind).toBe('infonce');
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(12);
    // keep: 2 → only the two newest checkpoints remain
    expect(
      readdirSync(join(dir, 'checkpoints'))
        .filter((f) => f.endsWith('.safetensors'))
        .sort(),
    ).toEqual(['step-0000008.safetensors', 'step-0000012.safetensors']);
    const file = await readSafetensors(join(dir, 'checkpoints', 'step-0000012.safetensors'));
    // [head.hidden, the built-in ResNet's embedding width (its last stage, 128 channels)]
    expect(file.tensors.get('image_projection.fc1.weight')!.shape).toEqual([24, 128]);
    expect(file.tensors.has('optimizer.main.exp_avg')).toBe(true);
    expect(file.tensors.has('ema')).toBe(true);

    const again = await train(config('a2'), { skipEvaluation: true }).result;
    expect(Buffer.from(again.parameters.buffer).equals(Buffer.from(result.parameters.buffer))).toBe(true);
  });

  it('resumes bit-identically: N steps straight == N/2, stop, resume N/2', async () => {
    const straight = await train(config('straight'), { skipEvaluation: true }).result;
    const first = await train(config('halves'), { skipEvaluation: true, stopAtStep: 6 }).result;
    expect(first.interrupted).toBe(true);
    expect(first.steps).toBe(6);
    const state = JSON.parse(readFileSync(join(root, 'runs', 'halves', 'checkpoints', 'step-0000006.json'), 'utf8'));
    expect(state.step).toBe(6);
    expect(state.dataOrder.permutation.length).toBeGreaterThan(0);
    expect(state.optimizer.groups.main.step).toBe(6);
    const resumed = await train(config('halves'), { skipEvaluation: true, resume: true }).result;
    expect(resumed.steps).toBe(12);
    expect(Buffer.from(resumed.parameters.buffer).equals(Buffer.from(straight.parameters.buffer))).toBe(true);
    expect(Buffer.from(resumed.ema!.buffer).equals(Buffer.from(straight.ema!.buffer))).toBe(true);
    const steps = readFileSync(join(root, 'runs', 'halves', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'step');
    expect(steps.map((s: { step: number }) => s.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('resuming a finished run only evaluates again, with changed evaluation keys', async () => {
    const finished = await train(config('finished'), { skipEvaluation: true }).result;
    expect(finished.steps).toBe(12);
    const run = train(config('finished', { eval: { probeSteps: 20, phrases: { 'Lung Lesion': 'nodule' } } }), { resume: true });
    const types = new Set<string>();
    for await (const e of run) types.add(e.type);
    const result = await run.result;
    expect(types.has('step')).toBe(false);
    expect(result.steps).toBe(12);
    expect(result.evaluations.map((e) => e.name)).toContain('zero-shot');
    expect(existsSync(result.reportPath!)).toBe(true);
  });

  it('refuses to reuse a run folder without resume/overwrite, and to resume with a different config', async () => {
    await train(config('reused'), { skipEvaluation: true, stopAtStep: 2 }).result;
    await expect(train(config('reused'), { skipEvaluation: true }).result).rejects.toMatchObject({ code: 'ERR_RUN_EXISTS' });
    await expect(train(config('reused', { optim: { lr: 1e-2 } }), { skipEvaluation: true, resume: true }).result).rejects.toMatchObject({
      code: 'ERR_RESUME_MISMATCH',
      message: expect.stringMatching(/changed: [^)]*optim\.lr/),
    });
    // the data order of every mode is checked too: a changed split gives other batches
    const { writeManifestCsv, loadManifest } = await import('../../../src/index.js');
    const moved = await loadManifest(manifest);
    const changed = join(root, 'changed-split.csv');
    const firstTrain = moved.rows.findIndex((r) => r.split === 'train');
    moved.rows[firstTrain]!.split = 'val';
    await writeManifestCsv(moved, changed);
    await train(config('reordered', { data: { manifest: changed, sentences: { min: 1, max: 3 } } }), {
      skipEvaluation: true,
      stopAtStep: 2,
    }).result;
    await writeManifestCsv(await loadManifest(manifest), changed);
    await expect(
      train(config('reordered', { data: { manifest: changed, sentences: { min: 1, max: 3 } } }), { skipEvaluation: true, resume: true })
        .result,
    ).rejects.toMatchObject({ code: 'ERR_RESUME_MISMATCH', message: expect.stringContaining('data order') });
  });

  it('stops on a non-finite loss with a typed error and keeps the last good checkpoint', async () => {
    const run = train(
      config('nan', { mode: 'supervised', optim: { lr: 1e30, maxGradNorm: 0, warmupSteps: 0 }, checkpoint: { every: 1, keep: 3 } }),
      { skipEvaluation: true },
    );
    const error = (await run.result.catch((e: unknown) => e)) as { code: string; message: string; details: { lastCheckpoint?: string } };
    expect(error.code).toBe('ERR_NON_FINITE_LOSS');
    expect(error.message).toMatch(/last good checkpoint/);
    expect(error.details.lastCheckpoint && existsSync(error.details.lastCheckpoint)).toBe(true);
    const file = await readSafetensors(error.details.lastCheckpoint!);
    for (const [, t] of file.tensors) for (const v of t.data as Float32Array) expect(Number.isFinite(v)).toBe(true);
  });

  it('an aborted run writes a checkpoint and reports interrupted', async () => {
    const controller = new AbortController();
    const run = train(config('abort'), { skipEvaluation: true, signal: controller.signal });
    run.on('step', (e: { step: number }) => {
      if (e.step === 3) controller.abort();
    });
    const result = await run.result;
    expect(result.interrupted).toBe(true);
    expect(result.steps).toBe(3);
    expect(existsSync(join(root, 'runs', 'abort', 'checkpoints', 'step-0000003.safetensors'))).toBe(true);
  });

  it('caches frozen features and recomputes them when an image file changes', async () => {
    // a cache of its own, so the first run computes the features whatever ran before
    const cacheDir = mkdtempSync(join(root, 'cache-'));
    const stages = async (name: string): Promise<string[]> => {
      const messages: string[] = [];
      const run = train(config(name, { steps: 2, cacheDir }), { skipEvaluation: true });
      for await (const e of run) if (e.type === 'stage' && e.stage === 'features') messages.push(e.message);
      return messages;
    };
    expect((await stages('cache0')).join('\n')).toMatch(/frozen features cached at/);
    expect((await stages('cache1')).join('\n')).toMatch(/frozen features from cache/);
    const { loadManifest } = await import('../../../src/index.js');
    const first = (await loadManifest(manifest)).rows[0]!.imagePaths[0]!;
    const later = new Date(Date.now() + 60_000);
    utimesSync(first, later, later);
    expect((await stages('cache2')).join('\n')).toMatch(/frozen features cached at/);
    expect((await stages('cache3')).join('\n')).toMatch(/frozen features from cache/);
  });

  it('names missing files and absent label columns', async () => {
    await expect(train(config('missing', { data: { manifest: join(root, 'nope.csv') } })).result).rejects.toMatchObject({
      code: 'ERR_MISSING_FILE',
      message: expect.stringContaining('nope.csv'),
    });
    await expect(train(config('nolabel', { mode: 'supervised', data: { manifest, labels: ['Edema'] } })).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_DATA',
      message: expect.stringContaining('"Edema"'),
    });
    await expect(train(config('badkey', { optim: { lr: -1 } })).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_CONFIG',
      message: expect.stringContaining('optim.lr'),
    });
  });
});
