/**
 * Unicode normalisation of report text before labeling, so that what a reader sees is what the
 * rules match: "ｅｆｆｕｓｉｏｎ" (fullwidth), "eff\u200busion" (a zero-width space), "e\u0301dema"
 * (a combining accent) and "effusion" are one word, and a fullwidth or ideographic full stop ends
 * a sentence like '.'.
 *
 * Steps: CJK sentence and clause punctuation becomes its ASCII form plus a space (NFKC maps "．" to
 * '.' but CJK text puts no space after it, and the sentence splitter needs one); compatibility
 * decomposition (NFKD); invisible format characters and all combining marks are removed; then NFKC.
 * Line and paragraph separators become newlines. Text that is pure ASCII is returned as it is.
 * Every step is one linear pass.
 */

// Ideographic and fullwidth full stops, question and exclamation marks, commas, semicolons and colons.
const CJK_PUNCTUATION = /[\u3002\uFF0E\uFF61\uFF1F\uFF01\uFF0C\u3001\uFF64\uFF1B\uFF1A]/g;
const CJK_TO_ASCII: Record<string, string> = {
  '\u3002': '. ',
  '\uFF0E': '. ',
  '\uFF61': '. ',
  '\uFF1F': '? ',
  '\uFF01': '! ',
  '\uFF0C': ', ',
  '\u3001': ', ',
  '\uFF64': ', ',
  '\uFF1B': '; ',
  '\uFF1A': ': ',
};
/**
 * Soft hyphen, Mongolian vowel separator, zero-width space/joiners, bidi marks and embeddings, word
 * joiner and invisible operators, bidi isolates and deprecated format characters, byte order mark;
 * and every combining mark (\p{M}) once NFKD has split accents from their letters.
 */
const INVISIBLE_OR_MARK = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]|\p{M}/gu;
const LINE_SEPARATORS = /[\u2028\u2029\u0085]/g;
const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7E]/; // also sends ASCII controls down the slow path, harmlessly

/** The text with compatibility forms folded, invisible characters and combining marks removed. */
export function normalizeReportText(text: string): string {
  if (!NOT_PLAIN_ASCII.test(text)) return text;
  return text
    .replace(CJK_PUNCTUATION, (ch) => CJK_TO_ASCII[ch] ?? ch)
    .replace(LINE_SEPARATORS, '\n')
    .normalize('NFKD')
    .replace(INVISIBLE_OR_MARK, '')
    .normalize('NFKC');
}
