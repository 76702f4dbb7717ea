/**
 * metrics.jsonl: one JSON record per line (`step`, `checkpoint` and `eval` records), appended in
 * whole lines. Step records are queued and written in batches; whatever is queued is written
 * before a failure goes on, so the records leading up to it (e.g. the losses before a NaN) stay.
 */
import { existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.js';

/** Appends whole lines in one write, so a reader never sees half a record from this process. */
export async function appendLines(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export class MetricsLog {
  private pending: unknown[] = [];

  private readonly write: boolean;

  /** `write: false`: the records are kept to nobody (a data-parallel job's ranks other than 0). */
  constructor(
    readonly path: string,
    options: { write?: boolean } = {},
  ) {
    this.write = options.write ?? true;
  }

  /** Records waiting for the next flush. */
  get queued(): number {
    return this.pending.length;
  }

  queue(record: unknown): void {
    this.pending.push(record);
  }

  async flush(): Promise<void> {
    if (this.write) await appendLines(this.path, this.pending);
    this.pending = [];
  }

  /** Writes `records` now (after anything queued). */
  async append(records: readonly unknown[]): Promise<void> {
    await this.flush();
    if (this.write) await appendLines(this.path, records);
  }

  /**
   * On resume: the records after `step` belong to the abandoned continuation, and evaluations to
   * a completed one (they are redone at the end), so both are dropped; so is a line a crashed
   * writer left half-written. The file is replaced atomically.
   */
  async truncateAfter(step: number): Promise<void> {
    if (!this.write || !existsSync(this.path)) return;
    const kept = (await readFile(this.path, 'utf8')).split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        const r = JSON.parse(line) as { step?: number; type?: string };
        return r.type !== 'eval' && (typeof r.step !== 'number' || r.step <= step);
      } catch {
        return false;
      }
    });
    await writeFileAtomic(this.path, kept.map((l) => `${l}\n`).join(''));
  }
}
