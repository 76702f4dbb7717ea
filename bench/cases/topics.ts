/**
 * LDA topics of report text. First `fitTopics` end to end on 100k phantom reports (10k with
 * --quick): counting, 3 online passes at k = 20, every report's topics and both perplexities, on
 * the default worker threads; the acceptance figure is under a minute on 2 cores. Then fitLda
 * against scikit-learn's LatentDirichletAllocation on the same counts of 20k reports (5k with
 * --quick), batch (10 passes, scikit-learn's default) and online (3 passes), each on 1 thread and
 * on 2 (scikit-learn n_jobs), with both held-out perplexities in the notes. scikit-learn rows need
 * /usr/bin/python3 with python3-sklearn and are left out without it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateReport } from '../../src/data/phantom/report.js';
import { sampleStudies } from '../../src/data/phantom/truth.js';
import { fitLda, type LdaMethod } from '../../src/mining/lda.js';
import { fitTopics } from '../../src/mining/topics.js';
import { selectRows, vectorize, type DocTermMatrix } from '../../src/mining/vectorize.js';
import { runPythonOracle, sklearnMissing } from '../../tests/helpers/sklearn.js';
import { withRatio, type BenchCase, type BenchRow } from '../harness.js';

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tests', 'unit', 'mining', 'sklearn_lda_oracle.py');

function reports(n: number, seed: number): string[] {
  return sampleStudies(seed, n).map((s) => generateReport(s, seed).text);
}

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

const plain = (m: DocTermMatrix): Record<string, unknown> => ({
  rows: m.rows,
  cols: m.cols,
  indptr: Array.from(m.indptr),
  indices: Array.from(m.indices),
  values: Array.from(m.values),
});

export const cases: BenchCase[] = [
  {
    name: 'topics',
    async run(context): Promise<BenchRow[]> {
      const rows: BenchRow[] = [];
      const n = context.quick ? 10_000 : 100_000;
      const texts = reports(n, 7);
      const chars = Math.round(texts.reduce((s, t) => s + t.length, 0) / n);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const fit = await fitTopics(texts, { k: 20, seed: 0 });
      const ms = performance.now() - started;
      const s = fit.seconds;
      rows.push({
        op: 'fitTopics (count, 3 online passes, infer all, perplexities)',
        backend: `ts, ${fit.model.settings.method}`,
        shape: `${n} reports (${chars} chars avg), V=${fit.model.vocabulary.length}, k=20`,
        medianMs: ms,
        p90Ms: ms,
        itemsPerSec: (n * 1000) / ms,
        itemName: 'reports',
        note: `count ${s.count.toFixed(1)} s, fit ${s.fit.toFixed(1)} s, infer ${s.infer.toFixed(1)} s; process CPU ${cpuSeconds(cpu).toFixed(1)} s; held-out perplexity ${fit.perplexity.heldOut?.toFixed(2)}; acceptance: < 60 s on 2 cores`,
      });

      // fitLda against scikit-learn on one count matrix
      const m = context.quick ? 5_000 : 20_000;
      const counted = vectorize(reports(m, 8));
      const heldOut = Math.floor(m / 10);
      const train = selectRows(
        counted.matrix,
        Array.from({ length: m - heldOut }, (_, i) => i),
      );
      const test = selectRows(
        counted.matrix,
        Array.from({ length: heldOut }, (_, i) => m - heldOut + i),
      );
      const missing = sklearnMissing();
      for (const [method, passes] of [
        ['batch', 10],
        ['online', 3],
      ] as Array<[LdaMethod, number]>) {
        for (const threads of [1, 2]) {
          const t0 = performance.now();
          const cpu0 = process.cpuUsage();
          const model = await fitLda(train, { k: 20, seed: 0, method, iterations: passes, workers: threads === 1 ? 0 : threads });
          const oursMs = performance.now() - t0;
          // workers' CPU counts too: process.cpuUsage covers every thread
          const oursCpu = cpuSeconds(cpu0);
          const perplexity = await model.perplexity(test);
          const shape = `${train.rows} reports, V=${train.cols}, k=20, ${passes} passes, ${threads} thread${threads > 1 ? 's' : ''}`;
          const ours: BenchRow = {
            op: `fitLda ${method}`,
            backend: 'ts',
            shape,
            medianMs: oursMs,
            p90Ms: oursMs,
            itemsPerSec: (train.rows * passes * 1000) / oursMs,
            itemName: 'report passes',
            note: `held-out perplexity ${perplexity.toFixed(2)}; CPU ${oursCpu.toFixed(1)} s`,
          };
          if (missing) {
            rows.push({ ...ours, note: `${ours.note}; scikit-learn row skipped: ${missing}` });
            continue;
          }
          const [theirs] = runPythonOracle<Array<{ seconds: number; cpuSeconds: number; perplexity: number }>>(ORACLE, {
            k: 20,
            alpha: 1 / 20,
            eta: 1 / 20,
            method,
            iterations: passes,
            seeds: [0],
            jobs: threads,
            train: plain(train),
            test: plain(test),
          });
          const baseline: BenchRow = {
            op: `LatentDirichletAllocation ${method}`,
            backend: 'scikit-learn',
            shape,
            medianMs: theirs!.seconds * 1000,
            p90Ms: theirs!.seconds * 1000,
            itemsPerSec: (train.rows * passes) / theirs!.seconds,
            itemName: 'report passes',
            note: `held-out perplexity ${theirs!.perplexity.toFixed(2)}; CPU ${theirs!.cpuSeconds.toFixed(1)} s`,
          };
          rows.push(baseline, withRatio(ours, baseline));
        }
      }
      return rows;
    },
  },
];
