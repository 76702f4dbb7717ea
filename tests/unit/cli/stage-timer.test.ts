import { describe, expect, it } from 'vitest';
import { StageTimer } from '../../../src/cli/render/stage-timer.js';
import type { TrainEvent } from '../../../src/index.js';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

const step = (samplesPerSec: number, stepMs: number): TrainEvent =>
  ({
    type: 'step',
    step: 1,
    totalSteps: 2,
    phase: 'clip-finetune',
    epoch: 0,
    loss: 1,
    lr: 1e-3,
    gradNorm: 1,
    samplesPerSec,
    dataMs: 0,
    stepMs,
    metrics: {},
  }) as TrainEvent;

describe('StageTimer', () => {
  it("splits a run's events into stages with wall time, the process's CPU time and the steps' samples per second", async () => {
    const timer = new StageTimer();
    timer.enter('phantom');
    busy(30);
    timer.observe('end to end', { type: 'stage', stage: 'images', message: 'preprocessing' });
    await new Promise((r) => setTimeout(r, 40)); // waiting: wall time without CPU time
    timer.observe('end to end', { type: 'stage', stage: 'images', message: 'still the same stage', progress: 0.5 });
    timer.observe('end to end', step(128 / 0.25, 250)); // 128 samples in 250 ms
    timer.observe('end to end', step(64 / 0.5, 500)); // 64 samples in 500 ms
    busy(20);
    timer.observe('end to end', { type: 'eval', name: 'zero-shot', macroAuroc: 0.5, perLabel: [] });
    timer.close();
    const names = timer.stages.map((s) => s.stage);
    expect(names).toEqual(['phantom', 'end to end: images', 'end to end: clip-finetune steps', 'end to end: evaluate']);
    const [phantom, images, steps] = timer.stages;
    expect(phantom!.wallSeconds).toBeGreaterThanOrEqual(0.029);
    expect(phantom!.cpuSeconds).toBeGreaterThan(0.02);
    expect(images!.wallSeconds).toBeGreaterThanOrEqual(0.039);
    expect(images!.cpuPercent).toBeLessThan(60);
    expect(steps!.samples).toBe(192);
    expect(steps!.samplesPerSec).toBeCloseTo(192 / steps!.wallSeconds, 6);
    const table = timer.table().split('\n');
    expect(table[0]).toMatch(/^stage\s+wall s\s+CPU s\s+CPU %\s+samples\/s$/);
    expect(table).toHaveLength(6);
    expect(table[5]).toMatch(/^total\s/);
  });
});
