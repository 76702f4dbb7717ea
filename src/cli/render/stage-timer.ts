/**
 * Where a command's time goes, stage by stage: wall time, CPU time of the whole process (every
 * thread: onnxruntime's, the chunk and phantom workers') and, for training steps, samples per
 * second. A stage runs from its first event to the next stage's; a run's steps (and the
 * checkpoints between them) are one stage.
 */
import type { TrainEvent } from '../../index.js';

export interface StageTiming {
  stage: string;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU seconds per wall second, in percent (200 = two cores busy). */
  cpuPercent: number;
  samples?: number;
  samplesPerSec?: number;
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export class StageTimer {
  readonly stages: StageTiming[] = [];
  private current: { stage: string; wall: number; cpu: number; samples: number } | undefined;

  /** Starts `stage` (closing the one before), unless it is the stage already running. */
  enter(stage: string): void {
    if (this.current?.stage === stage) return;
    this.close();
    this.current = { stage, wall: performance.now(), cpu: cpuNow(), samples: 0 };
  }

  /** Follows a training run's events under `prefix` ('frozen', 'end to end'). */
  observe(prefix: string, event: TrainEvent): void {
    if (event.type === 'stage') this.enter(`${prefix}: ${event.stage}`);
    else if (event.type === 'step') {
      this.enter(`${prefix}: ${event.phase} steps`);
      // a step's samples: its rate times its duration
      this.current!.samples += Math.round((event.samplesPerSec * (event.dataMs + event.stepMs)) / 1000);
    } else if (event.type === 'eval') this.enter(`${prefix}: evaluate`);
  }

  /** Closes the running stage. */
  close(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const wallSeconds = (performance.now() - c.wall) / 1000;
    const cpuSeconds = cpuNow() - c.cpu;
    const timing: StageTiming = { stage: c.stage, wallSeconds, cpuSeconds, cpuPercent: (100 * cpuSeconds) / Math.max(1e-9, wallSeconds) };
    if (c.samples > 0) {
      timing.samples = c.samples;
      timing.samplesPerSec = c.samples / Math.max(1e-9, wallSeconds);
    }
    this.stages.push(timing);
  }

  /** The stages as an aligned text table, with a total row. */
  table(): string {
    const wall = this.stages.reduce((s, t) => s + t.wallSeconds, 0);
    const cpu = this.stages.reduce((s, t) => s + t.cpuSeconds, 0);
    const rows = [
      ['stage', 'wall s', 'CPU s', 'CPU %', 'samples/s'],
      ...this.stages.map((t) => [
        t.stage,
        t.wallSeconds.toFixed(1),
        t.cpuSeconds.toFixed(1),
        t.cpuPercent.toFixed(0),
        t.samplesPerSec === undefined ? '' : t.samplesPerSec.toFixed(0),
      ]),
      ['total', wall.toFixed(1), cpu.toFixed(1), ((100 * cpu) / Math.max(1e-9, wall)).toFixed(0), ''],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
  }
}
