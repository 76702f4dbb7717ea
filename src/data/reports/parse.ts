/**
 * parseReport: a report's sections and its sentences, each tagged with its section.
 */
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

export function parseReport(text: string): ParsedReport {
  const sections = splitSections(typeof text === 'string' ? text : '');
  const sentences: ReportSentence[] = [];
  for (const [section, body] of Object.entries(sections)) {
    for (const sentence of splitSentences(body)) sentences.push({ text: sentence, section });
  }
  return { sections, sentences };
}
