/**
 * Evaluations per subgroup of the test split (`eval.groupBy`: a manifest column such as `site`):
 * each arm's test scores restricted to the cases of one value, at the thresholds that arm chose on
 * the whole validation split, so a site's AUROC and operating point are what a model validated
 * elsewhere would get there (external validation). Named "<arm> · <column> <value>".
 */
import { evaluateMultiLabel, type MultiLabelEvaluation } from '../eval/evaluate.js';
import type { TrainConfig } from './config.js';
import type { TrainDataset } from './dataset.js';

/** The test cases (positions into `test`) of each value of `column`, values in sorted order; empty values are left out. */
export function testGroups(dataset: TrainDataset, test: Int32Array, column: string): Array<{ value: string; positions: Int32Array }> {
  const byValue = new Map<string, number[]>();
  test.forEach((row, position) => {
    const value = dataset.manifest.rows[row]?.fields[column]?.trim() ?? '';
    if (value === '') return;
    const list = byValue.get(value);
    if (list) list.push(position);
    else byValue.set(value, [position]);
  });
  return [...byValue.keys()]
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((value) => ({ value, positions: Int32Array.from(byValue.get(value)!) }));
}

export function evaluateGroups(
  config: TrainConfig,
  dataset: TrainDataset,
  test: Int32Array,
  evaluations: readonly MultiLabelEvaluation[],
  testScores: ReadonlyMap<string, Float64Array>,
): MultiLabelEvaluation[] {
  const column = config.eval.groupBy;
  if (column === undefined) return [];
  const groups = testGroups(dataset, test, column);
  const L = dataset.labelNames.length;
  const out: MultiLabelEvaluation[] = [];
  for (const evaluation of evaluations) {
    const scores = testScores.get(evaluation.name);
    if (!scores) continue;
    const columns = evaluation.labelNames.map((l) => dataset.labelNames.indexOf(l));
    const width = columns.length;
    const thresholds = evaluation.perLabel.map((l) => l.threshold?.threshold ?? Number.NaN);
    const given = thresholds.every((t) => Number.isFinite(t));
    for (const { value, positions } of groups) {
      const subScores = new Float64Array(positions.length * width);
      const subLabels = new Float64Array(positions.length * width);
      positions.forEach((p, i) => {
        const row = test[p]!;
        for (let j = 0; j < width; j++) {
          subScores[i * width + j] = scores[p * width + j]!;
          subLabels[i * width + j] = dataset.labels[row * L + columns[j]!]!;
        }
      });
      out.push(
        evaluateMultiLabel({
          name: `${evaluation.name} · ${column} ${value}`,
          labelNames: evaluation.labelNames,
          scores: subScores,
          labels: subLabels,
          ...(given ? { thresholds } : {}),
          uncertain: config.data.uncertain,
          level: config.eval.level,
        }),
      );
    }
  }
  return out;
}
