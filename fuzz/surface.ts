/**
 * What a fuzz surface is: a deterministic stream of hostile inputs for one part of the public
 * API, and the call that feeds one of them to radlearn. The runner (run.ts) owns processes,
 * watchdogs and the verdicts; a surface only makes cases and runs them.
 *
 * A case must be reproducible from (seed, index) alone, so a failure is reported as the one
 * command that replays it.
 */
export interface FuzzCase {
  /** Short description for the failure list, e.g. "bitflip@1234 of CT_small.dcm". */
  label: string;
}

export interface FuzzSurface<C extends FuzzCase = FuzzCase> {
  readonly name: string;
  /** Runs once per child process before its first case (load corpora, warm caches). */
  setup?(seed: number): Promise<void>;
  /** The index-th case for this seed. */
  makeCase(seed: number, index: number): C | Promise<C>;
  /** Feeds the case to radlearn. Resolving or throwing a RadlearnError are both acceptable outcomes. */
  run(testCase: C): Promise<unknown>;
  /** Milliseconds one case may take before the runner calls it a hang (default 20 000). */
  readonly timeoutMs?: number;
}

/** What one case did. */
export type Verdict = 'ok' | 'typed' | 'untyped' | 'crash' | 'hang';
