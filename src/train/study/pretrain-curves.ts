/**
 * The pre-training runs' loss curves for the study report (loss-curves.svg): the contrastive
 * heads and clip-finetune losses of the report-contrastive arm, and the DINO and iBOT losses of
 * the image-only arm with its log K line, so a DINO loss sitting on its uniform plateau is
 * visible next to the table. Read from each run's metrics.jsonl (every logged step, resume-safe).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LossCurve } from '../../eval/report/plots.js';
import { dinoSchema } from '../dino/config.js';
import { PRETRAINING_PLANS } from './arms.js';
import type { StudyConfig } from './config.js';
import { pretrainRunName } from './pretrain.js';

interface StepRecord {
  step: number;
  phase?: string;
  loss: number;
  metrics?: Record<string, number>;
}

async function stepRecords(path: string): Promise<StepRecord[]> {
  if (!existsSync(path)) return [];
  const records: StepRecord[] = [];
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let r: Partial<StepRecord> & { type?: string };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // a run killed mid-write leaves a partial last line
    }
    if (r.type === 'step' && typeof r.step === 'number' && typeof r.loss === 'number') records.push(r as StepRecord);
  }
  return records;
}

const curve = (name: string, records: readonly StepRecord[], pick: (r: StepRecord) => number | undefined): LossCurve => ({
  name,
  points: records.map((r) => ({ step: r.step, loss: pick(r) ?? NaN })).filter((p) => Number.isFinite(p.loss)),
});

export async function pretrainLossCurves(dir: string, config: StudyConfig): Promise<LossCurve[]> {
  const curves: LossCurve[] = [];
  for (const arm of config.pretraining) {
    const plan = PRETRAINING_PLANS[arm];
    if (plan.mode === null) continue;
    for (let seed = 0; seed < config.seeds; seed++) {
      const runName = pretrainRunName(arm, seed, config);
      const label = config.seeds > 1 ? `${arm} s${seed}` : arm;
      if (plan.mode === 'dino') {
        const records = await stepRecords(join(dir, 'pretrain', runName, 'metrics.jsonl'));
        if (records.length === 0) continue;
        // the log K line first, so the DINO curve is drawn over it where they coincide
        const prototypes = dinoSchema.parse({ ...config.dino, vit: config.vit }).head.prototypes;
        const logK = Math.log(prototypes);
        if (!curves.some((c) => c.name.startsWith('log K')))
          curves.unshift({
            name: `log K (${prototypes} prototypes)`,
            points: [
              { step: records[0]!.step, loss: logK },
              { step: records[records.length - 1]!.step, loss: logK },
            ],
          });
        curves.push(curve(`${label}: DINO`, records, (r) => r.metrics?.dino));
        if (records.some((r) => (r.metrics?.ibot ?? 0) > 0)) curves.push(curve(`${label}: iBOT`, records, (r) => r.metrics?.ibot));
        continue;
      }
      // the heads run (when the arm warm-starts from one), then the arm's own run
      for (const name of [`${runName}-heads`, runName]) {
        const records = await stepRecords(join(dir, 'pretrain', name, 'metrics.jsonl'));
        if (records.length > 0) curves.push(curve(`${label}: ${records[0]!.phase ?? 'loss'}`, records, (r) => r.loss));
      }
    }
  }
  return curves;
}
