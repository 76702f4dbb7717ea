/** metrics.jsonl: one JSON record per line, appended in whole lines. */
import { appendFile } from 'node:fs/promises';

/** Appends whole lines in one write, so a reader never sees half a record from this process. */
export async function appendLines(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
