/**
 * Which cue reaches a mention: the nearest one before it (looking back through its clause)
 * and the nearest one after it (looking ahead), with the scope rules of cues.ts.
 *
 * Walking the cue list from each mention is quadratic in a long clause ("no A, B, C, ... Z"
 * with a hundred thousand items), so the walk is answered from tables built in one pass over
 * the cues: for each cue index, the nearest earlier cue of each kind that matters. A mention
 * then costs a binary search plus O(1) lookups and word counts.
 */
import type { CueList, CueOrPunct } from './matchers.js';
import type { WordCounter } from './words.js';

/** How far (in words) a hedge before a mention reaches: "possible small left lower lobe opacity". */
const UNCERTAINTY_WINDOW_WORDS = 6;
/** How far a negation before a mention reaches: long enough for "no A, B, C, D, or E". */
const NEGATION_WINDOW_WORDS = 16;
/** How far a post-cue reaches back: "effusion on the left is no longer seen". */
const POST_WINDOW_WORDS = 6;

export type ScopeStatus = 'neg' | 'unc' | null;

/** The role each kind plays in the two walks. */
interface KindRole {
  /** Ends the backward walk whatever lies beyond it. */
  endsBackwardWalk: boolean;
  /** A hedge that reaches forward. */
  forwardHedge: boolean;
  /** Stops a forward hedge from reaching past it. */
  blocksHedge: boolean;
  /** Carries an earlier negation on as uncertainty ("no X to suggest Y"). */
  continuation: boolean;
  /** Stepped over by the forward walk on its way to a post-cue. */
  transparentAfter: boolean;
}

const role = (flags: Partial<KindRole>): KindRole => ({
  endsBackwardWalk: false,
  forwardHedge: false,
  blocksHedge: false,
  continuation: false,
  transparentAfter: false,
  ...flags,
});

const ROLES: Record<CueOrPunct, KindRole> = {
  terminator: role({ endsBackwardWalk: true }),
  pseudo: role({ endsBackwardWalk: true }),
  preNeg: role({ endsBackwardWalk: true }),
  bothNeg: role({ endsBackwardWalk: true }),
  preUnc: role({ forwardHedge: true }),
  bothUnc: role({ forwardHedge: true }),
  comma: role({ blocksHedge: true }),
  uncTerminator: role({ blocksHedge: true, transparentAfter: true }),
  continuation: role({ continuation: true, transparentAfter: true }),
  postNeg: role({}),
  postUnc: role({}),
  assertion: role({}),
};

export class CueScopes {
  private readonly kinds: CueOrPunct[];
  private readonly starts: number[];
  private readonly ends: number[];
  /** Per cue index i: the nearest index <= i of the named role, or -1. */
  private readonly lastWalkEnd: number[] = [];
  private readonly lastHedge: number[] = [];
  private readonly lastHedgeBlock: number[] = [];
  private readonly lastContinuation: number[] = [];
  /** Per cue index i: the first index >= i that the forward walk does not step over (or the cue count). */
  private readonly nextOpaque: number[] = [];

  constructor(
    cues: CueList,
    private readonly words: WordCounter,
  ) {
    this.kinds = cues.kinds;
    this.starts = cues.starts;
    this.ends = cues.ends;
    const n = this.kinds.length;
    let walkEnd = -1;
    let hedge = -1;
    let hedgeBlock = -1;
    let continuation = -1;
    for (let i = 0; i < n; i++) {
      const r = ROLES[this.kinds[i] as CueOrPunct];
      if (r.endsBackwardWalk) walkEnd = i;
      if (r.forwardHedge) hedge = i;
      if (r.blocksHedge) hedgeBlock = i;
      if (r.continuation) continuation = i;
      this.lastWalkEnd.push(walkEnd);
      this.lastHedge.push(hedge);
      this.lastHedgeBlock.push(hedgeBlock);
      this.lastContinuation.push(continuation);
    }
    // Each run of transparent cues points at the opaque cue that ends it.
    let runStart = 0;
    for (let i = 0; i < n; i++) {
      if (ROLES[this.kinds[i] as CueOrPunct].transparentAfter) continue;
      while (runStart <= i) {
        this.nextOpaque.push(i);
        runStart++;
      }
    }
    while (runStart < n) {
      this.nextOpaque.push(n);
      runStart++;
    }
  }

  /**
   * The nearest cue before `anchor` that reaches it. Walking back from the anchor: a hedge
   * applies if it is the nearest hedge, within its window, and no comma or "with" lies
   * between (a farther hedge is then out of reach too); otherwise the first terminator,
   * pseudo-negation or negation ends the walk, a negation applying within its window; a
   * continuation ("to suggest") passed on the way makes the result uncertain instead of nothing.
   */
  before(anchor: number): ScopeStatus {
    // Cues are disjoint and sorted, so those wholly before the anchor are a prefix.
    const last = this.countEndingBy(anchor) - 1;
    if (last < 0) return null;
    const walkEnd = this.lastWalkEnd[last] as number;
    const hedge = this.lastHedge[last] as number;
    if (
      hedge > walkEnd &&
      (this.lastHedgeBlock[last] as number) < hedge &&
      this.words.between(this.ends[hedge] as number, anchor) <= UNCERTAINTY_WINDOW_WORDS
    )
      return 'unc';
    const carried: ScopeStatus = (this.lastContinuation[last] as number) > walkEnd ? 'unc' : null;
    if (walkEnd < 0) return carried;
    switch (this.kinds[walkEnd]) {
      case 'pseudo':
        return null;
      case 'preNeg':
      case 'bothNeg':
        return this.words.between(this.ends[walkEnd] as number, anchor) <= NEGATION_WINDOW_WORDS ? 'neg' : carried;
      default: // terminator
        return carried;
    }
  }

  /** The nearest cue after `end` that reaches back to it, stepping over continuations and "with". */
  after(end: number): ScopeStatus {
    const first = this.firstStartingFrom(end);
    if (first >= this.kinds.length) return null;
    const cue = this.nextOpaque[first] as number;
    if (cue >= this.kinds.length) return null;
    switch (this.kinds[cue]) {
      case 'postNeg':
      case 'bothNeg':
        return this.words.between(end, this.starts[cue] as number) <= POST_WINDOW_WORDS ? 'neg' : null;
      case 'postUnc':
      case 'bothUnc':
        return this.words.between(end, this.starts[cue] as number) <= POST_WINDOW_WORDS ? 'unc' : null;
      default:
        return null; // a new clause, a positive claim, or a cue that looks forward
    }
  }

  /** Number of cues that end at or before `position`. */
  private countEndingBy(position: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] as number) <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first cue starting at or after `position`. */
  private firstStartingFrom(position: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as number) < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
