/**
 * Candidate sentence ends in a block: a run of '.', '!' or '?' followed by optional closing
 * quotes or brackets and then whitespace or the end of the block ("effusion.) Next").
 *
 * Scanned by hand rather than with /[.!?]+(?=["')\]]*(\s|$))/g: on a run of terminators that
 * is NOT followed by a space ("....x") that regex retries from every character of the run,
 * each try rescanning the rest, which is quadratic. Here every character is read at most twice.
 */

const isTerminatorChar = (ch: number): boolean => ch === 46 /* . */ || ch === 33 /* ! */ || ch === 63; /* ? */
const isCloser = (ch: number): boolean => ch === 34 /* " */ || ch === 39 /* ' */ || ch === 41 /* ) */ || ch === 93; /* ] */
const WHITESPACE = /\s/;

/** A cursor over a block's terminators: call advance() until it returns false, reading the fields after each. */
export class TerminatorScanner {
  /** Offset of the first '.', '!' or '?' of the current run. */
  start = 0;
  /** Offset just past the run. */
  end = 0;
  /** Offset of the next sentence's first character (past closers and whitespace), or the block length. */
  next = 0;
  private position = 0;

  constructor(private readonly block: string) {}

  advance(): boolean {
    const block = this.block;
    const length = block.length;
    let i = this.position;
    while (i < length) {
      if (!isTerminatorChar(block.charCodeAt(i))) {
        i++;
        continue;
      }
      const start = i;
      while (i < length && isTerminatorChar(block.charCodeAt(i))) i++;
      const end = i;
      let after = end;
      while (after < length && isCloser(block.charCodeAt(after))) after++;
      if (after < length && !WHITESPACE.test(block[after] as string)) continue; // "2.5", "e.g.x", "...)x": not an end
      while (after < length && WHITESPACE.test(block[after] as string)) after++;
      this.start = start;
      this.end = end;
      this.next = after;
      this.position = end;
      return true;
    }
    this.position = length;
    return false;
  }
}
