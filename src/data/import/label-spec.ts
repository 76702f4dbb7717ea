/**
 * Label specs: which source column a label comes from and how its values become 1 / 0 / -1 /
 * missing. One grammar serves the library and the CLI (`--label covid=finding:contains COVID-19`):
 *
 *   <name>=<column>[:<mapping>]
 *   mapping: (empty) | boolean          Y/N, yes/no, true/false, positive/negative, 1/0/-1
 *          | integer                    integer classes as they are (multiclass, ordinal)
 *          | >=N | >N | <=N | <N         numeric threshold: 1 when it holds, else 0
 *          | contains <text>            free text: 1 when it contains <text>, else 0
 *          | matches <regex>            free text: 1 when the regex matches, else 0
 *          | <value>:<target>,...       explicit map; targets are integers or `missing`;
 *                                       `*` is every other value, an empty value the blank cell
 *
 * Matching is case-insensitive. Blank cells (and NA, N/A, NaN, null) are missing unless the
 * explicit map names them. A value no mapping accepts is an ImportError naming file, row, column,
 * value and the spec.
 */
import { ROLE_CANDIDATES } from '../manifest/load.js';
import { ImportError } from './types.js';

export type ThresholdOp = '>=' | '>' | '<=' | '<';

export type LabelMapping =
  | { kind: 'boolean' }
  | { kind: 'integer' }
  | { kind: 'threshold'; op: ThresholdOp; value: number }
  | { kind: 'contains'; text: string }
  | { kind: 'matches'; pattern: string }
  /** Keys are matched case-insensitively after trimming; '' is the blank cell, `otherwise` every other value. */
  | { kind: 'values'; values: Record<string, number | null>; otherwise?: number | null };

export interface LabelSpec {
  /** The label column written to the manifest. */
  name: string;
  /** The source column it is read from. */
  column: string;
  mapping: LabelMapping;
}

/** A label spec as the library accepts it: the spec string, or an object whose mapping may be a mapping string. */
export type LabelSpecInput = string | { name: string; column: string; mapping?: LabelMapping | string };

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null']);
const TRUE_WORDS = new Set(['1', 'y', 'yes', 'true', 't', 'positive', 'pos']);
const FALSE_WORDS = new Set(['0', 'n', 'no', 'false', 'f', 'negative', 'neg']);
const UNCERTAIN_WORDS = new Set(['-1', 'uncertain']);

const GRAMMAR =
  'empty or boolean, integer, >=N / >N / <=N / <N, contains <text>, matches <regex>, or value:target pairs such as a:1,b:0,c:-1,*:missing';

const specError = (spec: string, why: string): ImportError => new ImportError(`label spec "${spec}": ${why}`, { spec });

function parseTarget(spec: string, text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'missing') return null;
  const n = Number(t);
  if (t === '' || !Number.isSafeInteger(n)) throw specError(spec, `target "${text.trim()}" is not an integer class or "missing"`);
  return n;
}

/** The mapping part of a spec (after `column:`). */
export function parseLabelMapping(text: string, spec = text): LabelMapping {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === '' || lower === 'boolean' || lower === 'bool' || lower === 'yn' || lower === 'y/n' || lower === 'yes/no')
    return { kind: 'boolean' };
  if (lower === 'integer' || lower === 'int') return { kind: 'integer' };
  const threshold = /^(>=|<=|>|<)\s*(.*)$/.exec(t);
  if (threshold) {
    const value = Number(threshold[2]);
    if ((threshold[2] as string).trim() === '' || !Number.isFinite(value)) {
      throw specError(spec, `threshold "${t}" needs a number after ${threshold[1]}`);
    }
    return { kind: 'threshold', op: threshold[1] as ThresholdOp, value };
  }
  const contains = /^contains\s+(.+)$/is.exec(t);
  if (contains) return { kind: 'contains', text: (contains[1] as string).trim() };
  const matches = /^matches\s+(.+)$/is.exec(t);
  if (matches) {
    const pattern = (matches[1] as string).trim();
    compileRegex(pattern, spec);
    return { kind: 'matches', pattern };
  }
  if (t.includes(':')) {
    const values: Record<string, number | null> = {};
    let otherwise: number | null | undefined;
    for (const pair of t.split(',')) {
      const at = pair.lastIndexOf(':');
      if (at < 0) throw specError(spec, `"${pair.trim()}" is not a value:target pair`);
      const key = pair.slice(0, at).trim().toLowerCase();
      const target = parseTarget(spec, pair.slice(at + 1));
      if (key === '*') {
        if (otherwise !== undefined) throw specError(spec, 'the value * is mapped twice');
        otherwise = target;
      } else {
        if (Object.hasOwn(values, key)) throw specError(spec, `the value "${key}" is mapped twice`);
        values[key] = target;
      }
    }
    return otherwise === undefined ? { kind: 'values', values } : { kind: 'values', values, otherwise };
  }
  throw specError(spec, `mapping "${t}" is not one of: ${GRAMMAR}`);
}

function compileRegex(pattern: string, spec: string): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch (error) {
    throw specError(spec, `"${pattern}" is not a valid regular expression (${(error as Error).message})`);
  }
}

/** `name=column[:mapping]` as a LabelSpec. */
export function parseLabelSpec(spec: string): LabelSpec {
  if (typeof spec !== 'string')
    throw new ImportError(`a label spec must be a string like "covid=finding:contains COVID-19", got ${typeof spec}`);
  const eq = spec.indexOf('=');
  if (eq < 0) throw specError(spec, 'expected name=column[:mapping], e.g. covid=finding:contains COVID-19');
  const name = spec.slice(0, eq).trim();
  const rest = spec.slice(eq + 1);
  const colon = rest.indexOf(':');
  const column = (colon < 0 ? rest : rest.slice(0, colon)).trim();
  if (name === '') throw specError(spec, 'the label name (before =) is empty');
  if (column === '') throw specError(spec, 'the source column (after =) is empty');
  return { name, column, mapping: parseLabelMapping(colon < 0 ? '' : rest.slice(colon + 1), spec) };
}

/** A spec string or object, checked; the library's structured form and the CLI's string meet here. */
export function toLabelSpec(input: LabelSpecInput): LabelSpec {
  if (typeof input === 'string') return parseLabelSpec(input);
  if (input === null || typeof input !== 'object')
    throw new ImportError(`a label spec must be a string or { name, column, mapping }, got ${String(input)}`);
  const { name, column, mapping } = input;
  const where = JSON.stringify(input);
  if (typeof name !== 'string' || name.trim() === '')
    throw new ImportError(`label spec ${where}: name must be a non-empty string`, { spec: input });
  if (typeof column !== 'string' || column.trim() === '')
    throw new ImportError(`label spec ${where}: column must be a non-empty string`, { spec: input });
  if (mapping === undefined || typeof mapping === 'string')
    return { name: name.trim(), column: column.trim(), mapping: parseLabelMapping(mapping ?? '', where) };
  return { name: name.trim(), column: column.trim(), mapping: checkMapping(mapping, where) };
}

function checkMapping(m: LabelMapping, where: string): LabelMapping {
  const bad = (why: string): ImportError => new ImportError(`label spec ${where}: ${why}`, { spec: where });
  switch (m?.kind) {
    case 'boolean':
    case 'integer':
      return { kind: m.kind };
    case 'threshold':
      if (!['>=', '>', '<=', '<'].includes(m.op)) throw bad(`threshold op must be >=, >, <= or <, got ${String(m.op)}`);
      if (typeof m.value !== 'number' || !Number.isFinite(m.value))
        throw bad(`threshold value must be a finite number, got ${String(m.value)}`);
      return { kind: 'threshold', op: m.op, value: m.value };
    case 'contains':
      if (typeof m.text !== 'string' || m.text.trim() === '') throw bad('contains needs a non-empty text');
      return { kind: 'contains', text: m.text };
    case 'matches':
      if (typeof m.pattern !== 'string' || m.pattern === '') throw bad('matches needs a non-empty pattern');
      compileRegex(m.pattern, where);
      return { kind: 'matches', pattern: m.pattern };
    case 'values': {
      if (m.values === null || typeof m.values !== 'object') throw bad('values must be an object of value → target');
      const values: Record<string, number | null> = {};
      for (const [key, target] of Object.entries(m.values)) {
        if (target !== null && !Number.isSafeInteger(target))
          throw bad(`target of "${key}" must be an integer or null, got ${String(target)}`);
        values[key.trim().toLowerCase()] = target;
      }
      if (m.otherwise !== undefined && m.otherwise !== null && !Number.isSafeInteger(m.otherwise)) {
        throw bad(`otherwise must be an integer or null, got ${String(m.otherwise)}`);
      }
      return m.otherwise === undefined ? { kind: 'values', values } : { kind: 'values', values, otherwise: m.otherwise };
    }
    default:
      throw bad(
        `mapping kind must be boolean, integer, threshold, contains, matches or values, got ${String((m as { kind?: unknown })?.kind)}`,
      );
  }
}

/** The spec in the string grammar (what parseLabelSpec reads back). */
export function formatLabelSpec(spec: LabelSpec): string {
  return `${spec.name}=${spec.column}:${formatMapping(spec.mapping)}`;
}

function formatMapping(m: LabelMapping): string {
  switch (m.kind) {
    case 'boolean':
    case 'integer':
      return m.kind;
    case 'threshold':
      return `${m.op}${m.value}`;
    case 'contains':
      return `contains ${m.text}`;
    case 'matches':
      return `matches ${m.pattern}`;
    case 'values': {
      const target = (v: number | null): string => (v === null ? 'missing' : String(v));
      const pairs = Object.entries(m.values).map(([k, v]) => `${k}:${target(v)}`);
      if (m.otherwise !== undefined) pairs.push(`*:${target(m.otherwise)}`);
      return pairs.join(',');
    }
  }
}

const EXPECTED: Record<LabelMapping['kind'], string> = {
  boolean: 'expected Y/N, yes/no, true/false, positive/negative, 1/0/-1 or blank',
  integer: 'expected an integer class or blank',
  threshold: 'expected a number or blank',
  contains: 'expected text or blank',
  matches: 'expected text or blank',
  values: 'expected one of the mapped values',
};

/** Where a value came from, for messages. */
export interface ValueSource {
  path: string;
  row: number;
}

/** A function from a raw cell to the label value; it throws ImportError naming the source for a value it cannot map. */
export type LabelMapper = (raw: string, source: ValueSource) => number | null;

export function compileLabelSpec(spec: LabelSpec): LabelMapper {
  const m = spec.mapping;
  const fail = (raw: string, source: ValueSource, expected = EXPECTED[m.kind]): ImportError =>
    new ImportError(
      `${source.path} row ${source.row}, column ${spec.column}: value "${raw}" does not fit label ${formatLabelSpec(spec)} (${expected})`,
      { path: source.path, row: source.row, column: spec.column, value: raw, label: spec.name, mapping: formatLabelSpec(spec) },
    );
  const regex = m.kind === 'matches' ? new RegExp(m.pattern, 'i') : undefined;
  const needle = m.kind === 'contains' ? m.text.toLowerCase() : '';
  return (raw, source) => {
    const text = raw.trim();
    const lower = text.toLowerCase();
    if (m.kind === 'values') {
      if (Object.hasOwn(m.values, lower)) return m.values[lower] as number | null;
      if (MISSING_TOKENS.has(lower)) return null;
      if (m.otherwise !== undefined) return m.otherwise;
      throw fail(
        raw,
        source,
        `mapped values are ${Object.keys(m.values)
          .map((k) => (k === '' ? '(blank)' : k))
          .join(', ')}`,
      );
    }
    if (MISSING_TOKENS.has(lower)) return null;
    switch (m.kind) {
      case 'boolean':
        if (TRUE_WORDS.has(lower)) return 1;
        if (FALSE_WORDS.has(lower)) return 0;
        if (UNCERTAIN_WORDS.has(lower)) return -1;
        {
          const n = Number(text);
          if (n === 1 || n === 0 || n === -1) return n;
        }
        throw fail(raw, source);
      case 'integer': {
        const n = Number(text);
        if (!Number.isSafeInteger(n)) throw fail(raw, source);
        return n;
      }
      case 'threshold': {
        const n = Number(text);
        if (!Number.isFinite(n)) throw fail(raw, source);
        const hit = m.op === '>=' ? n >= m.value : m.op === '>' ? n > m.value : m.op === '<=' ? n <= m.value : n < m.value;
        return hit ? 1 : 0;
      }
      case 'contains':
        return lower.includes(needle) ? 1 : 0;
      case 'matches':
        return (regex as RegExp).test(text) ? 1 : 0;
    }
  };
}

/** Column names an imported manifest writes itself or that loadManifest reads as a role; labels may not take them. */
const RESERVED = new Set(
  [
    'image_path',
    'patient_id',
    'study_id',
    'view',
    'split',
    'report_text',
    'report_path',
    'group',
    ...Object.values(ROLE_CANDIDATES).flat(),
  ].map((c) => c.toLowerCase()),
);

/** Label names that a manifest can hold and loadManifest reads back as labels: distinct, not a role, not `meta.*`. */
export function checkLabelNames(names: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '' || name !== name.trim()) {
      throw new ImportError(`${where}: label name ${JSON.stringify(name)} must be non-empty text without leading or trailing spaces`, {
        label: name,
      });
    }
    if (seen.has(name)) throw new ImportError(`${where}: label "${name}" is named twice`, { label: name });
    seen.add(name);
    if (name.toLowerCase().startsWith('meta.')) {
      throw new ImportError(
        `${where}: label "${name}" may not start with "meta." (that prefix marks source fields that are never labels)`,
        {
          label: name,
        },
      );
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new ImportError(
        `${where}: label "${name}" would be read as a manifest role column (image, patient, study, view, split, report, group); choose another name`,
        {
          label: name,
        },
      );
    }
  }
}
