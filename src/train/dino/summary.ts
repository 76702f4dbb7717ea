/**
 * dino-summary.json: the mean losses over the last window of logged steps (read from
 * metrics.jsonl, so a resumed run counts its earlier steps) and whether the DINO loss ended on
 * its log K plateau.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../io/atomic.js';
import { plateauMessage, summarizeDinoLosses, type DinoLossRecord } from './plateau.js';

/** Steps the plateau check averages over: a tenth of the run, between 10 and 100. */
export function plateauWindowSteps(total: number): number {
  return Math.min(100, Math.max(10, Math.floor(total / 10)));
}

export async function writeDinoSummary(
  runDir: string,
  metricsPath: string,
  prototypes: number,
  windowSteps: number,
  stage: (name: string, message: string) => void,
): Promise<void> {
  if (!existsSync(metricsPath)) return;
  const records: DinoLossRecord[] = [];
  for (const line of (await readFile(metricsPath, 'utf8')).split('\n')) {
    if (!line) continue;
    let r: { type?: string; step?: number; metrics?: Record<string, number> };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // a line a crashed writer left half-written carries no step to summarise
    }
    if (r.type === 'step' && typeof r.step === 'number' && r.metrics)
      records.push({ step: r.step, dino: r.metrics.dino ?? NaN, ibot: r.metrics.ibot ?? 0, koleo: r.metrics.koleo ?? 0 });
  }
  const last = records[records.length - 1];
  if (!last) return;
  const tail = records.filter((r) => r.step > last.step - windowSteps);
  const summary = summarizeDinoLosses(tail, prototypes, tail.length)!;
  await writeJsonAtomic(join(runDir, 'dino-summary.json'), { ...summary, windowSteps });
  stage(
    summary.plateau ? 'warning' : 'dino',
    summary.plateau
      ? plateauMessage(summary)
      : `DINO loss ${summary.dino.toFixed(3)} = ${summary.dinoOverLogK.toFixed(2)} log K over steps ${summary.firstStep}-${summary.lastStep}: the student predicts the teacher`,
  );
}
