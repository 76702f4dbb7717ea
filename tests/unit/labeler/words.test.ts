import { describe, expect, it } from 'vitest';
import { WordCounter } from '../../../src/data/labeler/words.js';
import { Rng } from '../../../src/random/index.js';

/** The definition: a word starts at a non-space that follows a space or sits at `from`. */
function naiveWordsBetween(text: string, from: number, to: number): number {
  let words = 0;
  let inWord = false;
  for (let i = from; i < to; i++) {
    const isSpace = text[i] === ' ';
    if (!isSpace && !inWord) words++;
    inWord = !isSpace;
  }
  return words;
}

describe('WordCounter', () => {
  it('agrees with a plain scan for short and long distances (prefix counts)', () => {
    const rng = new Rng(7, 'words');
    for (let t = 0; t < 50; t++) {
      const text = Array.from({ length: rng.intBetween(0, 3000) }, () =>
        rng.pick([' ', '  ', 'a', 'no', 'effusion,', '\u200b', 'x'.repeat(rng.int(400))]),
      ).join('');
      const counter = new WordCounter(text);
      for (let k = 0; k < 200; k++) {
        const from = rng.int(text.length + 1);
        const to = from + rng.int(text.length - from + 1);
        expect(counter.between(from, to)).toBe(naiveWordsBetween(text, from, to));
      }
      expect(counter.between(5, 2)).toBe(0);
    }
  });
});
