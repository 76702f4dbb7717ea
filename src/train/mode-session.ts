/**
 * One mode's part of a run around the shared loop: what it sets up before the first step (data,
 * encoders, features, the Task) and what it makes of the trained parameters after the last
 * (evaluation, report and classifier; or the DINO teacher's encoder).
 */
import type { TrainEvent } from './events.js';
import type { LoopOutcome } from './loop.js';
import type { Task } from './task.js';

export interface ModeResults {
  reportPath?: string;
  reportJsonPath?: string;
  /** report.html: report.md's tables with the figures embedded and the most confident errors as thumbnails. */
  reportHtmlPath?: string;
  /** predictions.csv: the test split's per-case scores (absent when nothing was evaluated). */
  predictionsPath?: string;
  classifierPath?: string;
  evaluations: Array<{ name: string; macroAuroc: number; perLabel: Array<{ label: string; auroc: number; ci: [number, number] }> }>;
}

export interface ModeSession {
  readonly task: Task;
  /**
   * After the loop; `skipEvaluation` asks for checkpoints only where the mode evaluates, `evalDir`
   * for the report and predictions in that folder instead of the run folder.
   */
  finish(outcome: LoopOutcome, options: { skipEvaluation?: boolean; evalDir?: string }): Promise<ModeResults>;
  /** Releases onnxruntime sessions and encoders, after finish or a failure. */
  release(): Promise<void>;
}

/** Stage events of a session: set-up and wrap-up progress. */
export type StageEmitter = (stage: string, message: string, progress?: number) => void;

export function stageEmitter(emit: (e: TrainEvent) => void): StageEmitter {
  return (stage, message, progress) => emit({ type: 'stage', stage, message, progress });
}
