/**
 * Which cue reaches a mention, with the scope rules of cues.ts: the nearest cue before it (looking
 * back through its clause) and the nearest cue after it (looking ahead).
 *
 * This stands in for the dependency scope that NegBio and the CheXpert labeler read off a parse.
 * The clause is bounded by punctuation and terminators; inside it, a negation before a mention
 * reaches over a list, a hedge only over its noun phrase, and a cue after a mention reaches back
 * over its noun phrase and over a coordination without a verb of its own ("effusion and
 * pneumothorax are not seen"). A normal statement also reaches over a comma list, but only to a
 * subject: a coordination that starts the clause, with no verb, no "there is", no "and the" and no
 * severity word ("mild cardiomegaly") inside it. That is what the parse gives for "heart size and
 * pulmonary vascularity are within normal limits" and denies to "there is mild cardiomegaly, and the
 * lungs are clear".
 *
 * Walking the cue list from each mention is quadratic in a long clause ("no A, B, C, ... Z"
 * with a hundred thousand items), so the walks are answered from tables built in one pass over
 * the cues: for each cue index, the nearest earlier cue of each kind that matters and the next
 * later cue each forward walk stops at. A mention then costs binary searches plus O(1) lookups
 * and word counts.
 */
import type { CueList, CueOrPunct } from './matchers.js';
import type { WordCounter } from './words.js';

/** How far (in words) a hedge before a mention reaches: "possible small left lower lobe opacity". */
const UNCERTAINTY_WINDOW_WORDS = 6;
/** How far a negation before a mention reaches: long enough for "no A, B, C, D, or E". */
const NEGATION_WINDOW_WORDS = 16;
/** How far a history cue before a mention reaches: "history of right upper lobe lung cancer". */
const HISTORY_WINDOW_WORDS = 8;
/** How far a post-cue reaches back: "effusion on the left is no longer seen". */
const POST_WINDOW_WORDS = 6;
/** How far a normal statement reaches back over a coordinated subject. */
const SUBJECT_WINDOW_WORDS = 16;

/**
 * What reaches a mention from one side: a negation, uncertainty worded with a negation (outranks
 * negation), a hedge (outranked by negation), history (the mention is dropped), or nothing.
 */
export type ScopeStatus = 'neg' | 'uncStrong' | 'unc' | 'hist' | null;

/** The role each kind plays in the walks. */
interface KindRole {
  /** Ends the backward walk whatever lies beyond it. */
  endsBackwardWalk: boolean;
  /** A hedge that reaches forward. */
  forwardHedge: boolean;
  /** Stops a forward hedge from reaching past it. */
  blocksHedge: boolean;
  /** Stops history before it from reaching past it. */
  blocksHistory: boolean;
  /** Carries an earlier negation on as uncertainty ("no X to suggest Y"). */
  continuation: boolean;
  /** Stepped over by the forward walk on its way to a post-cue. */
  transparentAfter: boolean;
  /** Stepped over by the walk from a subject to its normal statement (comma lists and coordinations). */
  transparentSubject: boolean;
  /** May open a subject: the clause's start, or "and the". */
  opensSubject: boolean;
}

const role = (flags: Partial<KindRole>): KindRole => ({
  endsBackwardWalk: false,
  forwardHedge: false,
  blocksHedge: false,
  blocksHistory: false,
  continuation: false,
  transparentAfter: false,
  transparentSubject: false,
  opensSubject: false,
  ...flags,
});

const ROLES: Record<CueOrPunct, KindRole> = {
  terminator: role({ endsBackwardWalk: true, blocksHistory: true, opensSubject: true }),
  existential: role({ endsBackwardWalk: true, blocksHistory: true }),
  pseudo: role({ endsBackwardWalk: true }),
  preNeg: role({ endsBackwardWalk: true }),
  bothNeg: role({ endsBackwardWalk: true }),
  preUncStrong: role({ endsBackwardWalk: true }),
  preHist: role({ endsBackwardWalk: true }),
  bothHist: role({ endsBackwardWalk: true }),
  preUnc: role({ forwardHedge: true }),
  bothUnc: role({ forwardHedge: true }),
  comma: role({ blocksHedge: true, blocksHistory: true, transparentSubject: true }),
  uncTerminator: role({ blocksHedge: true, blocksHistory: true, transparentAfter: true }),
  present: role({ blocksHistory: true, transparentAfter: true }),
  continuation: role({ continuation: true, transparentAfter: true }),
  verb: role({ transparentAfter: true }),
  coord: role({ transparentAfter: true, transparentSubject: true }),
  coordBreak: role({ endsBackwardWalk: true, blocksHistory: true, opensSubject: true }),
  normal: role({ opensSubject: true }),
  normalNear: role({ opensSubject: true }),
  preNormal: role({ opensSubject: true }),
  postNeg: role({}),
  postUnc: role({}),
  postUncStrong: role({}),
  assertion: role({}),
};

/** Severity, size and change words: a finding they qualify is being reported, not called normal. */
const ASSERTED_BEFORE =
  /(?:^|[^a-z])(?:mild(?:ly)?|moderate(?:ly)?|severe(?:ly)?|marked(?:ly)?|small|large|massive|trace|minimal|extensive|stable|persistent|unchanged|new|increas(?:ed|ing)|decreas(?:ed|ing)|improv(?:ed|ing)|worsen(?:ed|ing)|enlarg(?:ed|ing)|residual|known|focal|patchy|diffuse|bilateral|left|right|slight(?:ly)?)(?: [a-z-]+)?\s*$/;
/** Characters read before a mention for that check: two words. */
const ASSERTED_LOOKBEHIND_CHARS = 40;

export class CueScopes {
  private readonly kinds: CueOrPunct[];
  private readonly starts: number[];
  private readonly ends: number[];
  /** Per cue index i: the nearest index <= i of the named role, or -1. */
  private readonly lastWalkEnd: number[] = [];
  private readonly lastHedge: number[] = [];
  private readonly lastHedgeBlock: number[] = [];
  private readonly lastHistoryBlock: number[] = [];
  private readonly lastContinuation: number[] = [];
  private readonly lastNonSubject: number[] = [];
  /** Per cue index i: coordinations and verbs among the cues before i. */
  private readonly coordsBefore: Int32Array;
  private readonly verbsBefore: Int32Array;
  /** Per cue index i: the first index >= i that the post-cue walk (resp. the subject walk) does not step over, or the cue count. */
  private readonly nextOpaqueAfter: Int32Array;
  private readonly nextOpaqueSubject: Int32Array;

  constructor(
    cues: CueList,
    private readonly text: string,
    private readonly words: WordCounter,
  ) {
    this.kinds = cues.kinds;
    this.starts = cues.starts;
    this.ends = cues.ends;
    const n = this.kinds.length;
    this.coordsBefore = new Int32Array(n + 1);
    this.verbsBefore = new Int32Array(n + 1);
    let walkEnd = -1;
    let hedge = -1;
    let hedgeBlock = -1;
    let historyBlock = -1;
    let continuation = -1;
    let nonSubject = -1;
    for (let i = 0; i < n; i++) {
      const kind = this.kinds[i] as CueOrPunct;
      const r = ROLES[kind];
      if (r.endsBackwardWalk) walkEnd = i;
      if (r.forwardHedge) hedge = i;
      if (r.blocksHedge) hedgeBlock = i;
      if (r.blocksHistory) historyBlock = i;
      if (r.continuation) continuation = i;
      if (!r.transparentSubject) nonSubject = i;
      this.lastWalkEnd.push(walkEnd);
      this.lastHedge.push(hedge);
      this.lastHedgeBlock.push(hedgeBlock);
      this.lastHistoryBlock.push(historyBlock);
      this.lastContinuation.push(continuation);
      this.lastNonSubject.push(nonSubject);
      this.coordsBefore[i + 1] = (this.coordsBefore[i] as number) + (kind === 'coord' ? 1 : 0);
      this.verbsBefore[i + 1] = (this.verbsBefore[i] as number) + (kind === 'verb' ? 1 : 0);
    }
    this.nextOpaqueAfter = nextOpaque(this.kinds, (k) => ROLES[k].transparentAfter);
    this.nextOpaqueSubject = nextOpaque(this.kinds, (k) => ROLES[k].transparentSubject);
  }

  /**
   * The cue before `anchor` that reaches it. Walking back from the anchor: a hedge applies if it
   * is the nearest hedge, within its window, and no comma or "with" lies between (a farther hedge
   * is then out of reach too); otherwise the first terminator, pseudo-negation, negation or history
   * cue ends the walk and applies within its window (history only if no comma, "with" or "now" lies
   * between); a continuation ("to suggest") passed on the way makes the result uncertain instead of nothing.
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
    const distance = this.words.between(this.ends[walkEnd] as number, anchor);
    switch (this.kinds[walkEnd]) {
      case 'preNeg':
      case 'bothNeg':
        return distance <= NEGATION_WINDOW_WORDS ? 'neg' : carried;
      case 'preUncStrong':
        return distance <= NEGATION_WINDOW_WORDS ? 'uncStrong' : carried;
      case 'preHist':
      case 'bothHist':
        return (this.lastHistoryBlock[last] as number) < walkEnd && distance <= HISTORY_WINDOW_WORDS ? 'hist' : carried;
      default: // pseudo-negation, terminator, "there is", "and the"
        return carried;
    }
  }

  /**
   * The cue after a mention that reaches back to it. The post-cue walk steps over verbs,
   * continuations, "with" and coordinations, but a coordination and a verb together make a second
   * clause ("effusion has increased and pneumothorax is not seen"). Where it stops at a comma, a
   * normal statement may still reach the mention over a comma list (`subjectNegated`).
   */
  after(start: number, end: number): ScopeStatus {
    const first = this.firstStartingFrom(end);
    const n = this.kinds.length;
    if (first >= n) return null;
    const cue = this.nextOpaqueAfter[first] as number;
    if (cue >= n) return null;
    const kind = this.kinds[cue] as CueOrPunct;
    if (kind === 'comma') return this.subjectNegated(start, end, first) ? 'neg' : null;
    const coordinated = (this.coordsBefore[cue] as number) > (this.coordsBefore[first] as number);
    if (coordinated && (this.verbsBefore[cue] as number) > (this.verbsBefore[first] as number)) return null;
    if (this.words.between(end, this.starts[cue] as number) > POST_WINDOW_WORDS) return null;
    switch (kind) {
      case 'postNeg':
      case 'bothNeg':
        return 'neg';
      case 'postUncStrong':
        return 'uncStrong';
      case 'postUnc':
      case 'bothUnc':
        return 'unc';
      case 'bothHist':
        return 'hist';
      case 'normal':
      case 'normalNear':
        return !coordinated || this.isSubject(start) ? 'neg' : null;
      default:
        return null; // a new clause, a positive claim, or a cue that looks forward
    }
  }

  /**
   * Whether an attributive "normal" reaches the mention at `anchor` over a list of nouns: "normal heart
   * size and mediastinal contours". Callers apply it to bare organs only.
   */
  normalBefore(anchor: number): boolean {
    const last = this.countEndingBy(anchor) - 1;
    if (last < 0) return false;
    const cue = this.lastNonSubject[last] as number;
    return cue >= 0 && this.kinds[cue] === 'preNormal' && this.words.between(this.ends[cue] as number, anchor) <= UNCERTAINTY_WINDOW_WORDS;
  }

  /** Whether a normal statement ("are within normal limits") reaches the mention over a comma list. */
  private subjectNegated(start: number, end: number, first: number): boolean {
    const cue = this.nextOpaqueSubject[first] as number;
    if (cue >= this.kinds.length || this.kinds[cue] !== 'normal') return false;
    return this.words.between(end, this.starts[cue] as number) <= SUBJECT_WINDOW_WORDS && this.isSubject(start);
  }

  /**
   * Whether the mention at `start` can be (part of) the subject of a later normal statement: the
   * nearest cue before it, past commas and coordinations, opens a subject (or there is none), and no
   * severity or change word qualifies it.
   */
  private isSubject(start: number): boolean {
    const last = this.countEndingBy(start) - 1;
    const opener = last < 0 ? -1 : (this.lastNonSubject[last] as number);
    if (opener >= 0 && !ROLES[this.kinds[opener] as CueOrPunct].opensSubject) return false;
    return !ASSERTED_BEFORE.test(this.text.slice(Math.max(0, start - ASSERTED_LOOKBEHIND_CHARS), start));
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

/** For each index, the first index at or after it whose kind is not stepped over (or the count). */
function nextOpaque(kinds: CueOrPunct[], steppedOver: (kind: CueOrPunct) => boolean): Int32Array {
  const n = kinds.length;
  const out = new Int32Array(n);
  let next = n;
  for (let i = n - 1; i >= 0; i--) {
    if (!steppedOver(kinds[i] as CueOrPunct)) next = i;
    out[i] = next;
  }
  return out;
}
