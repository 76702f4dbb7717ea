import { describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateReport } from '../../../src/data/phantom/report.js';
import { sampleStudies } from '../../../src/data/phantom/truth.js';
import { countTerms, tokenize, vectorize, type VectorizeOptions } from '../../../src/mining/vectorize.js';
import { runPythonOracle, sklearnMissing, sklearnRequired } from '../../helpers/sklearn.js';

const HANDWRITTEN = [
  "FINDINGS: Heart-size is NORMAL. 4.5 cm nodule at T12; the patient's 2nd study. IMPRESSION: ___-year-old, no acute process.",
  'Lungs: clear.  Ödem der Lunge? Naïve café; cafe\u0301 with a combining accent. İstanbul protocol.',
  'Pleural effusion (small) — unchanged since 01/02/2020. snake_case_token and x2 and Ⅻ ribs, 10² mm.',
  '肺炎 consolidation 右下葉; no pneumothorax. a b c dd ee',
  '',
  '!!! ... ,,, 1 2 3',
];

function corpus(): string[] {
  const reports = sampleStudies(5, 300).map((s) => generateReport(s, 5).text);
  return [...reports, ...HANDWRITTEN];
}

describe('tokenize', () => {
  it('keeps runs of two or more letters, digits or underscores, lowercased', () => {
    expect(tokenize('Heart-size 4.5 cm, T12; x ÖDEM ___ a_b 10² İ')).toEqual(['heart', 'size', 'cm', 't12', 'ödem', '___', 'a_b', '10²']);
    expect(tokenize('Heart Size', false)).toEqual(['Heart', 'Size']);
  });
});

describe('vectorize', () => {
  it('counts words per document in vocabulary order, without stop words', () => {
    const { vocabulary, matrix } = vectorize(['The effusion is small, small.', 'No effusion; large pneumothorax.', 'the and of']);
    expect(vocabulary).toEqual(['effusion', 'large', 'pneumothorax', 'small']);
    expect(Array.from(matrix.indptr)).toEqual([0, 2, 5, 5]);
    expect(Array.from(matrix.indices)).toEqual([0, 3, 0, 1, 2]);
    expect(Array.from(matrix.values)).toEqual([1, 2, 1, 1, 1]);
  });

  it('reads minDf and maxDf as counts (integers) or fractions, as scikit-learn reads int and float', () => {
    const texts = ['alpha beta', 'alpha gamma', 'alpha beta delta', 'alpha'];
    expect(vectorize(texts, { minDf: 2 }).vocabulary).toEqual(['alpha', 'beta']);
    expect(vectorize(texts, { minDf: 0.5 }).vocabulary).toEqual(['alpha', 'beta']);
    expect(vectorize(texts, { maxDf: 0.75 }).vocabulary).toEqual(['beta', 'delta', 'gamma']);
    expect(vectorize(texts, { maxDf: 3 }).vocabulary).toEqual(['beta', 'delta', 'gamma']);
    expect(vectorize(texts, { maxFeatures: 2 }).vocabulary).toEqual(['alpha', 'beta']);
    expect(() => vectorize(texts, { minDf: 1.5 })).toThrow(/integer document count/);
    expect(() => vectorize(texts, { minDf: 3, maxDf: 2 })).toThrow(/below minDf/);
    expect(() => vectorize(texts, { maxFeatures: 0 })).toThrow(/maxFeatures/);
  });

  it('counts new texts over a fixed vocabulary, ignoring other words', () => {
    const m = countTerms(['beta beta zeta', 'nothing known'], ['alpha', 'beta']);
    expect(Array.from(m.indptr)).toEqual([0, 1, 1]);
    expect(Array.from(m.values)).toEqual([2]);
  });
});

const missing = sklearnMissing();
if (missing && !sklearnRequired()) console.warn(`skipping the CountVectorizer parity test: ${missing}`);

describe('vectorize matches scikit-learn CountVectorizer', () => {
  it.runIf(missing !== null && sklearnRequired())('has scikit-learn (required under CI; .ci/run installs python3-sklearn)', () => {
    throw new Error(missing!);
  });

  it.skipIf(missing !== null)('same vocabulary and counts on reports with Unicode, digits and punctuation, for each setting', () => {
    const texts = corpus();
    // a max_features cut where the frequencies are not tied (scikit-learn breaks ties arbitrarily)
    const all = vectorize(texts, { stopWords: 'none' });
    const tf = new Map<number, number>();
    all.matrix.indices.forEach((c, j) => tf.set(c, (tf.get(c) ?? 0) + all.matrix.values[j]!));
    const sorted = [...tf.values()].sort((a, b) => b - a);
    let cut = 40;
    while (sorted[cut - 1] === sorted[cut]) cut++;
    const cases: Array<{ ours: VectorizeOptions; theirs: Record<string, unknown> }> = [
      { ours: {}, theirs: { stop_words: 'english' } },
      { ours: { minDf: 3, maxDf: 0.5 }, theirs: { stop_words: 'english', min_df: { int: 3 }, max_df: { float: 0.5 } } },
      { ours: { minDf: 0.02, maxDf: 150 }, theirs: { stop_words: 'english', min_df: { float: 0.02 }, max_df: { int: 150 } } },
      { ours: { stopWords: 'none', maxFeatures: cut }, theirs: { stop_words: null, max_features: cut } },
    ];
    const script = join(dirname(fileURLToPath(import.meta.url)), 'sklearn_vectorizer_oracle.py');
    const reference = runPythonOracle<Array<{ vocabulary: string[]; indptr: number[]; indices: number[]; values: number[] }>>(script, {
      texts,
      settings: cases.map((c) => c.theirs),
    });
    cases.forEach((c, i) => {
      const ours = vectorize(texts, c.ours);
      const theirs = reference[i]!;
      expect(ours.vocabulary).toEqual(theirs.vocabulary);
      expect(Array.from(ours.matrix.indptr)).toEqual(theirs.indptr);
      expect(Array.from(ours.matrix.indices)).toEqual(theirs.indices);
      expect(Array.from(ours.matrix.values)).toEqual(theirs.values);
    });
    // the handwritten texts' Unicode words made it into the default vocabulary
    expect(vectorize(texts).vocabulary).toEqual(
      expect.arrayContaining(['ödem', 'naïve', 'café', 'cafe', '肺炎', '10²', 'snake_case_token', 'stanbul']),
    );
  });
});
