/**
 * scikit-learn as an oracle: /usr/bin/python3 with sklearn, scipy and numpy (Debian: python3-sklearn).
 * Locally a test skips with the reason when they are missing; under CI (`CI` set, or
 * RADLEARN_REQUIRE_SKLEARN=1, which .ci/run exports) a missing scikit-learn fails instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: string | null | undefined;

/** Why scikit-learn cannot be used here, or null when it can. */
export function sklearnMissing(): string | null {
  if (probed !== undefined) return probed;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import sklearn, scipy, numpy'], { stdio: ['ignore', 'ignore', 'pipe'] });
    probed = null;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim();
    probed = `/usr/bin/python3 with scikit-learn, scipy and numpy is unavailable (${stderr.split('\n').pop()}); Debian: apt-get install python3-sklearn`;
  }
  return probed;
}

/** Whether a missing scikit-learn must fail the suite instead of skipping it. */
export function sklearnRequired(): boolean {
  const ci = process.env.CI;
  return (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') || process.env.RADLEARN_REQUIRE_SKLEARN === '1';
}

/** Runs a Python oracle script on a JSON spec (written to a temporary file) and parses the JSON it prints. */
export function runPythonOracle<T>(script: string, spec: unknown): T {
  const dir = mkdtempSync(join(tmpdir(), 'radlearn-oracle-'));
  try {
    const path = join(dir, 'spec.json');
    writeFileSync(path, JSON.stringify(spec));
    return JSON.parse(
      execFileSync('/usr/bin/python3', [script, path], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
