import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import {
  applyLabelerPolicy,
  formatCsv,
  InvalidArgumentError,
  joinReportColumns,
  LABELER_UNCERTAIN_POLICIES,
  labelReport,
  MissingFileError,
  NOT_MENTIONED_POLICIES,
  OBSERVATIONS,
  parseCsv,
  type LabelValue,
  type Observation,
} from '../../index.js';
import { choiceFlag } from '../flags.js';

interface LabelFlags {
  column: string;
  out: string;
  keepText?: boolean;
  json?: boolean;
  overwrite?: boolean;
  uncertain: string;
  notMentioned: string;
}

/**
 * Where each observation goes in the output: a new column, or (with --overwrite) the input column
 * of that name. Without --overwrite a clashing name becomes `<name>_labeler`, so the output never
 * holds one name twice.
 */
function observationColumns(
  keptHeader: string[],
  overwrite: boolean,
): { header: string[]; at: Map<Observation, number>; renamed: string[] } {
  const header = [...keptHeader];
  const taken = new Set(header.map((h) => h.trim().toLowerCase()));
  const at = new Map<Observation, number>();
  const renamed: string[] = [];
  for (const o of OBSERVATIONS) {
    const existing = header.findIndex((h) => h.trim().toLowerCase() === o.toLowerCase());
    if (existing >= 0 && overwrite) {
      at.set(o, existing);
      continue;
    }
    let name: string = o;
    if (existing >= 0) {
      name = `${o}_labeler`;
      for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${o}_labeler${k}`;
      renamed.push(`${o} -> ${name}`);
    }
    taken.add(name.toLowerCase());
    at.set(o, header.length);
    header.push(name);
  }
  return { header, at, renamed };
}

/** The CSV as UTF-8 text; unreadable, oversized or UTF-16 files are argument errors, not crashes. */
async function readReportsCsv(input: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(input);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(input, 'reports CSV');
    throw new InvalidArgumentError(`${input}: cannot read the reports CSV (${(error as Error).message})`, { path: input });
  }
  // A UTF-16 file decoded as UTF-8 yields NULs between letters and no header matches; say why instead.
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new InvalidArgumentError(`${input}: the reports CSV is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8`, {
      path: input,
    });
  }
  try {
    return bytes.toString('utf8');
  } catch (error) {
    // larger than the longest string V8 can hold
    throw new InvalidArgumentError(
      `${input}: the reports CSV is too large to read as one text (${bytes.length} bytes: ${(error as Error).message})`,
      { path: input },
    );
  }
}

/** Writes through a temporary file so an interrupted run never leaves a half-written output. */
async function writeAtomically(path: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(path, content, { createFolder: false });
  } catch (error) {
    throw new InvalidArgumentError(`--out ${path}: cannot write the labels (${(error as Error).message})`, { path });
  }
}

const cell = (v: LabelValue): string | number => (v === null ? '' : v);

export function registerLabel(program: Command): void {
  program
    .command('label')
    .description('label radiology reports with the 14 CheXpert observations (1 positive, 0 negative, -1 uncertain, empty not mentioned)')
    .argument('<reports>', 'CSV file with one report per row')
    .option('-c, --column <names>', 'comma-separated text column(s) to label, e.g. findings,impression', 'report')
    .requiredOption(
      '-o, --out <file>',
      'output CSV: the input columns (text columns dropped unless --keep-text) plus one column per observation',
    )
    .option('--keep-text', 'keep the text columns in the output')
    .option('--overwrite', 'replace input columns named like an observation (default: write the labels as <name>_labeler)')
    .option('--uncertain <policy>', `uncertain mentions: ${LABELER_UNCERTAIN_POLICIES.join(' | ')} (keep writes -1)`, 'keep')
    .option(
      '--not-mentioned <policy>',
      `observations a report never mentions: ${NOT_MENTIONED_POLICIES.join(' | ')} (negative writes 0)`,
      'missing',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, flags: LabelFlags) => {
      const policy = {
        uncertain: choiceFlag('uncertain', flags.uncertain, LABELER_UNCERTAIN_POLICIES),
        notMentioned: choiceFlag('not-mentioned', flags.notMentioned, NOT_MENTIONED_POLICIES),
      };
      const text = await readReportsCsv(input);
      const rows = parseCsv(text, input);
      if (rows.length === 0) throw new InvalidArgumentError(`${input}: empty file, expected a header row`);
      const header = rows[0] as string[];
      const wanted = flags.column
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const lowerHeader = header.map((h) => h.trim().toLowerCase());
      const textColumns = wanted.map((name) => {
        const index = lowerHeader.indexOf(name.toLowerCase());
        if (index < 0) throw new InvalidArgumentError(`${input}: column "${name}" not found; columns are ${header.join(', ')}`);
        return { name, index };
      });
      const textIndexes = new Set(textColumns.map((c) => c.index));
      const keptIndexes = header.map((_, i) => i).filter((i) => flags.keepText || !textIndexes.has(i));
      const body = rows.slice(1);

      const interactive = Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
      const bar = interactive
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'label [{bar}] {value}/{total} | {rate} reports/s | eta {eta_formatted}', hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(body.length, 0, { rate: '0' });
      const columns = observationColumns(
        keptIndexes.map((i) => header[i] as string),
        flags.overwrite === true,
      );
      const out: Array<Array<string | number>> = [columns.header];
      const positives: Record<string, number> = Object.fromEntries(OBSERVATIONS.map((o) => [o, 0]));
      const started = performance.now();
      const chunk = 2000;
      for (let start = 0; start < body.length; start += chunk) {
        for (const fields of body.slice(start, start + chunk)) {
          if (fields.length !== header.length) {
            throw new InvalidArgumentError(`${input} row ${out.length}: ${fields.length} fields, but the header has ${header.length}`);
          }
          const report = joinReportColumns(textColumns.map(({ name, index }) => ({ column: name, text: fields[index] ?? '' })));
          const labels = applyLabelerPolicy(labelReport(report), policy);
          for (const o of OBSERVATIONS) if (labels[o] === 1) positives[o] = (positives[o] as number) + 1;
          const line: Array<string | number> = keptIndexes.map((i) => fields[i] as string);
          for (const o of OBSERVATIONS) line[columns.at.get(o) as number] = cell(labels[o]);
          out.push(line);
        }
        const done = Math.min(body.length, start + chunk);
        const rate = done / Math.max(1e-9, (performance.now() - started) / 1000);
        bar?.update(done, { rate: rate.toFixed(0) });
        await new Promise((r) => setImmediate(r)); // let the bar draw and signals through
      }
      bar?.stop();
      const seconds = (performance.now() - started) / 1000;
      await writeAtomically(flags.out, formatCsv(out));
      const summary = {
        input,
        out: flags.out,
        reports: body.length,
        seconds,
        reportsPerSec: body.length / Math.max(seconds, 1e-9),
        uncertain: policy.uncertain,
        notMentioned: policy.notMentioned,
        renamed: columns.renamed,
        positives,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `labelled ${summary.reports} reports in ${seconds.toFixed(2)} s (${summary.reportsPerSec.toFixed(0)} reports/s) -> ${flags.out}\n`,
        );
        if (columns.renamed.length > 0)
          process.stdout.write(
            `the input already has observation columns; wrote ${columns.renamed.join(', ')} (--overwrite replaces them)\n`,
          );
        for (const o of OBSERVATIONS) process.stdout.write(`  ${o.padEnd(28)} ${positives[o]} positive\n`);
      }
    });
}
