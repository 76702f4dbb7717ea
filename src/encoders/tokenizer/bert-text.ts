/**
 * BERT's text normalisation and pre-tokenization, as the BertNormalizer and BertPreTokenizer of a
 * tokenizer.json define them. The WordPiece trainer splits the corpus with these, so the vocabulary
 * it learns is made of exactly the words the tokenizer will later see.
 */

export interface BertNormalizeOptions {
  lowercase: boolean;
  /** Remove combining accents after NFD; BERT ties this to `lowercase` when left undefined. */
  stripAccents?: boolean;
}

const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const WHITESPACE = /\s/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function bertNormalize(text: string, o: BertNormalizeOptions): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch)) continue;
    if (WHITESPACE.test(ch)) out += ' ';
    else if (isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  if (o.lowercase) out = out.toLowerCase();
  if (o.stripAccents ?? o.lowercase) out = out.normalize('NFD').replace(/\p{Mn}/gu, '');
  return out;
}

/** Unicode punctuation plus every ASCII symbol, which BERT treats as punctuation too. */
const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORDS = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');

/** Splits on whitespace; each punctuation character is a word of its own. */
export function bertPreTokenize(text: string): string[] {
  return text.match(WORDS) ?? [];
}
