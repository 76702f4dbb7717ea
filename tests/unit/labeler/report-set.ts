/**
 * The labeler's test reports (tests/fixtures/labeler/*.jsonl): reports written for the tests, each
 * with the labels a radiologist reading it under the CheXpert conventions would give. A line is
 * { id, split, patterns?, text, labels }, where `labels` lists every observation the report speaks
 * to (No Finding included) and an observation left out is expected to be null (not mentioned).
 *
 * Scoring is per observation, on exact values: a non-null prediction is a true positive when it equals
 * the expected value and a false positive otherwise; an expected non-null value that is not predicted
 * exactly is a false negative. So a negated finding labelled uncertain costs one FP and one FN.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { emptyLabels, OBSERVATIONS, type LabelValue, type Observation, type ReportLabels } from '../../../src/data/labeler/observations.js';

export interface LabeledReport {
  id: string;
  split: 'pattern' | 'heldout';
  patterns: string[];
  text: string;
  expected: ReportLabels;
}

const VALUES: ReadonlySet<unknown> = new Set([1, 0, -1]);

export function loadReportSet(name: string): LabeledReport[] {
  const path = fileURLToPath(new URL(`../../fixtures/labeler/${name}`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const raw = JSON.parse(line) as {
        id: string;
        split: LabeledReport['split'];
        patterns?: string[];
        text: string;
        labels: Record<string, unknown>;
      };
      const expected = emptyLabels();
      for (const [key, value] of Object.entries(raw.labels)) {
        if (!(OBSERVATIONS as readonly string[]).includes(key)) throw new Error(`${name} line ${i + 1}: unknown observation '${key}'`);
        if (!VALUES.has(value)) throw new Error(`${name} line ${i + 1}: ${key} must be 1, 0 or -1, got ${String(value)}`);
        expected[key as Observation] = value as LabelValue;
      }
      return { id: raw.id, split: raw.split, patterns: raw.patterns ?? [], text: raw.text, expected };
    });
}

export interface ObservationScore {
  observation: Observation;
  /** Reports where the observation is expected non-null. */
  support: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? NaN : a / b);

export function scoreReports(reports: LabeledReport[], predict: (text: string) => ReportLabels): ObservationScore[] {
  const predictions = reports.map((r) => predict(r.text));
  return OBSERVATIONS.map((observation) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let support = 0;
    reports.forEach((report, i) => {
      const want = report.expected[observation];
      const got = (predictions[i] as ReportLabels)[observation];
      if (want !== null) support++;
      if (got !== null && got === want) tp++;
      else {
        if (got !== null) fp++;
        if (want !== null) fn++;
      }
    });
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    const f1 = ratio(2 * tp, 2 * tp + fp + fn);
    return { observation, support, tp, fp, fn, precision, recall, f1 };
  });
}

/** Macro average of a score over the observations where it is defined. */
export function macro(scores: ObservationScore[], key: 'precision' | 'recall' | 'f1'): number {
  const defined = scores.map((s) => s[key]).filter((v) => !Number.isNaN(v));
  return defined.reduce((a, b) => a + b, 0) / defined.length;
}

export function formatScoreTable(title: string, scores: ObservationScore[]): string {
  const f = (v: number): string => (Number.isNaN(v) ? '–' : v.toFixed(3));
  const rows = scores.map((s) => `| ${s.observation} | ${s.support} | ${f(s.precision)} | ${f(s.recall)} | ${f(s.f1)} |`);
  return [
    `${title}`,
    '',
    '| observation | n | precision | recall | F1 |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| macro | | ${f(macro(scores, 'precision'))} | ${f(macro(scores, 'recall'))} | ${f(macro(scores, 'f1'))} |`,
  ].join('\n');
}

/** Where a report's labels differ from the expected ones, one line per report. */
export function describeMisses(reports: LabeledReport[], predict: (text: string) => ReportLabels): string[] {
  return reports.flatMap((report) => {
    const got = predict(report.text);
    const diffs = OBSERVATIONS.filter((o) => got[o] !== report.expected[o]).map(
      (o) => `${o}: expected ${String(report.expected[o])}, got ${String(got[o])}`,
    );
    return diffs.length === 0 ? [] : [`${report.id} ${JSON.stringify(report.text)}\n    ${diffs.join('; ')}`];
  });
}
