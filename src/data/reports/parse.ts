/**
 * parseReport: a report's sections and its sentences, each tagged with its section.
 */
import { requireText } from './arguments.js';
import { splitSections } from './sections.js';
import { splitSentences } from './sentences.js';

export interface ReportSentence {
  text: string;
  /** Canonical section name ('findings', 'impression', 'indication', 'comparison', 'technique', 'preamble', ...). */
  section: string;
}

export interface ParsedReport {
  sections: Record<string, string>;
  sentences: ReportSentence[];
}

/** Sections and sentences of a report. A non-string throws InvalidArgumentError. */
export function parseReport(text: string): ParsedReport {
  const sections = splitSections(requireText('parseReport', 'text', text));
  const sentences: ReportSentence[] = [];
  for (const [section, body] of Object.entries(sections)) {
    for (const sentence of splitSentences(body)) sentences.push({ text: sentence, section });
  }
  return { sections, sentences };
}
