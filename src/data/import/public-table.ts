/**
 * Reading the public datasets' tables: plain or gzip-compressed CSV (MIMIC ships `.csv.gz`),
 * the published columns required by name, and the CheXpert label convention
 * (1.0 positive, 0.0 negative, -1.0 uncertain, blank not mentioned) checked cell by cell.
 * Every message names the file, the row (1-based, header not counted) and the column.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InvalidArgumentError } from '../../errors.js';
import { CsvError, parseCsv } from '../manifest/csv.js';
import { ImportError } from './types.js';

const gunzipAsync = promisify(gunzip);

export interface Table {
  path: string;
  /** The file's name, as messages and `source` write it. */
  name: string;
  header: string[];
  /** Data rows; record i is row i + 1. */
  records: string[][];
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The first of `names` that is a file in `dir`, or undefined. */
export async function findFile(dir: string, names: string[]): Promise<string | undefined> {
  for (const name of names) {
    const path = join(dir, name);
    if (await isFile(path)) return path;
  }
  return undefined;
}

/** A file the user named in an option: resolved against `dir`, and it must exist. */
export async function namedFile(dir: string, name: string, option: string): Promise<string> {
  const path = isAbsolute(name) ? name : resolve(dir, name);
  if (!(await isFile(path))) throw new ImportError(`${option}: ${path} is not a file`, { path, option });
  return path;
}

/**
 * parseCsv's result, fast on the tables these datasets publish (hundreds of thousands of rows,
 * few quoted fields): a line without quotes is split on commas natively; a record with quotes
 * (up to the first line end outside quotes) goes through parseCsv. If that record does not
 * parse as one row, the whole text goes through parseCsv, whose error names the exact line.
 */
export function parseRecords(text: string, name: string): string[][] {
  const rows: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // The next quote at or after i (text.length when none): found once, so quote-free text is scanned once.
  let quote = -1;
  const nextQuote = (from: number): number => {
    if (quote < from) {
      quote = text.indexOf('"', from);
      if (quote < 0) quote = text.length;
    }
    return quote;
  };
  while (i < text.length) {
    let end = text.indexOf('\n', i);
    if (end < 0) end = text.length;
    if (nextQuote(i) >= end) {
      const line = text.slice(i, end).replace(/\r/g, '');
      if (line !== '') rows.push(line.split(','));
      i = end + 1;
      continue;
    }
    // A quoted field may hold line ends: the record ends at the first line end after an even number of quotes.
    let open = false;
    let q = nextQuote(i);
    for (;;) {
      for (; q < end; q = nextQuote(q + 1)) open = !open;
      if (!open || end >= text.length) break;
      const next = text.indexOf('\n', end + 1);
      end = next < 0 ? text.length : next;
    }
    let record: string[][];
    try {
      record = parseCsv(text.slice(i, end), name);
    } catch {
      return parseCsv(text, name);
    }
    if (record.length !== 1) return parseCsv(text, name);
    rows.push(record[0] as string[]);
    i = end + 1;
  }
  return rows;
}

export async function readTable(path: string): Promise<Table> {
  const name = basename(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ImportError(`${path}: cannot read (${(error as Error).message})`, { path });
  }
  if (name.toLowerCase().endsWith('.gz')) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (error) {
      throw new ImportError(
        `${path}: not a valid gzip file (${(error as Error).message}); expected a .csv.gz as published, or the plain .csv`,
        {
          path,
        },
      );
    }
  }
  let rows: string[][];
  try {
    rows = parseRecords(bytes.toString('utf8'), name);
  } catch (error) {
    if (error instanceof CsvError) throw new ImportError(error.message, { path, ...error.details });
    throw error;
  }
  const first = rows[0];
  if (!first) throw new ImportError(`${name}: empty file, expected a header row`, { path });
  const header = first.map((h) => h.trim());
  const records = rows.slice(1);
  records.forEach((fields, i) => {
    if (fields.length !== header.length) {
      throw new ImportError(`${name} row ${i + 1}: ${fields.length} fields, but the header has ${header.length}`, { path, row: i + 1 });
    }
  });
  return { path, name, header, records };
}

/** Column name → index for the published columns; a missing one is an ImportError listing what was found. */
export function requireColumns<T extends string>(table: Table, names: readonly T[], what: string): Record<T, number> {
  const indices = {} as Record<T, number>;
  for (const name of names) {
    const index = table.header.indexOf(name);
    if (index < 0) {
      throw new ImportError(
        `${table.name}: column "${name}" is missing; ${what} has the columns ${names.join(', ')} (found: ${table.header.join(', ')})`,
        { path: table.path, column: name },
      );
    }
    indices[name] = index;
  }
  return indices;
}

export const sourceOf = (table: Table, index: number): string => `${table.name} row ${index + 1}`;

/** An ImportError for one cell: file, row, column, the value and what was expected. */
export function cellError(table: Table, index: number, column: string, value: string, expected: string): ImportError {
  return new ImportError(`${table.name} row ${index + 1}, column ${column}: "${value}" is not ${expected}`, {
    path: table.path,
    row: index + 1,
    column,
    value,
  });
}

const LABEL_TEXT = /^-?\d+(?:\.0*)?$/;

/** A CheXpert-convention cell: 1/1.0 → 1, 0/0.0 → 0, -1/-1.0 → -1 (uncertain), blank → null (not mentioned). */
export function parseObservation(table: Table, index: number, column: string, raw: string): number | null {
  const text = raw.trim();
  if (text === '') return null;
  if (LABEL_TEXT.test(text)) {
    const value = Number(text);
    if (value === 1 || value === 0 || value === -1) return value === 0 ? 0 : value; // -0 → 0
  }
  throw cellError(table, index, column, text, 'a label: 1.0 (positive), 0.0 (negative), -1.0 (uncertain) or blank (not mentioned)');
}

/** The `split` option shared by the formats that publish one. */
export function checkSplitOption(value: unknown, fn: string): 'official' | 'none' {
  if (value === undefined) return 'official';
  if (value === 'official' || value === 'none') return value;
  throw new InvalidArgumentError(`${fn}: split must be 'official' or 'none', got ${JSON.stringify(value)}`, { option: 'split' });
}
