// eval.groupBy: every arm is also evaluated on the test cases of each value of a manifest column
// (the phantom's sites), at the thresholds chosen on the whole validation split. The per-group
// AUROCs are checked against scikit-learn's roc_auc_score on predictions.csv's rows of that group.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePhantom, loadManifest, parseCsv, train } from '../../../src/index.js';
import { runPythonOracle, sklearnMissing, sklearnRequired } from '../../helpers/sklearn.js';

const ORACLE = join(import.meta.dirname, 'sklearn_group_auroc_oracle.py');
let root = '';
let manifest = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-groups-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 240, size: 64, seed: 6 })).manifestPath;
});

const config = (name: string, groupBy: string) =>
  ({
    name,
    mode: 'supervised',
    runsDir: join(root, 'runs'),
    steps: 30,
    batchSize: 16,
    seed: 1,
    data: { manifest },
    image: { size: 32 },
    head: { kind: 'linear' },
    eval: { linearProbe: false, groupBy },
  }) as const;

describe('eval.groupBy', () => {
  const skip = sklearnMissing();
  it.skipIf(skip !== null && !sklearnRequired())(
    'reports each arm per site; the AUROCs match scikit-learn on predictions.csv',
    async () => {
      if (skip !== null) throw new Error(skip);
      const result = await train(config('by-site', 'site')).result;
      const arm = 'linear head (supervised)';
      const main = result.evaluations.find((e) => e.name === arm)!;
      const bySite = ['A', 'B'].map((site) => result.evaluations.find((e) => e.name === `${arm} · site ${site}`)!);
      expect(bySite.every((e) => e !== undefined)).toBe(true);
      const report = JSON.parse(readFileSync(result.reportJsonPath!, 'utf8')) as {
        evaluations: Array<{
          name: string;
          nCases: number;
          labelNames: string[];
          perLabel: Array<{ label: string; auroc: number | null }>;
        }>;
      };
      const json = (name: string) => report.evaluations.find((e) => e.name === name)!;
      expect(json(`${arm} · site A`).nCases + json(`${arm} · site B`).nCases).toBe(json(arm).nCases);

      const site = new Map((await loadManifest(manifest)).rows.map((r) => [r.studyId, r.fields.site!]));
      const [header, ...rows] = parseCsv(readFileSync(result.predictionsPath!, 'utf8'));
      const labels = main.perLabel.map((l) => l.label);
      const column = (name: string): number => header!.indexOf(name);
      const oracle = runPythonOracle<Record<string, Record<string, number | null>>>(ORACLE, {
        labels,
        groups: rows.map((r) => site.get(r[column('study_id')]!)),
        scores: rows.map((r) => labels.map((l) => Number(r[column(`prob.${l}`)]))),
        truth: rows.map((r) => labels.map((l) => (r[column(`truth.${l}`)] === '' ? -9 : Number(r[column(`truth.${l}`)])))),
      });
      let compared = 0;
      for (const s of ['A', 'B'])
        for (const l of json(`${arm} · site ${s}`).perLabel) {
          const expected = oracle[s]![l.label];
          if (expected === null || expected === undefined) expect(l.auroc).toBeNull();
          else {
            expect(l.auroc!).toBeCloseTo(expected, 12);
            compared++;
          }
        }
      expect(compared).toBeGreaterThan(8);
      // thresholds are the whole validation split's, not chosen again per site
      const thresholds = (name: string) =>
        json(name).perLabel.map((l) => (l as { threshold?: { threshold: number } }).threshold?.threshold);
      expect(thresholds(`${arm} · site B`)).toEqual(thresholds(arm));
      const md = readFileSync(result.reportPath!, 'utf8');
      expect(md).toContain(`${arm} · site B`);
    },
  );

  it('names a missing column with its config key before training', async () => {
    await expect(train(config('no-column', 'hospital')).result).rejects.toMatchObject({
      code: 'ERR_TRAIN_DATA',
      details: { key: 'eval.groupBy', column: 'hospital' },
    });
  });
});
