/**
 * Argument checks for the text API (reports and labeler). These functions are fed whatever
 * a CSV cell, a JSON field or a caller's bug hands them, so a wrong type must surface as an
 * InvalidArgumentError that names the argument, what was expected and what was given, not
 * as a TypeError from deep inside a string method.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ParsedReport } from './parse.js';

/** A short description of any value for an error message: its type and, for small values, the value. Never throws. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  try {
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
    const name: unknown = Object.getPrototypeOf(value) === null ? undefined : (value as object).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name} object` : 'an object';
  } catch {
    return 'an object'; // a proxy or a getter that throws: its type is all we can say
  }
}

/** `value` itself when it is a string; otherwise an InvalidArgumentError naming `caller(argument)`. */
export function requireText(caller: string, argument: string, value: unknown): string {
  if (typeof value === 'string') return value;
  throw new InvalidArgumentError(`${caller}: ${argument} must be a string, got ${describeValue(value)}`, {
    argument,
    got: describeValue(value),
  });
}

/** Checks the part of a ParsedReport that the labeler reads: `sentences`, an array of { text, section } strings. */
export function requireParsedReport(caller: string, argument: string, value: unknown): ParsedReport {
  const fail = (what: string, got: unknown): never => {
    throw new InvalidArgumentError(
      `${caller}: ${argument} must be a report string or a ParsedReport ({ sentences: Array<{ text: string, section: string }> }); ${what}, got ${describeValue(got)}`,
      { argument, got: describeValue(got) },
    );
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected one of those', value);
  const sentences = (value as { sentences?: unknown }).sentences;
  if (!Array.isArray(sentences)) return fail('its sentences must be an array', sentences);
  for (let i = 0; i < sentences.length; i++) {
    const sentence: unknown = sentences[i];
    if (typeof sentence !== 'object' || sentence === null) return fail(`sentences[${i}] must be an object`, sentence);
    const { text, section } = sentence as { text?: unknown; section?: unknown };
    if (typeof text !== 'string') return fail(`sentences[${i}].text must be a string`, text);
    if (typeof section !== 'string') return fail(`sentences[${i}].section must be a string`, section);
  }
  return value as ParsedReport;
}
