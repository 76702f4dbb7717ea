/**
 * RFC 4180 CSV: quoted fields with embedded commas, quotes ("") and newlines (reports
 * span lines), CRLF or LF line ends, and a UTF-8 byte-order mark. Hand-written because
 * the parser must report the exact row of a malformed record.
 */
import { RadlearnError } from '../../errors.js';

export class CsvError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_CSV', message, details);
  }
}

const DQUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Parses CSV text into rows of fields. `source` names the file in error messages; `delimiter`
 * is one character (',' by default, '\t' for TSV, ';' for European spreadsheets).
 */
export function parseCsv(text: string, source = 'CSV', delimiter = ','): string[][] {
  if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
    throw new CsvError(`${source}: the delimiter must be one character other than a quote or a line end, got ${JSON.stringify(delimiter)}`);
  }
  const delimiterCode = delimiter.charCodeAt(0);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let quoted = false;
  let fieldStartLine = 1;
  const endField = (): void => {
    row.push(field);
    field = '';
  };
  const endRow = (): void => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row); // skip blank lines
    row = [];
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      // the run up to the next quote in one slice: per-character concatenation made large files slow
      const end = text.indexOf('"', i);
      const stop = end < 0 ? text.length : end;
      for (let n = text.indexOf('\n', i); n >= 0 && n < stop; n = text.indexOf('\n', n + 1)) line++;
      field += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '"') {
      if (field !== '') {
        throw new CsvError(`${source} line ${line}: a quote inside an unquoted field; quote the whole field and double inner quotes`, {
          line,
        });
      }
      quoted = true;
      fieldStartLine = line;
      i++;
      continue;
    }
    if (ch === delimiter) {
      endField();
      i++;
      continue;
    }
    if (ch === '\r') {
      i++;
      continue;
    }
    if (ch === '\n') {
      endRow();
      line++;
      i++;
      continue;
    }
    let stop = i + 1;
    while (stop < text.length) {
      const c = text.charCodeAt(stop);
      if (c === DQUOTE || c === CR || c === LF || c === delimiterCode) break;
      stop++;
    }
    field += text.slice(i, stop);
    i = stop;
  }
  if (quoted) throw new CsvError(`${source}: quoted field opened on line ${fieldStartLine} is never closed`, { line: fieldStartLine });
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

function quoteField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Serialises rows (header first) as CSV with LF line ends. */
export function formatCsv(rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  return rows.map((r) => r.map((v) => quoteField(v === null || v === undefined ? '' : String(v))).join(',')).join('\n') + '\n';
}
