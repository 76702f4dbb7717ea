import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv, InvalidArgumentError, labelReport, MissingFileError, OBSERVATIONS, parseCsv, type LabelValue } from '../../index.js';

interface LabelFlags {
  column: string;
  out: string;
  keepText?: boolean;
  json?: boolean;
}

/** Section headers for well-known text columns, so the labeler knows which part it reads. */
const HEADER_FOR_COLUMN: Record<string, string> = {
  findings: 'FINDINGS',
  impression: 'IMPRESSION',
  indication: 'INDICATION',
  history: 'HISTORY',
  comparison: 'COMPARISON',
  technique: 'TECHNIQUE',
};

function reportText(fields: string[], columns: Array<{ name: string; index: number }>): string {
  if (columns.length === 1) return fields[(columns[0] as { index: number }).index] ?? '';
  return columns
    .map(({ name, index }) => {
      const text = (fields[index] ?? '').trim();
      const header = HEADER_FOR_COLUMN[name.toLowerCase()];
      return text === '' ? '' : header ? `${header}: ${text}` : text;
    })
    .filter(Boolean)
    .join('\n\n');
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
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, flags: LabelFlags) => {
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
      const out: Array<Array<string | number>> = [[...keptIndexes.map((i) => header[i] as string), ...OBSERVATIONS]];
      const positives: Record<string, number> = Object.fromEntries(OBSERVATIONS.map((o) => [o, 0]));
      const started = performance.now();
      const chunk = 2000;
      for (let start = 0; start < body.length; start += chunk) {
        for (const fields of body.slice(start, start + chunk)) {
          if (fields.length !== header.length) {
            throw new InvalidArgumentError(`${input} row ${out.length}: ${fields.length} fields, but the header has ${header.length}`);
          }
          const labels = labelReport(reportText(fields, textColumns));
          for (const o of OBSERVATIONS) if (labels[o] === 1) positives[o] = (positives[o] as number) + 1;
          out.push([...keptIndexes.map((i) => fields[i] as string), ...OBSERVATIONS.map((o) => cell(labels[o]))]);
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
        positives,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `labelled ${summary.reports} reports in ${seconds.toFixed(2)} s (${summary.reportsPerSec.toFixed(0)} reports/s) -> ${flags.out}\n`,
        );
        for (const o of OBSERVATIONS) process.stdout.write(`  ${o.padEnd(28)} ${positives[o]} positive\n`);
      }
    });
}
