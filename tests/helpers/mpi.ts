/**
 * Open MPI's mpirun as the launcher of multi-process tests (Debian: openmpi-bin). Locally a test
 * skips with the reason when it is missing; under CI (`CI` set, or RADLEARN_REQUIRE_MPI=1, which
 * .ci/run exports) a missing mpirun fails instead.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

let probed: string | null | undefined;

/** Why mpirun cannot be used here, or null when it can. */
export function mpirunMissing(): string | null {
  if (probed !== undefined) return probed;
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  probed =
    r.status === 0 && /Open MPI/.test(r.stdout)
      ? null
      : `Open MPI's mpirun is unavailable (${r.error?.message ?? r.stderr.trim()}); Debian: apt-get install openmpi-bin`;
  return probed;
}

/** Whether a missing mpirun must fail the suite instead of skipping it. */
export function mpiRequired(): boolean {
  const ci = process.env.CI;
  return (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') || process.env.RADLEARN_REQUIRE_MPI === '1';
}

/** mpirun's arguments for `ranks` processes of `command` on this machine (more ranks than cores allowed). */
export function mpirunArgs(ranks: number, command: string[]): string[] {
  const asRoot = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  return [...asRoot, '--oversubscribe', '--bind-to', 'none', '-np', String(ranks), ...command];
}

/** The environment mpirun runs in: shared memory between the ranks of one machine. */
export const mpirunEnv = (): NodeJS.ProcessEnv => ({ ...process.env, OMPI_MCA_btl: 'self,vader' });

/** Runs `node --import tsx <script> ...args` as `ranks` MPI processes on this machine. */
export function mpirun(ranks: number, script: string, args: string[] = [], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync('mpirun', mpirunArgs(ranks, [process.execPath, '--import', 'tsx', script, ...args]), {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: mpirunEnv(),
  });
}

/** `radlearn <args>` (the built CLI, dist/) as `ranks` MPI processes. */
export function mpirunCli(ranks: number, args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync('mpirun', mpirunArgs(ranks, [process.execPath, join(repoRoot, 'bin', 'radlearn.js'), ...args]), {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: mpirunEnv(),
  });
}
