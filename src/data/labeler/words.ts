/**
 * Word distances inside one sentence, for the cue windows ("within 6 words").
 *
 * A word is a run of characters other than ' '. Counting by scanning is O(distance), and a
 * sentence can hold a million mentions each far from its cue, so distances beyond a short
 * scan are read from prefix counts of word starts, built once per sentence on first need.
 */

const SPACE = 32;
/** Distances up to this many characters are counted directly: cheaper than building prefix counts. */
const DIRECT_SCAN_CHARS = 256;

export class WordCounter {
  private prefix: Int32Array | undefined;

  constructor(private readonly text: string) {}

  /** Words that begin in [from, to); a word cut by `from` counts as beginning there. */
  between(from: number, to: number): number {
    if (to <= from) return 0;
    if (to - from <= DIRECT_SCAN_CHARS) return this.scan(from, to);
    const prefix = (this.prefix ??= this.wordStartPrefix());
    const text = this.text;
    const cutWord = from > 0 && text.charCodeAt(from) !== SPACE && text.charCodeAt(from - 1) !== SPACE ? 1 : 0;
    return (prefix[to] as number) - (prefix[from] as number) + cutWord;
  }

  private scan(from: number, to: number): number {
    const text = this.text;
    let words = 0;
    let inWord = false;
    for (let i = from; i < to; i++) {
      const isSpace = text.charCodeAt(i) === SPACE;
      if (!isSpace && !inWord) words++;
      inWord = !isSpace;
    }
    return words;
  }

  /** prefix[p] = number of word starts at offsets < p. */
  private wordStartPrefix(): Int32Array {
    const text = this.text;
    const prefix = new Int32Array(text.length + 1);
    let count = 0;
    let previousIsSpace = true;
    for (let i = 0; i < text.length; i++) {
      const isSpace = text.charCodeAt(i) === SPACE;
      if (!isSpace && previousIsSpace) count++;
      previousIsSpace = isSpace;
      prefix[i + 1] = count;
    }
    return prefix;
  }
}
