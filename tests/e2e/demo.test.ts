import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
// RADLEARN_CLI lets a developer point the test at another build of the CLI
const cli = process.env.RADLEARN_CLI ?? join(root, 'bin', 'radlearn.js');
const run = promisify(execFile);

describe('radlearn demo (small)', () => {
  it('generates the phantom, trains heads on frozen encoders then both encoders end to end, evaluates both and writes report.md with AUROC rows and CIs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'radlearn-demo-'));
    const { stdout } = await run(
      process.execPath,
      [
        cli,
        'demo',
        '--out',
        out,
        '--n',
        '240',
        '--size',
        '64',
        '--frozen-steps',
        '24',
        '--steps',
        '4',
        '--batch-size',
        '16',
        '--chunk-size',
        '6',
        '--probe-steps',
        '60',
      ],
      {
        cwd: root,
        env: { ...process.env, CI: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const reportPath = join(out, 'runs', 'demo', 'report.md');
    expect(stdout).toContain(`report: ${reportPath}`);
    expect(stdout).toMatch(/Cardiomegaly +\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/);
    const report = readFileSync(reportPath, 'utf8');
    expect(report).toMatch(/zero-shot/);
    expect(report).toMatch(/linear probe/);
    // a table row per finding with an AUROC and its CI, e.g. "| Cardiomegaly | 5/9 | 0.812 [0.610, 1.000] |"
    for (const finding of ['Cardiomegaly', 'Support Devices', 'No Finding']) {
      expect(report).toMatch(new RegExp(`\\| ${finding} \\|[^\\n]*\\d\\.\\d+ \\[\\d\\.\\d+, \\d\\.\\d+\\]`));
    }
    // the frozen-encoder stage has its own run and report, and the demo prints the comparison
    expect(existsSync(join(out, 'runs', 'demo-frozen', 'report.md'))).toBe(true);
    expect(stdout).toMatch(/frozen encoders vs end-to-end trained encoders/);
    expect(stdout).toMatch(/\| Cardiomegaly +\| \d\.\d{3} \[/);
    expect(JSON.parse(readFileSync(join(out, 'runs', 'demo', 'config.json'), 'utf8')).mode).toBe('clip-finetune');
    const json = JSON.parse(readFileSync(join(out, 'runs', 'demo', 'report.json'), 'utf8'));
    expect(JSON.stringify(json)).toContain('zero-shot');
    expect(existsSync(join(out, 'runs', 'demo', 'classifier.onnx'))).toBe(true);
    expect(existsSync(join(out, 'runs', 'demo', 'metrics.jsonl'))).toBe(true);
    expect(existsSync(join(out, 'runs', 'demo', 'config.json'))).toBe(true);
  });
});
