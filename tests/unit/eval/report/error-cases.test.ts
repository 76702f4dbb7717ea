// The gallery's selection of most confident errors, against a brute-force enumeration.
import { describe, expect, it } from 'vitest';
import { mostConfidentErrors } from '../../../../src/eval/report/error-cases.js';
import { escapeHtml, renderReportHtml } from '../../../../src/eval/report/html.js';
import { rng } from '../../../helpers/random.js';

/** Every wrong case, ordered by confidence by comparing all pairs (no sort comparator shared with the code). */
function bruteForce(scores: number[], truth: number[], threshold: number | null, count: number): { fp: number[]; fn: number[] } {
  const idx = scores.map((_, i) => i);
  const fpAll = idx.filter((i) => truth[i] === 0 && !Number.isNaN(scores[i]) && (threshold === null || scores[i]! >= threshold));
  const fnAll = idx.filter((i) => truth[i] === 1 && !Number.isNaN(scores[i]) && (threshold === null || scores[i]! < threshold));
  const rank = (list: number[], before: (a: number, b: number) => boolean): number[] =>
    list
      .map((i) => ({ i, r: list.filter((j) => before(j, i)).length }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.i);
  return {
    fp: rank(fpAll, (a, b) => scores[a]! > scores[b]! || (scores[a] === scores[b] && a < b)).slice(0, count),
    fn: rank(fnAll, (a, b) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a < b)).slice(0, count),
  };
}

describe('mostConfidentErrors', () => {
  it('picks the highest-scored negatives and lowest-scored positives on the wrong side of the threshold', () => {
    const rand = rng(7);
    for (const n of [0, 1, 5, 37, 200]) {
      for (const threshold of [null, 0.3, 0.5, 0.9]) {
        // scores on a coarse grid so ties happen; truths include uncertain (-1) and missing (NaN)
        const scores = Array.from({ length: n }, () => (rand() < 0.05 ? NaN : Math.round(rand() * 20) / 20));
        const truth = Array.from({ length: n }, () => [0, 1, 1, 0, -1, NaN][Math.floor(rand() * 6)]!);
        for (const count of [0, 1, 4, 50]) {
          const got = mostConfidentErrors(scores, truth, threshold, count);
          const want = bruteForce(scores, truth, threshold, count);
          expect(got.falsePositives).toEqual(want.fp);
          expect(got.falseNegatives).toEqual(want.fn);
        }
      }
    }
  });

  it('refuses mismatched lengths and negative counts', () => {
    expect(() => mostConfidentErrors([0.1, 0.2], [1], 0.5, 1)).toThrow(/2 scores for 1 truths/);
    expect(() => mostConfidentErrors([0.1], [1], 0.5, -1)).toThrow(/count must be >= 0/);
  });
});

describe('renderReportHtml', () => {
  it('renders the markdown tables, embeds the linked SVG figures and escapes raw HTML from the data', () => {
    const md = [
      '# Run',
      '',
      '| Label | AUROC |',
      '|---|---|',
      '| <script>alert(1)</script> | 0.800 |',
      '',
      '![ROC curves per label](roc-curves.svg)',
    ].join('\n');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"></svg>';
    const html = renderReportHtml('Run <1>', md, { 'roc-curves.svg': svg });
    expect(html).toContain('<title>Run &lt;1&gt;</title>');
    expect(html).toMatch(/<table>[\s\S]*<th>Label<\/th>[\s\S]*<td>0.800<\/td>/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain(`src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"`);
    expect(html).not.toContain('src="roc-curves.svg"');
  });

  it('shows each label with its threshold, false positives and negatives, and says None for empty lists', () => {
    const png = new Uint8Array([1, 2, 3]);
    const html = renderReportHtml(
      'r',
      '# r',
      {},
      {
        arm: 'linear probe',
        labels: [
          { label: 'Edema & co', threshold: 0.25, falsePositives: [{ png, caption: 'study "a"', probability: 0.91 }], falseNegatives: [] },
          { label: 'Other', threshold: null, falsePositives: [], falseNegatives: [{ png, caption: 'b', probability: 0.02 }] },
        ],
      },
    );
    expect(html).toContain(`<h3>${escapeHtml('Edema & co')}</h3>`);
    expect(html).toContain('Against threshold 0.250.');
    expect(html).toContain('study &quot;a&quot;<br>p = 0.910');
    expect(html).toContain('<h4>False negatives (0)</h4>\n<p>None.</p>');
    expect(html).toContain('no threshold');
    expect(html.match(/src="data:image\/png;base64,AQID"/g)).toHaveLength(2);
  });
});
