// The training script of docs/library-training-script.md, run small: the library API alone
// (no CLI) trains, evaluates and reports, in each mode.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePhantom, train, type TrainEvent } from '../../../src/index.js';

let out = '';
let manifest = '';

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'radlearn-lib-'));
  manifest = (await generatePhantom({ out: join(out, 'phantom'), n: 240, size: 64, seed: 4 })).manifestPath;
});

describe('training script on the library API', () => {
  it('contrastive: trains, evaluates zero-shot and linear probe, writes the report', async () => {
    const run = train({
      name: 'contrastive-example',
      mode: 'contrastive',
      runsDir: join(out, 'runs'),
      steps: 40,
      batchSize: 32,
      data: { manifest, sentences: { min: 1, max: 2 } },
      image: { size: 64 },
      text: { vocabSize: 500, maxLength: 48 },
      head: { kind: 'mlp', hidden: 64, projectionDim: 32 },
      loss: { kind: 'siglip', groups: 'labels' },
      optim: { lr: 5e-3, warmupSteps: 5 },
      eval: { probeSteps: 80 },
    });
    const events: TrainEvent[] = [];
    for await (const e of run) events.push(e);
    const result = await run.result;
    const evals = events.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.name)).toEqual(['zero-shot', 'linear probe (image features)']);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.every((s) => Number.isFinite(s.metrics.logitBias))).toBe(true);
    expect(readFileSync(result.reportPath!, 'utf8')).toMatch(/\| Cardiomegaly \| [^\n]*\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/);
    expect(existsSync(result.classifierPath!)).toBe(true);
  });

  it('distill: teacher on reports, then the image-only student at a label fraction; report rows for both', async () => {
    const result = await train({
      name: 'distill-example',
      mode: 'distill',
      runsDir: join(out, 'runs'),
      steps: 30,
      batchSize: 32,
      data: { manifest, labelFraction: 0.5, labels: ['Cardiomegaly', 'Pleural Effusion', 'Support Devices', 'No Finding'] },
      image: { size: 64 },
      text: { vocabSize: 500, maxLength: 48 },
      distill: { lambda: 0.5, temperature: 2, teacherInput: 'text+image', teacherSteps: 80 },
      eval: { linearProbe: false },
    }).result;
    expect(result.steps).toBe(110);
    expect(result.evaluations.map((e) => e.name)).toEqual(['distilled student (image only)', 'teacher (sees the report)']);
    // the teacher reads the report: on the phantom it should beat chance clearly on cardiomegaly
    const teacher = result.evaluations[1]!.perLabel.find((l) => l.label === 'Cardiomegaly')!;
    expect(teacher.auroc).toBeGreaterThan(0.7);
    const metrics = readFileSync(join(result.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(new Set(metrics.filter((m) => m.type === 'step').map((m) => m.phase))).toEqual(new Set(['teacher', 'student']));
  });

  it('supervised: an MLP head at a 25% label fraction', async () => {
    const result = await train({
      name: 'supervised-example',
      mode: 'supervised',
      runsDir: join(out, 'runs'),
      steps: 30,
      batchSize: 16,
      data: { manifest, labelFraction: 0.25 },
      image: { size: 64 },
      head: { kind: 'mlp', hidden: 32 },
      eval: { linearProbe: false },
    }).result;
    expect(result.evaluations[0]!.name).toBe('mlp head (supervised)');
    expect(result.evaluations[0]!.perLabel.length).toBe(8);
  });
});
