/**
 * Splits a radiology report into its sections (FINDINGS, IMPRESSION, ...).
 *
 * Headers are recognised from a synonym table, tolerant of case, trailing colons,
 * numbering ("1. FINDINGS:", "II) Impression") and of headers that share a line with
 * their text ("IMPRESSION: No acute process."). Text before the first header is kept
 * under `preamble`, so a report with no headers at all is one unheaded section.
 * Unknown ALL-CAPS headers ending in a colon ("WET READ:") become their own section,
 * named in lower snake case, rather than leaking into the previous section.
 * An indication, comparison or technique section ends at its first blank line: text after it
 * with no header of its own ("INDICATION: cough.\n\nThe lungs are clear.") is the report's
 * unheaded body, kept under `preamble`, not part of the indication.
 */
import { requireText } from './arguments.js';

/** Canonical section names; the keys of `ParsedReport.sections`. */
export const SECTION_NAMES = ['preamble', 'indication', 'comparison', 'technique', 'findings', 'impression'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** Text under no header: before the first one, or after a context section's paragraph. */
export const UNHEADED_SECTION = 'preamble';

/** Sections that state the exam's context in a line or a paragraph, never the report's body. */
const ONE_PARAGRAPH_SECTIONS: ReadonlySet<string> = new Set(['indication', 'comparison', 'technique']);
const PARAGRAPH_BREAK = /\n[ \t]*\n/;

// Header synonyms → canonical section. Longer phrases are tried first so that
// "CLINICAL HISTORY" wins over "HISTORY". A Map, so "CONSTRUCTOR:" finds no Object.prototype member.
const HEADER_SYNONYMS: ReadonlyMap<string, SectionName> = new Map<string, SectionName>([
  ['findings and impression', 'findings'],
  ['findings/impression', 'findings'],
  ['findings', 'findings'],
  ['finding', 'findings'],
  ['report', 'findings'],
  ['impressions', 'impression'],
  ['impression', 'impression'],
  ['conclusions', 'impression'],
  ['conclusion', 'impression'],
  ['opinion', 'impression'],
  ['summary', 'impression'],
  ['interpretation', 'impression'],
  ['indications', 'indication'],
  ['indication', 'indication'],
  ['clinical indication', 'indication'],
  ['clinical information', 'indication'],
  ['clinical history', 'indication'],
  ['clinical details', 'indication'],
  ['clinical data', 'indication'],
  ['history', 'indication'],
  ['reason for exam', 'indication'],
  ['reason for examination', 'indication'],
  ['reason for study', 'indication'],
  ['comparisons', 'comparison'],
  ['comparison', 'comparison'],
  ['comparison studies', 'comparison'],
  ['comparison study', 'comparison'],
  ['prior studies', 'comparison'],
  ['technique', 'technique'],
  ['examination', 'technique'],
  ['exam', 'technique'],
  ['procedure', 'technique'],
  ['study', 'technique'],
  ['type of examination', 'technique'],
]);

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SYNONYM_ALTERNATION = [...HEADER_SYNONYMS.keys()]
  .sort((a, b) => b.length - a.length)
  .map((k) => escapeRegex(k).replace(/ /g, '\\s+'))
  .join('|');

// Optional enumeration in front of a header: "1.", "2)", "IV.", "A)".
const NUMBERING = String.raw`(?:(?:\d{1,2}|[ivx]{1,4}|[a-e])[.)]\s*)?`;

/** A known header at the start of a line: with a colon, or alone on its line. */
const KNOWN_AT_LINE_START = new RegExp(String.raw`^[ \t]*${NUMBERING}(${SYNONYM_ALTERNATION})[ \t]*(?::|-(?=\s)|$)[ \t]*`, 'gim');
/** A known header written in capitals inside a line ("... INDICATION: cough IMPRESSION: ..."). */
const KNOWN_INLINE_CAPS = new RegExp(String.raw`(?<=[\s.;])(${SYNONYM_ALTERNATION.toUpperCase().replace(/\\S/g, '\\s')}):[ \t]*`, 'g');
/** Any other ALL-CAPS header at line start followed by a colon, e.g. "WET READ:". */
const UNKNOWN_CAPS_HEADER = /^[ \t]*([A-Z][A-Z /&]{2,40}[A-Z]):[ \t]*/gm;

interface HeaderHit {
  start: number; // where the header text begins
  bodyStart: number; // where the section's body begins
  name: string;
}

function canonicalName(raw: string): string | undefined {
  return HEADER_SYNONYMS.get(raw.toLowerCase().replace(/\s+/g, ' '));
}

function findHeaders(text: string): HeaderHit[] {
  const hits: HeaderHit[] = [];
  for (const m of text.matchAll(KNOWN_AT_LINE_START)) {
    const name = canonicalName(m[1] as string);
    if (name) hits.push({ start: m.index, bodyStart: m.index + m[0].length, name });
  }
  for (const m of text.matchAll(KNOWN_INLINE_CAPS)) {
    const name = canonicalName(m[1] as string);
    if (name) hits.push({ start: m.index, bodyStart: m.index + m[0].length, name });
  }
  for (const m of text.matchAll(UNKNOWN_CAPS_HEADER)) {
    const raw = (m[1] as string).trim();
    const name =
      canonicalName(raw) ??
      raw
        .toLowerCase()
        .replace(/[^a-z]+/g, '_')
        .replace(/^_|_$/g, '');
    if (name) hits.push({ start: m.index, bodyStart: m.index + m[0].length, name });
  }
  hits.sort((a, b) => a.start - b.start || b.bodyStart - a.bodyStart);
  // Drop hits that start inside an earlier header (the same header found twice).
  const kept: HeaderHit[] = [];
  for (const hit of hits) {
    const last = kept[kept.length - 1];
    if (last && hit.start < last.bodyStart) continue;
    kept.push(hit);
  }
  return kept;
}

/**
 * Section name → section text (trimmed). A section that appears twice is joined
 * with a newline; empty sections are kept as '' so callers can see the header existed.
 * A non-string throws InvalidArgumentError.
 */
export function splitSections(text: string): Record<string, string> {
  const normalized = requireText('splitSections', 'text', text).replace(/\r\n?/g, '\n');
  const headers = findHeaders(normalized);
  const sections: Record<string, string> = {};
  const add = (name: string, body: string): void => {
    const trimmed = body.trim();
    // Own keys only: a header named "CONSTRUCTOR:" must not read Object.prototype.constructor.
    const prior = Object.hasOwn(sections, name) ? sections[name] : undefined;
    sections[name] = prior === undefined || prior === '' ? trimmed : trimmed === '' ? prior : `${prior}\n${trimmed}`;
  };
  const firstStart = headers[0]?.start ?? normalized.length;
  const preamble = normalized.slice(0, firstStart);
  if (preamble.trim() !== '') add(UNHEADED_SECTION, preamble);
  headers.forEach((header, i) => {
    const end = headers[i + 1]?.start ?? normalized.length;
    const body = normalized.slice(header.bodyStart, end);
    const lead = body.length - body.trimStart().length;
    const brk = ONE_PARAGRAPH_SECTIONS.has(header.name) ? PARAGRAPH_BREAK.exec(body.slice(lead)) : null;
    const rest = brk ? body.slice(lead + brk.index + brk[0].length) : '';
    if (brk && rest.trim() !== '') {
      add(header.name, body.slice(0, lead + brk.index));
      add(UNHEADED_SECTION, rest);
    } else add(header.name, body);
  });
  return sections;
}
