/**
 * Report notes on the DINO pre-training runs a study used: whether the DINO objective trained
 * or stayed on its log K plateau (read from each run's dino-summary.json), so that a table whose
 * image-only arm was in fact shaped by iBOT and KoLeo alone says so next to the numbers.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plateauMessage, type DinoLossSummary } from '../dino/plateau.js';
import { PRETRAINING_PLANS } from './arms.js';
import type { StudyConfig } from './config.js';
import { pretrainRunName } from './pretrain.js';

export async function dinoRunNotes(dir: string, config: StudyConfig): Promise<string[]> {
  const notes: string[] = [];
  for (const arm of config.pretraining) {
    if (PRETRAINING_PLANS[arm].mode !== 'dino') continue;
    for (let seed = 0; seed < config.seeds; seed++) {
      const path = join(dir, 'pretrain', pretrainRunName(arm, seed, config), 'dino-summary.json');
      if (!existsSync(path)) continue;
      const s = JSON.parse(await readFile(path, 'utf8')) as DinoLossSummary;
      const losses = `iBOT ${s.ibot.toFixed(3)}, KoLeo ${s.koleo.toFixed(3)}`;
      notes.push(
        s.plateau
          ? `Pre-training ${arm}, seed ${seed}: ${plateauMessage(s)} (${losses}).`
          : `Pre-training ${arm}, seed ${seed}: the DINO loss ended at ${s.dino.toFixed(3)} = ${s.dinoOverLogK.toFixed(3)} log K, ${(s.dino / s.dinoOverLogK - s.dino).toFixed(3)} below log K = ${(s.dino / s.dinoOverLogK).toFixed(3)} (mean over steps ${s.firstStep}-${s.lastStep}; ${losses}): the DINO objective trained.`,
      );
    }
  }
  return notes;
}
