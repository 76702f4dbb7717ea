/**
 * The labeler against reports written for the tests (tests/fixtures/labeler): per-observation
 * precision, recall and F1 on exact values (report-set.ts). The pattern reports each exercise one
 * rule (normal statements over coordinated subjects, questions, history and indication phrasing,
 * Unicode, CheXpert's conventions, clause scope) and must all be labelled exactly. The held-out
 * reports were written without running the labeler on them; their few misses are listed below, so
 * a change that fixes or breaks one shows up here.
 *
 * Print the tables that docs/data-reports.md quotes:
 *   PRINT_LABELER_SCORES=1 npx vitest run --project default tests/unit/labeler/report-set.test.ts
 */
import { describe, expect, it } from 'vitest';
import { labelReport } from '../../../src/data/labeler/label.js';
import { describeMisses, formatScoreTable, loadReportSet, macro, scoreReports } from './report-set.js';

const PATTERNS = loadReportSet('patterns.jsonl');
const HELD_OUT = loadReportSet('heldout.jsonl');

/** Held-out reports the labeler gets wrong, and why. */
const KNOWN_HELD_OUT_MISSES: Record<string, string> = {
  // "possibly a nipple shadow" offers a benign look-alike for the density: knowing that a nipple
  // shadow mimics a nodule is beyond a rule-based labeler, which reads the density as stated.
  'heldout-b22': 'Lung Lesion: expected -1, got 1',
  // "is likely due to vascular structures and patient positioning" explains the widening away;
  // "X is likely due to Y" usually leaves X present ("effusion is likely due to CHF"), and the
  // labeler reads it that way.
  'heldout-b31': 'Enlarged Cardiomediastinum: expected -1, got 1',
};

describe('labeler test reports', () => {
  it('has at least 120 pattern reports covering every pattern, and a held-out set', () => {
    expect(PATTERNS.length).toBeGreaterThanOrEqual(120);
    expect(HELD_OUT.length).toBeGreaterThanOrEqual(60);
    const patterns = new Set(PATTERNS.flatMap((r) => r.patterns));
    expect([...patterns].sort()).toEqual(['chexpert', 'coordinated-normal', 'history', 'question', 'scope', 'unicode']);
    expect(new Set([...PATTERNS, ...HELD_OUT].map((r) => r.id)).size).toBe(PATTERNS.length + HELD_OUT.length);
  });

  it('labels every pattern report exactly: precision, recall and F1 are 1 for every observation', () => {
    expect(describeMisses(PATTERNS, labelReport).join('\n')).toBe('');
    for (const score of scoreReports(PATTERNS, labelReport)) {
      if (score.support === 0) continue;
      expect([score.observation, score.precision, score.recall, score.f1]).toEqual([score.observation, 1, 1, 1]);
    }
  });

  it('misses only the documented held-out reports', () => {
    const misses = describeMisses(HELD_OUT, labelReport);
    const ids = misses.map((m) => m.split(' ')[0]);
    expect(ids.sort(), misses.join('\n')).toEqual(Object.keys(KNOWN_HELD_OUT_MISSES).sort());
    for (const miss of misses) expect(miss).toContain(KNOWN_HELD_OUT_MISSES[miss.split(' ')[0] as string]);
    const scores = scoreReports(HELD_OUT, labelReport);
    expect(macro(scores, 'f1')).toBeGreaterThan(0.95);
  });

  it('scores a prediction against the expected labels by exact value', () => {
    const [report] = loadReportSet('patterns.jsonl').filter((r) => r.text === 'Atelectasis or pneumonia in the right lower lobe.');
    expect(report).toBeDefined();
    // Negative where uncertain is expected: one false positive and one false negative.
    const scores = scoreReports([report!], () => ({ ...report!.expected, Atelectasis: 0 }));
    const atelectasis = scores.find((s) => s.observation === 'Atelectasis')!;
    expect([atelectasis.tp, atelectasis.fp, atelectasis.fn, atelectasis.f1]).toEqual([0, 1, 1, 0]);
    const pneumonia = scores.find((s) => s.observation === 'Pneumonia')!;
    expect([pneumonia.tp, pneumonia.fp, pneumonia.fn, pneumonia.f1]).toEqual([1, 0, 0, 1]);
    expect(scores.find((s) => s.observation === 'Fracture')!.f1).toBeNaN();
  });

  if (process.env.PRINT_LABELER_SCORES === '1') {
    it('prints the score tables', () => {
      console.log(formatScoreTable(`Pattern reports (${PATTERNS.length})`, scoreReports(PATTERNS, labelReport)));
      console.log(formatScoreTable(`Held-out reports (${HELD_OUT.length})`, scoreReports(HELD_OUT, labelReport)));
    });
  }
});
