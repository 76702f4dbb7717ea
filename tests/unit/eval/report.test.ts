import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateMultiLabel } from '../../../src/eval/evaluate.js';
import { lossPointsFromJsonl } from '../../../src/eval/report/lossCurve.js';
import { writeEvalReport } from '../../../src/eval/report/writeReport.js';
import { LABELS, buildReportInput } from './fixtures.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('writeEvalReport', () => {
  it('writes report.md, report.json and valid SVG figures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-eval-'));
    dirs.push(dir);
    const input = await buildReportInput();
    const files = await writeEvalReport(join(dir, 'report'), input);
    expect(Object.keys(files.plots).sort()).toEqual([
      'auroc-vs-label-fraction',
      'auroc-vs-label-fraction-per-label',
      'loss-curves',
      'roc-curves',
    ]);
    for (const path of Object.values(files.plots)) {
      const svg = await readFile(path, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toMatch(/<path /);
    }
    const roc = await readFile(files.plots['roc-curves'], 'utf8');
    for (const label of LABELS) expect(roc).toContain(label);

    const md = await readFile(files.markdown, 'utf8');
    expect(md).toMatch(/^# radlearn evaluation/);
    // Per-label rows with AUROC [CI], for both arms, and the macro row.
    for (const label of LABELS)
      expect(md).toMatch(new RegExp(`\\| ${label} \\| \\d+/\\d+ \\| 0\\.\\d{3} \\[0\\.\\d{3}, [01]\\.\\d{3}\\] \\|`));
    expect(md).toContain('## zero-shot vs kNN probe: AUROC [95% CI]');
    expect(md).toContain('DeLong test on the same test cases');
    expect(md).toContain('| **Macro** |');
    expect(md).toContain('### Macro AUROC');
    expect(md).toMatch(/\| kNN k=5 \| 0\.\d{3} ± 0\.\d{3} \| 0\.\d{3} ± 0\.\d{3} \| 0\.\d{3}/);
    expect(md).toContain('| 2% (n≈');
    expect(md).toContain('| KL grade | 90 |');
    expect(md).toContain('![ROC curves per label](roc-curves.svg)');

    const json = JSON.parse(await readFile(files.json, 'utf8'));
    expect(json.format).toBe('radlearn-eval-report');
    expect(json.evaluations[1].perLabel[0].label).toBe(LABELS[0]);
    expect(json.sweeps[0].summary.length).toBe(3);
    // report.html embeds every figure report.md links
    const html = await readFile(files.html, 'utf8');
    expect(html.match(/<img class="figure" src="data:image\/svg\+xml;base64,/g)).toHaveLength(4);
    // Only the report files and figures: no temporary files left behind.
    expect((await readdir(join(dir, 'report'))).sort()).toEqual([
      'auroc-vs-label-fraction-per-label.svg',
      'auroc-vs-label-fraction.svg',
      'loss-curves.svg',
      'report.html',
      'report.json',
      'report.md',
      'roc-curves.svg',
    ]);
  });

  it('keeps going on degenerate labels: NaN shown as — with the reason, null in JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'radlearn-eval-'));
    dirs.push(dir);
    const evaluation = evaluateMultiLabel({
      name: 'probe',
      labelNames: ['Fracture', 'Edema'],
      scores: [0.2, 0.9, 0.4, 0.1, 0.7, 0.8, 0.3, 0.6],
      labels: [0, 1, 0, 0, 0, 1, 0, 1],
    });
    const files = await writeEvalReport(dir, { evaluations: [evaluation] }, { plots: false });
    const md = await readFile(files.markdown, 'utf8');
    expect(md).toContain('| Fracture | 0/4 | — |');
    expect(md).toMatch(/Fracture: only negatives \(4\)/);
    expect(md).toContain('No validation split was given');
    const json = JSON.parse(await readFile(files.json, 'utf8'));
    expect(json.evaluations[0].perLabel[0].auroc).toBeNull();
    expect(json.evaluations[0].perLabel[1].auroc).toBe(1);
  });

  it('parses metrics.jsonl loss points, tolerating only a truncated last line', () => {
    expect(lossPointsFromJsonl('{"step":1,"loss":2}\n{"type":"eval","step":1,"auroc":0.7}\n{"step":2,"loss":1.5}\n{"st')).toEqual([
      { step: 1, loss: 2 },
      { step: 2, loss: 1.5 },
    ]);
    expect(() => lossPointsFromJsonl('{"step":1,"loss":2}\nnot json\n{"step":2,"loss":1}')).toThrow(/metrics.jsonl:2: not valid JSON/);
  });
});
