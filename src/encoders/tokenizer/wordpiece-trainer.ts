import { InvalidArgumentError } from '../../errors.js';
import { bertNormalize, bertPreTokenize } from './bert-text.js';
import { Heap } from './heap.js';

export interface WordPieceTrainOptions {
  /** Final vocabulary size including special tokens (default 8000). Training stops earlier when no pair is frequent enough. */
  vocabSize?: number;
  lowercase?: boolean;
  /** Strip accents (default: same as lowercase, as in BERT). */
  stripAccents?: boolean;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  /** Keep only the most frequent characters (default: all); words with other characters become [UNK]. */
  limitAlphabet?: number;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
  /** Special tokens, placed first in the vocabulary in this order. */
  specialTokens?: readonly string[];
}

export const DEFAULT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface ResolvedWordPieceOptions {
  vocabSize: number;
  lowercase: boolean;
  stripAccents: boolean;
  minFrequency: number;
  limitAlphabet: number;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  specialTokens: readonly string[];
}

export function resolveWordPieceOptions(o: WordPieceTrainOptions): ResolvedWordPieceOptions {
  const lowercase = o.lowercase ?? true;
  const r: ResolvedWordPieceOptions = {
    vocabSize: o.vocabSize ?? 8000,
    lowercase,
    stripAccents: o.stripAccents ?? lowercase,
    minFrequency: o.minFrequency ?? 2,
    limitAlphabet: o.limitAlphabet ?? Number.MAX_SAFE_INTEGER,
    continuingSubwordPrefix: o.continuingSubwordPrefix ?? '##',
    maxInputCharsPerWord: o.maxInputCharsPerWord ?? 100,
    specialTokens: o.specialTokens ?? DEFAULT_SPECIAL_TOKENS,
  };
  for (const k of ['vocabSize', 'minFrequency', 'limitAlphabet', 'maxInputCharsPerWord'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1)
      throw new InvalidArgumentError(`WordPiece option ${k} must be a positive integer, got ${r[k]}`, { field: k });
  }
  if (r.continuingSubwordPrefix.length === 0) throw new InvalidArgumentError('WordPiece option continuingSubwordPrefix must not be empty');
  if (new Set(r.specialTokens).size !== r.specialTokens.length)
    throw new InvalidArgumentError(`special tokens must be distinct, got ${JSON.stringify(r.specialTokens)}`);
  return r;
}

interface Word {
  symbols: number[];
  freq: number;
}

const PAIR_BASE = 2 ** 24;
const pairKey = (a: number, b: number): number => a * PAIR_BASE + b;

/**
 * Learns a WordPiece vocabulary the way Hugging Face's WordPiece trainer does: BPE merges over
 * word-internal symbols, where every non-initial symbol carries the continuing prefix ('##').
 * Ties between equally frequent pairs break on the pair's ids, so training is deterministic.
 * Returns the tokens in id order (special tokens first).
 */
export function trainWordPieceVocab(corpus: Iterable<string>, options: WordPieceTrainOptions = {}): string[] {
  const o = resolveWordPieceOptions(options);
  const prefix = o.continuingSubwordPrefix;

  const wordFreq = new Map<string, number>();
  for (const text of corpus) {
    if (typeof text !== 'string') throw new InvalidArgumentError(`the WordPiece corpus must contain strings, got ${typeof text}`);
    for (const w of bertPreTokenize(bertNormalize(text, o))) {
      if ([...w].length <= o.maxInputCharsPerWord) wordFreq.set(w, (wordFreq.get(w) ?? 0) + 1);
    }
  }

  const charFreq = new Map<string, number>();
  for (const [w, f] of wordFreq) for (const ch of w) charFreq.set(ch, (charFreq.get(ch) ?? 0) + f);
  const alphabet = new Set(
    [...charFreq.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, o.limitAlphabet)
      .map(([ch]) => ch),
  );

  const tokens: string[] = [...o.specialTokens];
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const idOf = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };

  // initial symbols: every character form that occurs, in a fixed (sorted) order
  const initial = new Set<string>();
  const wordForms: { forms: string[]; freq: number }[] = [];
  for (const [w, freq] of [...wordFreq.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    const chars = [...w];
    if (!chars.every((c) => alphabet.has(c))) continue;
    const forms = chars.map((c, i) => (i === 0 ? c : prefix + c));
    forms.forEach((f) => initial.add(f));
    wordForms.push({ forms, freq });
  }
  for (const f of [...initial].sort()) idOf(f);
  if (tokens.length > o.vocabSize) {
    throw new InvalidArgumentError(
      `vocabSize ${o.vocabSize} is smaller than the ${o.specialTokens.length} special tokens plus ${initial.size} character forms of the corpus; raise vocabSize or set limitAlphabet`,
      { vocabSize: o.vocabSize, needed: tokens.length },
    );
  }
  const words: Word[] = wordForms.map(({ forms, freq }) => ({ symbols: forms.map((f) => ids.get(f)!), freq }));

  const pairs = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const changed = new Set<number>();
  const bump = (key: number, delta: number, wi: number): void => {
    pairs.set(key, (pairs.get(key) ?? 0) + delta);
    changed.add(key);
    if (delta > 0) {
      let s = where.get(key);
      if (!s) where.set(key, (s = new Set()));
      s.add(wi);
    }
  };
  const countWord = (wi: number, sign: 1 | -1): void => {
    const { symbols, freq } = words[wi]!;
    for (let i = 0; i + 1 < symbols.length; i++) bump(pairKey(symbols[i]!, symbols[i + 1]!), sign * freq, wi);
  };
  words.forEach((_, wi) => countWord(wi, 1));

  const heap = new Heap<{ key: number; count: number }>((x, y) => x.count > y.count || (x.count === y.count && x.key < y.key));
  const flush = (): void => {
    for (const key of changed) {
      const c = pairs.get(key)!;
      if (c > 0) heap.push({ key, count: c });
      else pairs.delete(key);
    }
    changed.clear();
  };
  flush();

  while (tokens.length < o.vocabSize) {
    let best: { key: number; count: number } | undefined;
    while ((best = heap.pop()) && pairs.get(best.key) !== best.count);
    if (!best || best.count < o.minFrequency) break;
    const a = Math.floor(best.key / PAIR_BASE);
    const b = best.key % PAIR_BASE;
    const merged = idOf(tokens[a]! + tokens[b]!.slice(prefix.length));
    for (const wi of where.get(best.key) ?? []) {
      const w = words[wi]!;
      countWord(wi, -1);
      const next: number[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === a && w.symbols[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(w.symbols[i]!);
      }
      w.symbols = next;
      countWord(wi, 1);
    }
    where.delete(best.key);
    flush();
  }
  return tokens;
}
