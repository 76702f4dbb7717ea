/**
 * One stream of training events. The CLI renders it; library users subscribe with `for await`
 * or `run.on('event' | 'step' | ..., listener)`. Every event is also in the returned result's order.
 */
import { EventEmitter } from 'node:events';
import type { DataSummary } from './data-summary.js';

export interface StepEvent {
  type: 'step';
  /** 1-based step just finished. */
  step: number;
  totalSteps: number;
  /** Which phase the step belongs to ('contrastive', 'supervised', 'teacher', 'student'). */
  phase: string;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  samplesPerSec: number;
  /** Milliseconds spent assembling the batch (data) and computing forward/backward/update (step). */
  dataMs: number;
  stepMs: number;
  /** Extra scalars of the step (logit scale, SigLIP bias, ...). */
  metrics: Record<string, number>;
}

export interface EvalEvent {
  type: 'eval';
  /** e.g. 'zero-shot', 'linear probe', 'supervised head'. */
  name: string;
  macroAuroc: number;
  perLabel: Array<{ label: string; auroc: number; ci: [number, number] }>;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  path: string;
  reason: 'interval' | 'final' | 'interrupt';
}

export interface DoneEvent {
  type: 'done';
  runDir: string;
  steps: number;
  seconds: number;
  reportPath?: string;
  classifierPath?: string;
  interrupted: boolean;
}

/**
 * Work before the first step (images, features, tokenizer) and after the last; progress in [0, 1] when known.
 * Stage 'warning' is something the user should know about (the CLI prints it as `[warning] ...`).
 */
export interface StageEvent {
  type: 'stage';
  stage: string;
  message: string;
  progress?: number;
}

/** The data the run trains and evaluates on, once its images are checked (also in data-summary.json and report.md). */
export interface DataEvent {
  type: 'data';
  summary: DataSummary;
}

export type TrainEvent = StepEvent | EvalEvent | CheckpointEvent | DoneEvent | StageEvent | DataEvent;

/**
 * Buffers events for async iteration while also emitting them, so a consumer that starts
 * iterating late still sees every event from the beginning.
 */
export class EventStream extends EventEmitter {
  private readonly buffer: TrainEvent[] = [];
  private closed = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(event: TrainEvent): void {
    this.buffer.push(event);
    this.emit('event', event);
    this.emit(event.type, event);
    this.wake?.();
  }

  close(error?: unknown): void {
    this.closed = true;
    this.failure = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TrainEvent> {
    let index = 0;
    for (;;) {
      while (index < this.buffer.length) yield this.buffer[index++]!;
      if (this.closed) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
