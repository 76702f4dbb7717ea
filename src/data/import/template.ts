/**
 * Path templates over a row's columns: `images/{patientid}/{filename}`. A name in braces is a
 * column; everything else is literal. A row with a blank referenced column has no path.
 */
import { ImportError } from './types.js';

export interface PathTemplate {
  text: string;
  /** Literal parts and column references in order. */
  parts: Array<{ literal: string } | { column: string }>;
  columns: string[];
}

export const isTemplate = (text: string): boolean => /\{[^{}]+\}/.test(text);

/** Parses the template and checks that every column it names exists. `what` names the option in messages. */
export function parseTemplate(text: string, columns: readonly string[], what: string, file: string): PathTemplate {
  const parts: PathTemplate['parts'] = [];
  const used: string[] = [];
  let at = 0;
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    if (m.index > at) parts.push({ literal: text.slice(at, m.index) });
    const column = (m[1] as string).trim();
    if (column === '') throw new ImportError(`${what} template "${text}": empty {} (name a column inside the braces)`, { template: text });
    if (!columns.includes(column)) {
      throw new ImportError(
        `${file}: ${what} template "${text}" names column "${column}", which is not in the file; columns are ${columns.join(', ')}`,
        {
          path: file,
          column,
        },
      );
    }
    parts.push({ column });
    used.push(column);
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push({ literal: text.slice(at) });
  if (used.length === 0)
    throw new ImportError(`${what} template "${text}" names no column; write columns in braces, e.g. images/{filename}`, {
      template: text,
    });
  if (parts.some((p) => 'literal' in p && /[{}]/.test(p.literal))) {
    throw new ImportError(`${what} template "${text}": unbalanced brace`, { template: text });
  }
  return { text, parts, columns: used };
}

/** The expanded path, or undefined when a referenced column is blank in this row. */
export function expandTemplate(template: PathTemplate, field: (column: string) => string): string | undefined {
  let out = '';
  for (const part of template.parts) {
    if ('literal' in part) out += part.literal;
    else {
      const value = field(part.column).trim();
      if (value === '') return undefined;
      out += value;
    }
  }
  return out;
}
