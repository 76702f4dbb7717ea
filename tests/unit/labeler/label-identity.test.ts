/**
 * Label identity: the labels and sentence splits of a fixed corpus must stay exactly as
 * recorded in label-identity.golden.txt. Performance work on the labeler must not move a
 * single label; a deliberate rule change regenerates the file:
 *   UPDATE_LABEL_GOLDEN=1 npx vitest run --project default tests/unit/labeler/label-identity.test.ts
 * Each line: the 14 labels of one text in CheXpert order (1, 0, u = -1, . = null), then a
 * hash of its parsed sentences and each sentence's labelSentence result.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labelReport, labelSentence } from '../../../src/data/labeler/label.js';
import { OBSERVATIONS, type LabelValue } from '../../../src/data/labeler/observations.js';
import { hashString } from '../../../src/random/index.js';
import { parseReport } from '../../../src/data/reports/parse.js';
import { reportCorpus } from './report-corpus.js';

const GOLDEN = fileURLToPath(new URL('./label-identity.golden.txt', import.meta.url));
const CORPUS_SIZE = 2000;

const code = (v: LabelValue): string => (v === null ? '.' : v === -1 ? 'u' : String(v));

function fingerprint(text: string): string {
  const labels = labelReport(text);
  const sentences = parseReport(text).sentences.map((s) => [s.section, s.text, labelSentence(s.text)]);
  const hash = hashString(JSON.stringify(sentences)).toString(16).padStart(8, '0');
  return `${OBSERVATIONS.map((o) => code(labels[o])).join('')} ${hash}`;
}

describe('label identity on a fixed report corpus', () => {
  it('labels and splits every text exactly as recorded', () => {
    const corpus = reportCorpus(CORPUS_SIZE);
    const actual = corpus.map(fingerprint);
    if (process.env.UPDATE_LABEL_GOLDEN === '1') writeFileSync(GOLDEN, `${actual.join('\n')}\n`);
    const expected = readFileSync(GOLDEN, 'utf8').trimEnd().split('\n');
    expect(expected).toHaveLength(CORPUS_SIZE);
    const changed = actual.flatMap((line, i) =>
      line === expected[i] ? [] : [`#${i} ${JSON.stringify(corpus[i])}\n  expected ${expected[i]}\n  actual   ${line}`],
    );
    expect(changed.slice(0, 10).join('\n'), `${changed.length} of ${CORPUS_SIZE} texts changed`).toBe('');
  });
});
