/**
 * Several worker sessions of one model behind one SessionRunner: each run goes to the session with
 * the fewest runs in flight, so an encoder that keeps a few batches in flight keeps every session
 * busy. Each batch is computed whole by one session, so the results do not depend on how many
 * sessions there are or which one ran a batch.
 */
import type { TensorLike } from '../onnx/tensor.js';
import type { SessionInfo, SessionRunner } from './session-runner.js';

export class RunnerGroup implements SessionRunner {
  readonly info: SessionInfo;
  private readonly inFlight: number[];

  constructor(private readonly runners: readonly SessionRunner[]) {
    this.info = { ...runners[0]!.info, sessions: runners.length };
    this.inFlight = runners.map(() => 0);
  }

  async run(
    feeds: Record<string, TensorLike>,
    options?: { outputNames?: readonly string[]; transfer?: boolean },
  ): Promise<Record<string, TensorLike>> {
    let pick = 0;
    for (let i = 1; i < this.runners.length; i++) if (this.inFlight[i]! < this.inFlight[pick]!) pick = i;
    this.inFlight[pick]!++;
    try {
      return await this.runners[pick]!.run(feeds, options);
    } finally {
      this.inFlight[pick]!--;
    }
  }

  async setStaticFeeds(feeds: Record<string, TensorLike>): Promise<void> {
    await Promise.all(this.runners.map((r) => r.setStaticFeeds(feeds)));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.dispose()));
  }
}
