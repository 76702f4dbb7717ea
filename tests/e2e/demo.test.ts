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
  it('generates the phantom, trains, evaluates and writes report.md with AUROC rows and CIs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'radlearn-demo-'));
    const { stdout } = await run(process.execPath, [cli, 'demo', '--out', out, '--n', '240', '--size', '64', '--steps', '24', '--batch-size', '16', '--probe-steps', '60'], {
      cwd: root, env: { ...process.env, CI: 'true' }, maxBuffer: 16 * 1024 * 1024,
    });
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
    const json = JSON.parse(readFileSync(join(out, 'runs', 'demo', 'report.json'), 'utf8'));
    expect(JSON.stringify(json)).toContain('zero-shot');
    expect(existsSync(join(out, 'runs', 'demo', 'classifier.onnx'))).toBe(true);
    expect(existsSync(join(out, 'runs', 'demo', 'metrics.jsonl'))).toBe(true);
    expect(existsSync(join(out, 'runs', 'demo', 'config.json'))).toBe(true);
  });
});
