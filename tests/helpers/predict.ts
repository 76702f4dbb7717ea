import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseCsv } from '../../src/index.js';
import { buildProgram } from '../../src/cli/main.js';
import { captureCli } from './cli.js';

/** `radlearn predict` on a run's test split writes, for every label, the very probabilities of the run's predictions.csv. */
export async function expectPredictReproducesRun(
  run: { classifierPath?: string; predictionsPath?: string },
  manifest: string,
  labels: readonly string[],
  out: string,
): Promise<void> {
  await captureCli(buildProgram(), ['predict', '--model', run.classifierPath!, manifest, '--split', 'test', '--out', out]);
  const [ph, ...prows] = parseCsv(readFileSync(out, 'utf8'), out);
  const [rh, ...rrows] = parseCsv(readFileSync(run.predictionsPath!, 'utf8'), 'predictions.csv');
  expect(prows.length).toBe(rrows.length);
  for (const label of labels)
    expect(prows.map((r) => r[ph!.indexOf(`prob.${label}`)])).toEqual(rrows.map((r) => r[rh!.indexOf(`prob.${label}`)]));
}
