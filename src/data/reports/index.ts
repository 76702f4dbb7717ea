export { parseReport, type ParsedReport, type ReportSentence } from './parse.js';
export { splitSections, SECTION_NAMES, UNHEADED_SECTION, type SectionName } from './sections.js';
export { splitSentences } from './sentences.js';
