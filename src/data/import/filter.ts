/**
 * Row filters: `column=value`, `column!=value`, `column~regex`, `column!~regex`. Several filters
 * are ANDed. Values compare case-insensitively after trimming; regexes are case-insensitive.
 */
import { ImportError } from './types.js';

export type RowFilterOp = '=' | '!=' | '~' | '!~';

export interface RowFilter {
  column: string;
  op: RowFilterOp;
  value: string;
}

export type RowFilterInput = string | RowFilter;

/** `column=value` (or `!=`, `~`, `!~`) as a RowFilter. */
export function parseRowFilter(text: string): RowFilter {
  const m = /^([^=!~]+?)\s*(!=|!~|=|~)(.*)$/s.exec(typeof text === 'string' ? text : '');
  if (!m) {
    throw new ImportError(`filter "${String(text)}": expected column=value, column!=value, column~regex or column!~regex`, {
      filter: text,
    });
  }
  return checkRowFilter({ column: (m[1] as string).trim(), op: m[2] as RowFilterOp, value: (m[3] as string).trim() });
}

function checkRowFilter(f: RowFilter): RowFilter {
  const where = `filter ${JSON.stringify(f)}`;
  if (typeof f.column !== 'string' || f.column.trim() === '') throw new ImportError(`${where}: the column is empty`, { filter: f });
  if (!['=', '!=', '~', '!~'].includes(f.op)) throw new ImportError(`${where}: op must be =, !=, ~ or !~`, { filter: f });
  if (typeof f.value !== 'string') throw new ImportError(`${where}: value must be a string`, { filter: f });
  if (f.op === '~' || f.op === '!~') {
    try {
      new RegExp(f.value, 'i');
    } catch (error) {
      throw new ImportError(`${where}: "${f.value}" is not a valid regular expression (${(error as Error).message})`, { filter: f });
    }
  }
  return { column: f.column.trim(), op: f.op, value: f.value };
}

export function toRowFilter(input: RowFilterInput): RowFilter {
  return typeof input === 'string' ? parseRowFilter(input) : checkRowFilter(input);
}

export function formatRowFilter(f: RowFilter): string {
  return `${f.column}${f.op}${f.value}`;
}

/** A predicate over a record's text fields; the first filter that fails is returned for the drop message. */
export function compileRowFilters(filters: readonly RowFilter[]): (field: (column: string) => string) => RowFilter | undefined {
  const tests = filters.map((f) => {
    const wanted = f.value.trim().toLowerCase();
    const regex = f.op === '~' || f.op === '!~' ? new RegExp(f.value, 'i') : undefined;
    const pass = (v: string): boolean => {
      switch (f.op) {
        case '=':
          return v.trim().toLowerCase() === wanted;
        case '!=':
          return v.trim().toLowerCase() !== wanted;
        case '~':
          return (regex as RegExp).test(v);
        case '!~':
          return !(regex as RegExp).test(v);
      }
    };
    return { f, pass };
  });
  return (field) => tests.find(({ f, pass }) => !pass(field(f.column)))?.f;
}
