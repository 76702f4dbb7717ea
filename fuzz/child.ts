/**
 * One fuzz worker process: runs cases [from, to) of one surface and reports each on stdout,
 * one line per event, written synchronously so the parent knows which case was running if
 * this process dies:
 *   S <index> <label as JSON>          case started
 *   R <index> <verdict> <detail JSON>  case finished (ok | typed | untyped)
 *   E <index> <detail JSON>            an error escaped the case's call (a later callback threw)
 * Usage: node --expose-gc --import tsx fuzz/child.ts <surface> <seed> <from> <to>
 */
import { writeSync } from 'node:fs';
import { RadlearnError } from '../src/errors.js';
import { loadSurface } from './surfaces/index.js';

function line(text: string): void {
  writeSync(1, `${text}\n`);
}

/** A typed error is a RadlearnError with a stable ERR_* code and a message that says something. */
function classify(error: unknown): { verdict: 'typed' | 'untyped'; detail: string } {
  if (error instanceof RadlearnError && /^ERR_[A-Z0-9_]+$/.test(error.code) && error.message.trim() !== '') {
    return { verdict: 'typed', detail: error.code };
  }
  const text =
    error instanceof Error
      ? `${error.name}: ${error.message}\n${(error.stack ?? '').split('\n').slice(1, 6).join('\n')}`
      : `non-Error thrown: ${String(error)}`;
  return { verdict: 'untyped', detail: text.slice(0, 2000) };
}

async function main(): Promise<void> {
  const [name, seedText, fromText, toText] = process.argv.slice(2);
  const seed = Number(seedText);
  const from = Number(fromText);
  const to = Number(toText);
  const surface = await loadSurface(name ?? '');
  await surface.setup?.(seed);
  line(`T ${surface.timeoutMs ?? 20_000}`);
  // An unhandled rejection or exception escaping a case is a failure of that case, not of the runner.
  let current = -1;
  const escape = (error: unknown): void => {
    const { detail } = classify(error);
    line(`E ${current} ${JSON.stringify(`escaped the call (during or just after this case): ${detail}`)}`);
    process.exit(3);
  };
  process.on('uncaughtException', escape);
  process.on('unhandledRejection', escape);
  for (let index = from; index < to; index++) {
    current = index;
    const testCase = await surface.makeCase(seed, index);
    line(`S ${index} ${JSON.stringify(testCase.label)}`);
    try {
      await surface.run(testCase);
      line(`R ${index} ok ""`);
    } catch (error) {
      const { verdict, detail } = classify(error);
      line(`R ${index} ${verdict} ${JSON.stringify(detail)}`);
    }
    // Let timers and I/O the case left behind run now, so their errors are blamed on it.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  line('D');
}

main().catch((error: unknown) => {
  line(`X ${JSON.stringify(error instanceof Error ? (error.stack ?? error.message) : String(error))}`);
  process.exit(2);
});
