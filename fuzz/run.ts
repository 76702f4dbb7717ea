/**
 * The fuzz runner: feeds deterministic hostile inputs to each surface in child processes and
 * fails on any crash (the child died), hang (no verdict within the surface's time limit) or
 * untyped error (anything but a RadlearnError with an ERR_* code).
 *
 *   npm run fuzz                          10 000 cases per surface, seed 20261206
 *   npm run fuzz -- --ci                  the CI subset (counts in CI_COUNTS)
 *   npm run fuzz -- --surface kernels --count 50000 --seed 7 --json out.json
 *   npm run fuzz -- --surface dicom --from 1234 --count 1     replay one case
 *
 * A child that dies or hangs is replaced, and the run continues after the case that killed it,
 * so one bad case never hides the rest.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Verdict } from './surface.js';
import { SURFACE_NAMES } from './surfaces/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_SEED = 20261206;
const DEFAULT_COUNT = 10_000;
/** The CI subset: sized so all surfaces finish in well under 3 minutes on 2 cores. */
const CI_COUNTS: Record<string, number> = { dicom: 2000, image: 2000, kernels: 2500, labeler: 3000 };
const SETUP_TIMEOUT_MS = 120_000;

interface Options {
  surfaces: string[];
  count?: number;
  ci: boolean;
  seed: number;
  from: number;
  jobs: number;
  chunk: number;
  json?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    surfaces: [...SURFACE_NAMES],
    ci: false,
    seed: DEFAULT_SEED,
    from: 0,
    jobs: availableParallelism(),
    chunk: 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const integer = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} must be a non-negative integer`);
      return v;
    };
    switch (flag) {
      case '--surface':
        options.surfaces = value().split(',').filter(Boolean);
        break;
      case '--count':
        options.count = integer();
        break;
      case '--ci':
        options.ci = true;
        break;
      case '--seed':
        options.seed = integer();
        break;
      case '--from':
        options.from = integer();
        break;
      case '--jobs':
        options.jobs = Math.max(1, integer());
        break;
      case '--chunk':
        options.chunk = Math.max(1, integer());
        break;
      case '--json':
        options.json = value();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  for (const s of options.surfaces) {
    if (!(SURFACE_NAMES as readonly string[]).includes(s)) throw new Error(`unknown surface '${s}' (known: ${SURFACE_NAMES.join(', ')})`);
  }
  return options;
}

interface Failure {
  index: number;
  verdict: Verdict;
  label: string;
  detail: string;
}

interface Tally {
  surface: string;
  cases: number;
  counts: Record<Verdict, number>;
  codes: Record<string, number>;
  failures: Failure[];
  seconds: number;
}

const newTally = (surface: string): Tally => ({
  surface,
  cases: 0,
  counts: { ok: 0, typed: 0, untyped: 0, crash: 0, hang: 0 },
  codes: {},
  failures: [],
  seconds: 0,
});

/** Runs cases [from, to) of one surface in one child; resolves with the index to continue from. */
function runChild(surface: string, seed: number, from: number, to: number, tally: Tally): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(here, 'child.ts'), surface, String(seed), String(from), String(to)],
      {
        cwd: join(here, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, RADLEARN_FUZZ: '1' },
      },
    );
    let started = -1;
    let startedLabel = '';
    let finishedTo = from;
    let timeoutMs = SETUP_TIMEOUT_MS;
    let lastProgress = Date.now();
    let hung = false;
    let done = false;
    let pending = '';
    let stderr = '';
    const record = (index: number, verdict: Verdict, label: string, detail: string): void => {
      tally.cases++;
      tally.counts[verdict]++;
      if (verdict === 'typed') tally.codes[detail] = (tally.codes[detail] ?? 0) + 1;
      if (verdict !== 'ok' && verdict !== 'typed') tally.failures.push({ index, verdict, label, detail });
    };
    const onLine = (text: string): void => {
      lastProgress = Date.now();
      const [kind, indexText, ...rest] = text.split(' ');
      const index = Number(indexText);
      if (kind === 'T') timeoutMs = index;
      else if (kind === 'S') {
        started = index;
        startedLabel = JSON.parse(rest.join(' ')) as string;
      } else if (kind === 'R') {
        const verdict = rest[0] as Verdict;
        record(index, verdict, startedLabel, JSON.parse(rest.slice(1).join(' ')) as string);
        started = -1;
        finishedTo = index + 1;
      } else if (kind === 'E') {
        tally.counts.untyped++;
        tally.failures.push({ index, verdict: 'untyped', label: startedLabel, detail: JSON.parse(rest.join(' ')) as string });
      } else if (kind === 'D') done = true;
      else if (kind === 'X') reject(new Error(`fuzz child for ${surface} failed outside any case: ${JSON.parse(text.slice(2)) as string}`));
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > (started >= 0 ? timeoutMs : SETUP_TIMEOUT_MS)) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      if (done && code === 0) return resolve(to);
      if (started >= 0) {
        const how = hung ? `no verdict within ${timeoutMs} ms` : `child exited with ${signal ?? `code ${code}`}`;
        record(started, hung ? 'hang' : 'crash', startedLabel, `${how}\n${stderr.trim().split('\n').slice(-8).join('\n')}`);
        return resolve(started + 1);
      }
      if (code === 3) return resolve(finishedTo); // an error escaped a case; it was recorded
      reject(new Error(`fuzz child for ${surface} exited with ${signal ?? `code ${code}`} between cases\n${stderr}`));
    });
  });
}

async function fuzzSurface(surface: string, options: Options, count: number, jobs: number): Promise<Tally> {
  const tally = newTally(surface);
  const begin = Date.now();
  const end = options.from + count;
  const chunks: Array<[number, number]> = [];
  for (let from = options.from; from < end; from += options.chunk) chunks.push([from, Math.min(end, from + options.chunk)]);
  const worker = async (): Promise<void> => {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
      let [from] = chunk;
      const to = chunk[1];
      while (from < to) from = await runChild(surface, options.seed, from, to, tally);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  tally.seconds = (Date.now() - begin) / 1000;
  tally.failures.sort((a, b) => a.index - b.index);
  return tally;
}

function printTally(t: Tally, seed: number): void {
  const c = t.counts;
  console.log(
    `${t.surface.padEnd(8)} ${String(t.cases).padStart(6)} cases  ok ${c.ok}  typed ${c.typed}  untyped ${c.untyped}  crash ${c.crash}  hang ${c.hang}  (${t.seconds.toFixed(1)} s)`,
  );
  const codes = Object.entries(t.codes)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`);
  if (codes.length > 0) console.log(`         codes: ${codes.join(', ')}`);
  for (const f of t.failures.slice(0, 20)) {
    console.log(
      `  ${f.verdict.toUpperCase()} case ${f.index} (${f.label})\n    replay: npm run fuzz -- --surface ${t.surface} --seed ${seed} --from ${f.index} --count 1\n    ${f.detail.split('\n').join('\n    ')}`,
    );
  }
  if (t.failures.length > 20) console.log(`  ... and ${t.failures.length - 20} more`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tallies: Tally[] = [];
  for (const surface of options.surfaces) {
    const count = options.count ?? (options.ci ? (CI_COUNTS[surface] ?? 1000) : DEFAULT_COUNT);
    const jobs = Math.max(1, Math.min(options.jobs, Math.ceil(count / options.chunk)));
    const tally = await fuzzSurface(surface, options, count, jobs);
    printTally(tally, options.seed);
    tallies.push(tally);
  }
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, from: options.from, tallies }, null, 2)}\n`);
  const failed = tallies.reduce((n, t) => n + t.failures.length, 0);
  console.log(failed === 0 ? 'fuzz: no crash, no hang, no untyped error' : `fuzz: ${failed} failing case(s)`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
